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

// The cases behind a figure, over the API and in the live view: the lead
// (and QA, analysts) get each case with its inspector, value and note; an
// inspector, who may not read the report, gets nothing; hostile input is
// refused naming the field, without being echoed.
func TestListEvidence(t *testing.T) {
	l := newLiveEnv(t)
	id := l.inspection(t) // T-1 insp.a, T-2 insp.b
	l.addMember(t, id, "lead.l", string(framework.RoleLead))
	for _, w := range []struct{ who, ref, value, note string }{{"insp.a", "T-1", "yes", "plan <b>seen</b>"}, {"insp.b", "T-2", "no", "no plan on file"}} {
		acks := l.push(t, l.token(t, w.who), &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: w.ref, QuestionId: "2.1.1",
			Value: w.value, Note: w.note, DeviceId: "dev-" + w.who, DeviceSeq: 1})
		if acks[0].GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED {
			t.Fatalf("setup push: %v", acks[0])
		}
	}
	lead := l.token(t, "lead.l")
	reports := fieldworkv1.NewReportServiceClient(l.conn)
	resp, err := reports.ListEvidence(as(t.Context(), lead), &fieldworkv1.ListEvidenceRequest{InspectionId: id, QuestionId: "2.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	if rows := resp.GetRows(); len(rows) != 2 || rows[0].GetCaseRef() != "T-1" || rows[0].GetInspector() != "insp.a" || rows[0].GetNote() != "plan <b>seen</b>" || rows[1].GetValue() != "no" {
		t.Errorf("rows = %v", rows)
	}
	resp, err = reports.ListEvidence(as(t.Context(), lead), &fieldworkv1.ListEvidenceRequest{InspectionId: id, QuestionId: "2.1.1", Value: "no", Grep: "PLAN"})
	if err != nil || len(resp.GetRows()) != 1 || resp.GetRows()[0].GetCaseRef() != "T-2" {
		t.Errorf("value=no grep=PLAN: %v, %v", resp.GetRows(), err)
	}
	_, err = reports.ListEvidence(as(t.Context(), l.token(t, "insp.a")), &fieldworkv1.ListEvidenceRequest{InspectionId: id, QuestionId: "2.1.1"})
	if framework.ErrorCode(rpcerr.FromStatus(err)) != framework.CodePermission {
		t.Errorf("an inspector listing evidence: %v, want permission denied", err)
	}
	_, err = reports.ListEvidence(as(t.Context(), lead), &fieldworkv1.ListEvidenceRequest{InspectionId: id, QuestionId: strings.Repeat("q", 100000)})
	if framework.ErrorCode(rpcerr.FromStatus(err)) != framework.CodeInvalid || len(err.Error()) > 300 {
		t.Errorf("a 100 kB question id: %.300v", err)
	}

	// The live view links the figure to the same list, notes escaped.
	b := l.browser(t)
	signedInTo(t, b.signIn(lead))
	_, page := b.do(http.MethodGet, "/inspections/"+id+"/", nil, nil)
	if !strings.Contains(page, `href="evidence?question=2.1.1&amp;value=yes"`) {
		t.Error("the live view does not link 2.1.1's Yes count to its cases")
	}
	resp2, list := b.do(http.MethodGet, "/inspections/"+id+"/evidence?question=2.1.1&value=yes", nil, nil)
	if resp2.StatusCode != http.StatusOK || !strings.Contains(list, "T-1") || strings.Contains(list, "T-2") || !strings.Contains(list, "plan &lt;b&gt;seen&lt;/b&gt;") || !strings.Contains(list, "1 case(s)") {
		t.Errorf("evidence page %d:\n%s", resp2.StatusCode, list)
	}
	insp := l.browser(t)
	signedInTo(t, insp.signIn(l.token(t, "insp.a")))
	if resp, _ := insp.do(http.MethodGet, "/inspections/"+id+"/evidence?question=2.1.1", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an inspector's evidence page: %d, want 403", resp.StatusCode)
	}
}
