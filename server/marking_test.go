package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
)

// The blind over the API: a QA marker selected for T-1 gets none of its
// first marking from ListAnswers, evidence or the live view's evidence
// page while another QA user does; selection and moderation are refused
// to those who may not do them.
func TestMarkingService_BlindReadsAndRoles(t *testing.T) {
	l := newLiveEnv(t)
	id := l.inspection(t) // T-1 insp.a, T-2 insp.b
	l.addMember(t, id, "lead.l", string(framework.RoleLead))
	l.addMember(t, id, "qa.q", string(framework.RoleQA))
	l.addMember(t, id, "qa.r", string(framework.RoleQA))
	acks := l.push(t, l.token(t, "insp.a"), &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1",
		Value: "yes", Note: "secret first note", DeviceId: "dev-a", DeviceSeq: 1})
	if acks[0].GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED {
		t.Fatalf("setup: %v", acks[0])
	}
	marking := fieldworkv1.NewMarkingServiceClient(l.conn)
	qaTok, other, lead := l.token(t, "qa.q"), l.token(t, "qa.r"), l.token(t, "lead.l")
	if _, err := marking.SelectForQA(as(t.Context(), qaTok), &fieldworkv1.SelectForQARequest{InspectionId: id, Qa: "qa.q", CaseRefs: []string{"T-1"}}); framework.ErrorCode(rpcerr.FromStatus(err)) != framework.CodePermission {
		t.Errorf("QA selecting: %v", err)
	}
	resp, err := marking.SelectForQA(as(t.Context(), lead), &fieldworkv1.SelectForQARequest{InspectionId: id, Qa: "qa.q", Share: 50, Seed: 3})
	if err != nil || len(resp.GetSelections()) != 2 {
		t.Fatalf("select a share: %v %v", resp, err)
	}
	answers := fieldworkv1.NewAnswerServiceClient(l.conn)
	_, err = answers.ListAnswers(as(t.Context(), qaTok), &fieldworkv1.ListAnswersRequest{InspectionId: id, CaseRef: "T-1"})
	if framework.ErrorCode(rpcerr.FromStatus(err)) != framework.CodePermission || strings.Contains(err.Error(), "secret") {
		t.Errorf("the QA marker's ListAnswers: %v", err)
	}
	if got, err := answers.ListAnswers(as(t.Context(), other), &fieldworkv1.ListAnswersRequest{InspectionId: id, CaseRef: "T-1"}); err != nil || len(got.GetAnswers()) != 1 {
		t.Errorf("another QA's ListAnswers: %v %v", got, err)
	}
	reports := fieldworkv1.NewReportServiceClient(l.conn)
	ev, err := reports.ListEvidence(as(t.Context(), qaTok), &fieldworkv1.ListEvidenceRequest{InspectionId: id, QuestionId: "2.1.1"})
	if err != nil || len(ev.GetRows()) != 0 {
		t.Errorf("the QA marker's evidence: %v %v", ev.GetRows(), err)
	}
	if ev, err := reports.ListEvidence(as(t.Context(), lead), &fieldworkv1.ListEvidenceRequest{InspectionId: id, QuestionId: "2.1.1"}); err != nil || len(ev.GetRows()) != 1 {
		t.Errorf("the lead's evidence: %v %v", ev.GetRows(), err)
	}
	b := l.browser(t)
	signedInTo(t, b.signIn(qaTok))
	if _, page := b.do(http.MethodGet, "/inspections/"+id+"/evidence?question=2.1.1", nil, nil); strings.Contains(page, "secret first note") {
		t.Error("the QA marker's live view evidence page shows the first marking")
	}
	if _, err := marking.ListDisagreements(as(t.Context(), l.token(t, "insp.a")), &fieldworkv1.ListDisagreementsRequest{InspectionId: id, CaseRef: "T-1"}); framework.ErrorCode(rpcerr.FromStatus(err)) != framework.CodePermission {
		t.Errorf("an inspector listing disagreements: %v", err)
	}
	if _, err := marking.ListDisagreements(as(t.Context(), qaTok), &fieldworkv1.ListDisagreementsRequest{InspectionId: id, CaseRef: "T-1"}); framework.ErrorCode(rpcerr.FromStatus(err)) != framework.CodePrecondition {
		t.Errorf("disagreements before both are submitted: %v", err)
	}
	if _, err := marking.ListSelections(as(t.Context(), l.token(t, "insp.b")), &fieldworkv1.ListSelectionsRequest{InspectionId: id}); framework.ErrorCode(rpcerr.FromStatus(err)) != framework.CodePermission {
		t.Errorf("an inspector listing selections: %v", err)
	}
}
