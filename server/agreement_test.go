package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/server"
)

// The agreement figures over real gRPC, from pairs fed to the aggregation
// directly (the store's MarkingPairs is the second-marking work's): the
// lead, QA and analysts get every figure with the report; an inspector
// gets only their own, computed over their own cases, and no report
// figure; nobody else gets anything.
func TestGetReport_AgreementByRole(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t) // T-1 insp.a, T-2 insp.b
	for user, role := range map[string]framework.Role{"lead.l": framework.RoleLead, "qa.q": framework.RoleQA, "an.n": framework.RoleAnalyst} {
		if err := e.srv.DB().AddTeamMember(t.Context(), adminActor, id, user, role); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.srv.DB().CreateUser(t.Context(), adminActor, "outsider", false); err != nil {
		t.Fatal(err)
	}
	p := func(ref, q, first, a, b string) framework.MarkingPair {
		return framework.MarkingPair{CaseRef: ref, QuestionID: q, FirstMarker: first, First: a, SecondMarker: "qa.q", Second: b}
	}
	defer server.FeedMarkingPairs(map[string][]framework.MarkingPair{id: {
		p("T-1", "2.1.1", "insp.a", "yes", "yes"), p("T-1", "2.1.2", "insp.a", "yes", "no"),
		p("T-2", "2.1.1", "insp.b", "no", "no"), p("T-2", "2.1.2", "insp.b", "yes", "yes"), p("T-2", "2.1.3", "insp.b", "na", "no"),
	}})()
	reports := fieldworkv1.NewReportServiceClient(e.conn)
	get := func(user string, req *fieldworkv1.GetReportRequest) (*fieldworkv1.Report, error) {
		resp, err := reports.GetReport(as(context.Background(), e.token(t, user)), req)
		return resp.GetReport(), err
	}
	req := &fieldworkv1.GetReportRequest{InspectionId: id, Agreement: true}

	for _, user := range []string{"lead.l", "qa.q", "an.n"} {
		r, err := get(user, req)
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		a := r.GetAgreement()
		if r.GetAgreementOnly() || r.GetCases() != 2 || len(r.GetQuestions()) == 0 || a.GetOnlyInspector() != "" {
			t.Errorf("%s: report %d cases, agreement_only %v, only %q", user, r.GetCases(), r.GetAgreementOnly(), a.GetOnlyInspector())
		}
		if k := a.GetKeyQuestions(); k.GetCases() != 2 || k.GetPairs() != 5 || k.GetAgree() != 3 || a.GetThreshold() != 0.6 {
			t.Errorf("%s: key questions %+v (threshold %v), want 2 cases, 3 of 5 agree, 0.6", user, k, a.GetThreshold())
		}
		if len(a.GetInspectors()) != 2 || a.GetInspectors()[0].GetInspector() != "insp.a" || a.GetInspectors()[1].GetFigure().GetPairs() != 3 {
			t.Errorf("%s: inspectors %+v", user, a.GetInspectors())
		}
	}

	// insp.a: their own row, question figures over T-1 alone, no report.
	r, err := get("insp.a", req)
	if err != nil {
		t.Fatal(err)
	}
	a := r.GetAgreement()
	if !r.GetAgreementOnly() || r.GetCases() != 0 || len(r.GetQuestions()) != 0 || len(r.GetStandards()) != 0 || len(r.GetCaseProgress()) != 0 || r.GetInspectionName() == "" {
		t.Errorf("insp.a's report carries report figures: %d cases, %d questions, agreement_only %v", r.GetCases(), len(r.GetQuestions()), r.GetAgreementOnly())
	}
	if a.GetOnlyInspector() != "insp.a" || len(a.GetInspectors()) != 1 || a.GetInspectors()[0].GetInspector() != "insp.a" {
		t.Errorf("insp.a sees inspectors %+v", a.GetInspectors())
	}
	if k := a.GetKeyQuestions(); k.GetCases() != 1 || k.GetPairs() != 2 || k.GetAgree() != 1 {
		t.Errorf("insp.a's key-question figure %+v, want T-1's 1 of 2", k)
	}
	for _, q := range a.GetQuestions() {
		if q.GetQuestionId() == "2.1.3" && q.GetFigure().GetPairs() != 0 {
			t.Errorf("insp.a sees 2.1.3's pair, which is insp.b's case: %+v", q)
		}
	}
	// Without --agreement the inspector is refused the report, as before.
	if _, err := get("insp.a", &fieldworkv1.GetReportRequest{InspectionId: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("insp.a's report without agreement: %v, want PermissionDenied", err)
	}
	// Off the team: the same words whether the inspection exists or not.
	_, errReal := get("outsider", req)
	_, errNone := get("outsider", &fieldworkv1.GetReportRequest{InspectionId: "no-such", Agreement: true})
	if status.Code(errReal) != codes.PermissionDenied || strings.ReplaceAll(status.Convert(errReal).Message(), id, "X") != strings.ReplaceAll(status.Convert(errNone).Message(), "no-such", "X") {
		t.Errorf("outsider: %v / %v", errReal, errNone)
	}

	// The threshold is checked, and the figures are one inspection's.
	below := &fieldworkv1.GetReportRequest{InspectionId: id, Agreement: true, AgreementBelow: 0.95, HasAgreementBelow: true}
	if r, err := get("lead.l", below); err != nil || !r.GetAgreement().GetKeyQuestions().GetFlagged() || r.GetAgreement().GetThreshold() != 0.95 {
		t.Errorf("at 0.95: %v, flagged %v", err, r.GetAgreement().GetKeyQuestions().GetFlagged())
	}
	for _, bad := range []*fieldworkv1.GetReportRequest{
		{InspectionId: id, Agreement: true, AgreementBelow: 1.5, HasAgreementBelow: true},
		{InspectionIds: []string{id, id}, Agreement: true},
	} {
		if _, err := get("lead.l", bad); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%+v: %v, want InvalidArgument", bad, err)
		}
	}
}

// The live view shows the agreement table once a case is double-marked,
// and none before.
func TestLiveView_AgreementTable(t *testing.T) {
	l := newLiveEnv(t)
	id := l.inspection(t)
	l.addMember(t, id, "lead.l", string(framework.RoleLead))
	b := l.browser(t)
	signedInTo(t, b.signIn(l.token(t, "lead.l")))
	if _, page := b.do(http.MethodGet, "/inspections/"+id+"/", nil, nil); strings.Contains(page, `id="agreement"`) {
		t.Error("an agreement table before any double marking")
	}
	defer server.FeedMarkingPairs(map[string][]framework.MarkingPair{id: {
		{CaseRef: "T-1", QuestionID: "2.1.1", FirstMarker: "insp.<b>a</b>", First: "yes", SecondMarker: "qa.q", Second: "no"}}})()
	resp, page := b.do(http.MethodGet, "/inspections/"+id+"/", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<h2 id="agreement">`) || !strings.Contains(page, "insp.&lt;b&gt;a&lt;/b&gt;") {
		t.Errorf("live view %d: no agreement table, or the name not escaped", resp.StatusCode)
	}
}
