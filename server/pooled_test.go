package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/fieldworkhq/fieldwork/server"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// pooledFixture makes three inspections with answered cases, one of whose
// answers no longer applies (its case re-imported MAPPA none).
func pooledFixture(t *testing.T, e *testEnv) []string {
	t.Helper()
	ctx := as(t.Context(), e.admin)
	ins := fieldworkv1.NewInspectionServiceClient(e.conn)
	var ids []string
	for i := range 3 {
		id := e.inspection(t)
		ids = append(ids, id)
		var csv strings.Builder
		csv.WriteString("case_ref,question_id,answer,note\n")
		for j, q := range []string{"2.1.1", "2.1.2", "2.2.1", "2.1.1a", "2.3.3f"} {
			fmt.Fprintf(&csv, "T-1,%s,%s,\nT-2,%s,%s,\n", q, []string{"yes", "no"}[(i+j)%2], q, []string{"yes", "no", "na"}[(i*2+j)%3])
		}
		if _, err := ins.ImportAnswers(ctx, &fieldworkv1.ImportAnswersRequest{InspectionId: id, Csv: []byte(strings.NewReplacer("T-1,2.3.3f,yes", "T-1,2.3.3f,na", "T-1,2.3.3f,no", "T-1,2.3.3f,na").Replace(csv.String()))}); err != nil {
			t.Fatal(err)
		}
	}
	// T-2 of the first inspection was MAPPA 2: now none, so its 2.3.3f no longer applies.
	csv := "case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n" +
		"T-2,licence,female,40-49,black,high,none,T,false,insp.b\n"
	if _, err := ins.ImportCases(ctx, &fieldworkv1.ImportCasesRequest{InspectionId: ids[0], Csv: []byte(csv)}); err != nil {
		t.Fatal(err)
	}
	return ids
}

// A pooled report with breakdowns is computed from the kept counts: its
// figures, profile and breakdowns are those of the same report computed
// from every answer, and its per-case sections are there only when asked
// for, then equal to the whole sample's.
func TestGetReport_PooledBreakdownsFromKeptCounts(t *testing.T) {
	e := newTestServer(t)
	ids := pooledFixture(t, e)
	by := []string{"sex", "unit", "sentence_type", "mappa"}
	fw, in, err := e.srv.DB().ReportInput(t.Context(), ids...)
	if err != nil {
		t.Fatal(err)
	}
	want := wire.ReportToProto(aggregate.ComputeWith(fw, in, aggregate.Options{By: by}))
	if len(want.GetNoLongerApplies()) != 1 {
		t.Fatalf("fixture: %d answers that no longer apply, want 1", len(want.GetNoLongerApplies()))
	}
	reports := fieldworkv1.NewReportServiceClient(e.conn)
	for _, caseProgress := range []bool{false, true} {
		resp, err := reports.GetReport(as(t.Context(), e.admin), &fieldworkv1.GetReportRequest{InspectionIds: ids, By: by, CaseProgress: caseProgress})
		if err != nil {
			t.Fatal(err)
		}
		got := resp.GetReport()
		for name, pair := range map[string][2]any{
			"breakdowns": {got.GetBreakdowns(), want.GetBreakdowns()},
			"profile":    {got.GetProfile(), want.GetProfile()},
			"questions":  {got.GetQuestions(), want.GetQuestions()},
			"standards":  {got.GetStandards(), want.GetStandards()},
		} {
			if fmt.Sprint(pair[0]) != fmt.Sprint(pair[1]) {
				t.Errorf("case_progress %v: %s from kept counts =\n%v\nfrom every answer =\n%v", caseProgress, name, pair[0], pair[1])
			}
		}
		if len(got.GetBreakdowns()) != len(by) {
			t.Errorf("%d breakdowns, want %d (unit once)", len(got.GetBreakdowns()), len(by))
		}
		perCase := &fieldworkv1.Report{CaseProgress: got.GetCaseProgress(), InspectorProgress: got.GetInspectorProgress(), NoLongerApplies: got.GetNoLongerApplies()}
		if caseProgress {
			wantPerCase := &fieldworkv1.Report{CaseProgress: want.GetCaseProgress(), InspectorProgress: want.GetInspectorProgress(), NoLongerApplies: want.GetNoLongerApplies()}
			if !proto.Equal(perCase, wantPerCase) {
				t.Errorf("per-case sections asked for =\n%v\nfrom every answer at once =\n%v", perCase, wantPerCase)
			}
		} else if len(got.GetCaseProgress())+len(got.GetInspectorProgress())+len(got.GetNoLongerApplies()) > 0 {
			t.Errorf("per-case sections not asked for, yet sent: %v", perCase)
		}
	}
}

// Pooled reports with per-case sections (the part that reads every answer)
// run one at a time: while one holds the place another waits — here until
// its deadline — and a pooled report without them is not held up.
func TestGetReport_PooledPerCaseOneAtATime(t *testing.T) {
	e := newTestServer(t)
	ids := pooledFixture(t, e)
	reports := fieldworkv1.NewReportServiceClient(e.conn)
	release := server.HoldPerCaseGate()
	ctx, cancel := context.WithTimeout(as(t.Context(), e.admin), 300*time.Millisecond)
	defer cancel()
	if _, err := reports.GetReport(ctx, &fieldworkv1.GetReportRequest{InspectionIds: ids, CaseProgress: true}); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("a second per-case pooled report while one runs: %v, want it to wait (deadline exceeded)", err)
	}
	if _, err := reports.GetReport(as(t.Context(), e.admin), &fieldworkv1.GetReportRequest{InspectionIds: ids, By: []string{"sex"}}); err != nil {
		t.Errorf("a pooled report without per-case sections, meanwhile: %v", err)
	}
	release()
	if _, err := reports.GetReport(as(t.Context(), e.admin), &fieldworkv1.GetReportRequest{InspectionIds: ids, CaseProgress: true}); err != nil {
		t.Errorf("per-case pooled report once the place is free: %v", err)
	}
}
