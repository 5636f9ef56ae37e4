package framework

import (
	"strings"
	"testing"
)

func TestCanSeeMarkingValues(t *testing.T) {
	open := &QASelection{QA: "quinn"}
	lifted := &QASelection{QA: "quinn", Lifted: true}
	for _, tc := range []struct {
		name     string
		role     Role
		user     string
		assigned bool
		sel      *QASelection
		side     MarkingSide
		want     bool
	}{
		{"no selection: the inspector sees their answers", RoleInspector, "ines", true, nil, FirstMarking, true},
		{"no selection: there is no second marking", RoleLead, "lee", false, nil, SecondMarking, false},
		{"blind: QA marker does not see the first", RoleQA, "quinn", false, open, FirstMarking, false},
		{"blind: QA marker sees their own", RoleQA, "quinn", false, open, SecondMarking, true},
		{"blind: first marker does not see the second", RoleInspector, "ines", true, open, SecondMarking, false},
		{"blind: first marker sees their own", RoleInspector, "ines", true, open, FirstMarking, true},
		{"blind: lead sees the first", RoleLead, "lee", false, open, FirstMarking, true},
		{"blind: lead sees the second", RoleLead, "lee", false, open, SecondMarking, true},
		{"blind: a lead who is the marker sees both", RoleLead, "quinn", false, open, FirstMarking, true},
		{"blind: admin sees the second", RoleAdmin, "root", false, open, SecondMarking, true},
		{"blind: another QA sees the first", RoleQA, "quill", false, open, FirstMarking, true},
		{"blind: another QA does not see the second", RoleQA, "quill", false, open, SecondMarking, false},
		{"blind: analyst does not see the second", RoleAnalyst, "ana", false, open, SecondMarking, false},
		{"lifted: QA marker sees the first", RoleQA, "quinn", false, lifted, FirstMarking, true},
		{"lifted: first marker sees the second", RoleInspector, "ines", true, lifted, SecondMarking, true},
		{"lifted: another inspector sees nothing", RoleInspector, "ivo", false, lifted, SecondMarking, false},
		{"not on the team", "", "eve", false, lifted, FirstMarking, false},
	} {
		if got := CanSeeMarkingValues(tc.role, tc.user, tc.assigned, tc.sel, tc.side); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCheckQASelect(t *testing.T) {
	for _, tc := range []struct {
		role, qaRole Role
		want         string
	}{
		{RoleLead, RoleQA, ""},
		{RoleAdmin, RoleLead, ""},
		{RoleQA, RoleQA, "only the lead"},
		{RoleLead, RoleInspector, `user "bob" is on the team as inspector`},
		{RoleLead, "", `user "bob" is not on the team`},
	} {
		err := CheckQASelect(tc.role, "I1", "bob", tc.qaRole)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s/%s: %v, want %q", tc.role, tc.qaRole, err, tc.want)
		}
	}
}

func TestCheckMarkingWrite(t *testing.T) {
	sel := &QASelection{QA: "quinn"}
	sub := &QASelection{QA: "quinn", Status: MarkingSubmitted}
	for _, tc := range []struct {
		user string
		st   InspectionStatus
		sel  *QASelection
		code Code
	}{
		{"quinn", InspectionFieldwork, sel, ""},
		{"quill", InspectionFieldwork, sel, CodePrecondition},
		{"quinn", InspectionFieldwork, nil, CodePrecondition},
		{"quinn", InspectionFieldwork, sub, CodePrecondition},
		{"quinn", InspectionLocked, sel, CodePrecondition},
	} {
		if got := ErrorCode(CheckMarkingWrite(tc.user, "I1", "C1", tc.st, tc.sel)); got != tc.code {
			t.Errorf("%+v: code %q, want %q", tc, got, tc.code)
		}
	}
}

func TestQAShare(t *testing.T) {
	for _, tc := range []struct{ n, share, want int }{{0, 10, 0}, {1, 10, 1}, {9, 10, 1}, {10, 10, 1}, {11, 10, 2}, {20, 10, 2}, {3, 100, 3}, {5, 50, 3}} {
		if got := QAShare(tc.n, tc.share); got != tc.want {
			t.Errorf("QAShare(%d, %d) = %d, want %d", tc.n, tc.share, got, tc.want)
		}
	}
}

func TestCheckOp_Marking(t *testing.T) {
	id := "0190b6c5-6a5f-7c3e-8d2a-1b2c3d4e5f60"
	ok := Op{ID: id, InspectionID: "I1", CaseRef: "C1", DeviceID: "d", Marking: &MarkingOp{Submit: true}}
	if err := CheckOp(ok); err != nil {
		t.Fatal(err)
	}
	bad := ok
	bad.Value = "yes"
	if err := CheckOp(bad); err == nil {
		t.Fatal("a submission with a value passed")
	}
	both := ok
	both.Status = &CaseStatusOp{Status: CaseSubmitted}
	if err := CheckOp(both); err == nil {
		t.Fatal("a marking op with a case status passed")
	}
	ans := Op{ID: id, InspectionID: "I1", CaseRef: "C1", QuestionID: "1.1", Value: "yes", DeviceID: "d", Marking: &MarkingOp{}}
	if err := CheckOp(ans); err != nil {
		t.Fatal(err)
	}
	ans.QuestionID = ""
	if err := CheckOp(ans); err == nil {
		t.Fatal("a marking answer without a question passed")
	}
}
