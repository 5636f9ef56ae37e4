package server_test

import (
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
)

// Review 14: GetReport's by list is neither deduplicated nor bounded. Each
// entry is now a breakdown of every figure (~80 rows for the PDU
// framework), so a reader of the report (an analyst included) can make the
// server build and send one per entry: 16 MiB of "sex" is ~3M breakdowns.
// A repeated attribute must be refused or counted once, and the list
// bounded (framework.MaxAttributes, plus unit).
func TestGetReport_ByIsDeduplicatedAndBounded(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	by := make([]string, 2000)
	for i := range by {
		by[i] = "sex"
	}
	resp, err := fieldworkv1.NewReportServiceClient(e.conn).GetReport(as(t.Context(), e.admin), &fieldworkv1.GetReportRequest{InspectionId: id, By: by})
	if err != nil {
		if framework.ErrorCode(rpcerr.FromStatus(err)) != framework.CodeInvalid {
			t.Fatalf("by = 2000 × sex: %.300v; want it refused as invalid, or one breakdown", err)
		}
		return
	}
	if n := len(resp.GetReport().GetBreakdowns()); n > 1 {
		t.Errorf("by = 2000 × sex: %d breakdowns built and sent, want 1 (or refused)", n)
	}
}
