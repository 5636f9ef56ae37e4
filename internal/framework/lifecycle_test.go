package framework

import "testing"

func TestCheckWritable(t *testing.T) {
	for _, tc := range []struct {
		insp InspectionStatus
		ref  string
		cs   CaseStatus
		want string
	}{
		{InspectionFieldwork, "C-1", CaseInProgress, ""},
		{InspectionModeration, "C-1", CaseQAChecked, ""},
		{InspectionPlanning, "", "", ""},
		{InspectionLocked, "", "", "inspection I is locked"},
		{InspectionLocked, "C-1", CaseInProgress, "inspection I is locked"},
		{InspectionFieldwork, "C-1", CaseLocked, "case C-1 is locked"},
		{InspectionFieldwork, "", CaseLocked, ""}, // a write to the inspection, not to the case's answers
	} {
		err := CheckWritable("I", tc.insp, tc.ref, tc.cs)
		if got := errText(err); got != tc.want || err != nil && ErrorCode(err) != CodePrecondition {
			t.Errorf("CheckWritable(%s, %q, %s) = %v, want %q (precondition)", tc.insp, tc.ref, tc.cs, err, tc.want)
		}
	}
}

// The matrix of who may change a case's answers in each case status.
func TestCheckAnswerWrite(t *testing.T) {
	const ok = ""
	statuses := []CaseStatus{CaseNotStarted, CaseInProgress, CaseSubmitted, CaseQAChecked, CaseLocked}
	for _, tc := range []struct {
		role     Role
		assigned bool
		want     []Code // per status, in the order above; "" allowed
	}{
		{RoleInspector, true, []Code{ok, ok, CodePrecondition, CodePrecondition, CodePrecondition}},
		{RoleInspector, false, []Code{CodePermission, CodePermission, CodePrecondition, CodePrecondition, CodePrecondition}},
		{RoleQA, false, []Code{ok, ok, ok, CodePrecondition, CodePrecondition}},
		{RoleLead, false, []Code{ok, ok, ok, ok, CodePrecondition}},
		{RoleAdmin, false, []Code{ok, ok, ok, ok, CodePrecondition}},
		{RoleAnalyst, false, []Code{CodePermission, CodePermission, CodePrecondition, CodePrecondition, CodePrecondition}},
		{"", false, []Code{CodePermission, CodePermission, CodePrecondition, CodePrecondition, CodePrecondition}},
	} {
		for i, st := range statuses {
			err := CheckAnswerWrite(tc.role, tc.assigned, "I", InspectionFieldwork, Case{Ref: "C-1", Status: st})
			if got := ErrorCode(err); got != tc.want[i] {
				t.Errorf("%q (assigned %v) on a %s case: %v, want code %q", tc.role, tc.assigned, st, err, tc.want[i])
			}
		}
		// Nobody writes into a locked inspection.
		if err := CheckAnswerWrite(tc.role, tc.assigned, "I", InspectionLocked, Case{Ref: "C-1", Status: CaseInProgress}); errText(err) != "inspection I is locked" {
			t.Errorf("%q in a locked inspection: %v", tc.role, err)
		}
	}
	if err := CheckAnswerWrite(RoleInspector, false, "I", InspectionFieldwork, Case{Ref: "C-1", Status: CaseInProgress}); errText(err) != "case C-1: case is assigned to another inspector" {
		t.Errorf("another's case: %v", err)
	}
}

func TestAccessRules(t *testing.T) {
	if EffectiveRole(RoleInspector, true) != RoleAdmin || EffectiveRole(RoleQA, false) != RoleQA || EffectiveRole("", false) != "" {
		t.Error("EffectiveRole: an administrator is admin on every inspection; anyone else has their team role")
	}
	for _, tc := range []struct {
		role         Role
		own, others  bool
		readsReports bool
		reads        bool
		writes       bool
		leads        bool
	}{
		{RoleAdmin, true, true, true, true, true, true},
		{RoleLead, true, true, true, true, true, true},
		{RoleQA, true, true, true, true, true, false},
		{RoleAnalyst, true, true, true, true, false, false},
		{RoleInspector, true, false, false, true, true, false},
		{"", false, false, false, false, false, false},
		{"stranger", false, false, false, false, false, false},
	} {
		got := [6]bool{CanSeeCase(tc.role, true), CanSeeCase(tc.role, false), CanReadReport(tc.role), CanReadInspection(tc.role), CanWriteInspection(tc.role), CanLead(tc.role)}
		if want := [6]bool{tc.own, tc.others, tc.readsReports, tc.reads, tc.writes, tc.leads}; got != want {
			t.Errorf("%q: sees own, others', reads reports, reads, writes, leads = %v, want %v", tc.role, got, want)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
