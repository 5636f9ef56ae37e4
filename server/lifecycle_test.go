package server_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

func TestCaseLifecycle(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	admin := fieldworkv1.NewAdminServiceClient(e.conn)
	actx := as(t.Context(), e.admin)
	for user, role := range map[string]string{"lead.l": "lead", "qa.q": "qa"} {
		if _, err := admin.AddTeamMember(actx, &fieldworkv1.AddTeamMemberRequest{InspectionId: id, User: user, Role: role}); err != nil {
			t.Fatal(err)
		}
	}
	insp, qa, lead := as(t.Context(), e.token(t, "insp.a")), as(t.Context(), e.token(t, "qa.q")), as(t.Context(), e.token(t, "lead.l"))
	cases := fieldworkv1.NewInspectionServiceClient(e.conn)
	answers := fieldworkv1.NewAnswerServiceClient(e.conn)
	submit := func(to, reason string, who context.Context) error {
		_, err := cases.SetCaseStatus(who, &fieldworkv1.SetCaseStatusRequest{InspectionId: id, CaseRef: "T-1", Status: to, Reason: reason})
		return err
	}
	write := func(who context.Context, q, v string) error {
		list, _ := answers.ListAnswers(as(t.Context(), e.admin), &fieldworkv1.ListAnswersRequest{InspectionId: id, CaseRef: "T-1"})
		var base int64
		for _, a := range list.GetAnswers() {
			if a.GetQuestionId() == q {
				base = a.GetRevision()
			}
		}
		_, err := answers.RecordAnswer(who, &fieldworkv1.RecordAnswerRequest{InspectionId: id, CaseRef: "T-1", QuestionId: q, Value: v, BaseRevision: base})
		return err
	}
	expect := func(step string, err error, want codes.Code, wantMsg string) {
		t.Helper()
		if status.Code(err) != want || !strings.Contains(status.Convert(err).Message(), wantMsg) {
			t.Fatalf("%s: %v, want %v mentioning %q", step, err, want, wantMsg)
		}
	}

	// Submitting with questions unanswered lists them.
	if err := write(insp, "2.1.1", "yes"); err != nil {
		t.Fatal(err)
	}
	expect("submit incomplete", submit("submitted", "", insp), codes.FailedPrecondition, "64 applicable question(s) unanswered: 2.1.1a, 2.1.1b")
	// Answer everything that applies (T-1 has no MAPPA: 2.3.3f takes only na and is not required).
	for _, q := range allQuestions(t) {
		v := "yes"
		if q == "2.3.S1" {
			v = "2"
		}
		if q == "2.3.3f" {
			continue
		}
		if err := write(insp, q, v); err != nil {
			t.Fatalf("answer %s: %v", q, err)
		}
	}
	expect("submit complete", submit("submitted", "", insp), codes.OK, "")
	expect("inspector writes a submitted case", write(insp, "2.1.1", "no"), codes.FailedPrecondition, "submitted")
	expect("inspector marks QA-checked", submit("qa_checked", "", insp), codes.PermissionDenied, "QA")
	expect("QA returns without a reason", submit("in_progress", "", qa), codes.InvalidArgument, "reason")
	expect("QA returns it", submit("in_progress", "please evidence 2.1.1", qa), codes.OK, "")
	expect("inspector edits again", write(insp, "2.1.1", "no"), codes.OK, "")
	expect("resubmit", submit("submitted", "", insp), codes.OK, "")
	expect("QA checks", submit("qa_checked", "", qa), codes.OK, "")
	expect("QA writes a checked case", write(qa, "2.1.1", "yes"), codes.FailedPrecondition, "QA-checked")
	expect("QA locks", submit("locked", "", qa), codes.PermissionDenied, "lead")
	expect("lead locks", submit("locked", "", lead), codes.OK, "")
	expect("lead writes a locked case", write(lead, "2.1.1", "yes"), codes.FailedPrecondition, "locked")
	expect("lead unlocks without reason", submit("qa_checked", "", lead), codes.InvalidArgument, "reason")
	expect("lead unlocks", submit("qa_checked", "moderation changed 2.1.1", lead), codes.OK, "")

	// Locking the inspection freezes every case, including T-2.
	_, err := cases.SetInspectionStatus(lead, &fieldworkv1.SetInspectionStatusRequest{InspectionId: id, Status: "locked"})
	expect("lock inspection", err, codes.OK, "")
	_, err = answers.RecordAnswer(lead, &fieldworkv1.RecordAnswerRequest{InspectionId: id, CaseRef: "T-2", QuestionId: "2.1.1", Value: "yes"})
	expect("write in a locked inspection", err, codes.FailedPrecondition, "locked")
	_, err = cases.SetInspectionStatus(lead, &fieldworkv1.SetInspectionStatusRequest{InspectionId: id, Status: "fieldwork"})
	expect("unlock without reason", err, codes.InvalidArgument, "reason")
	_, err = cases.SetInspectionStatus(lead, &fieldworkv1.SetInspectionStatusRequest{InspectionId: id, Status: "fieldwork", Reason: "late evidence"})
	expect("unlock", err, codes.OK, "")

	// The audit trail shows each step, with who and why.
	audit, err := fieldworkv1.NewAuditServiceClient(e.conn).ListAudit(lead, &fieldworkv1.ListAuditRequest{InspectionId: id, CaseRef: "T-1"})
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, a := range audit.GetEntries() {
		if a.GetAction() == "case.status" {
			steps = append(steps, a.GetUser()+":"+a.GetAfter())
		}
	}
	joined := strings.Join(steps, " ")
	for _, want := range []string{`qa.q:{"reason":"please evidence 2.1.1","status":"in_progress"}`, `lead.l:{"reason":"moderation changed 2.1.1","status":"qa_checked"}`} {
		if !strings.Contains(joined, want) {
			t.Errorf("audit lacks %s:\n%s", want, joined)
		}
	}
	full, _ := fieldworkv1.NewAuditServiceClient(e.conn).ListAudit(lead, &fieldworkv1.ListAuditRequest{InspectionId: id})
	var unlocked bool
	for _, a := range full.GetEntries() {
		if a.GetAction() == "inspection.status" && strings.Contains(a.GetAfter(), "late evidence") {
			unlocked = true
		}
	}
	if !unlocked {
		t.Error("audit lacks the inspection unlock and its reason")
	}
}

// allQuestions lists the built-in PDU framework's question ids.
func allQuestions(t *testing.T) []string {
	pdu, _, err := framework.BuiltinByID("probation-pdu-2023")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, q := range pdu.Questions() {
		ids = append(ids, q.ID)
	}
	return ids
}
