package server_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/server"
)

// pushOne sends one op on a push stream as token and returns its ack.
func (e *testEnv) pushOne(t *testing.T, token string, op *fieldworkv1.Op) *fieldworkv1.Ack {
	t.Helper()
	stream, err := fieldworkv1.NewSyncServiceClient(e.conn).Push(as(t.Context(), token))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.CloseSend()
	if err := stream.Send(&fieldworkv1.PushRequest{Ops: []*fieldworkv1.Op{op}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetAcks()[0]
}

func writtenOp(insp, item, kind, std, text string, base int64, seq int64) *fieldworkv1.Op {
	return &fieldworkv1.Op{OpId: uuid.Must(uuid.NewV7()).String(), InspectionId: insp, BaseRevision: base, DeviceId: "dev-l", DeviceSeq: seq,
		Written: &fieldworkv1.WrittenOp{ItemId: item, Kind: kind, StandardId: std, Text: text}}
}

// Over the real Push stream: the lead's written items are stored and
// appear in the report; an inspector's are refused with PERMISSION_DENIED
// and nothing of the lead's leaks; the same op twice is a duplicate, the
// same op_id with other text refused; a stale edit with other text is a
// conflict keeping both; a locked inspection refuses and stores nothing.
func TestPushWrittenOps(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.DBPath = filepath.Join(t.TempDir(), "fieldwork.db")
	logs := &syncBuffer{}
	e := newTestServerAt(t, cfg, logs)
	id := e.inspection(t)
	actx := as(t.Context(), e.admin)
	if _, err := fieldworkv1.NewAdminServiceClient(e.conn).AddTeamMember(actx, &fieldworkv1.AddTeamMemberRequest{InspectionId: id, User: "lead.l", Role: "lead"}); err != nil {
		t.Fatal(err)
	}
	lead, inspector := e.token(t, "lead.l"), e.token(t, "insp.a")

	summary := writtenOp(id, "summary", "summary", "", "Requires improvement: private draft", 0, 1)
	ack := e.pushOne(t, lead, summary)
	if ack.GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED || ack.GetWritten().GetText() != summary.GetWritten().GetText() {
		t.Fatalf("lead's summary: %v", ack)
	}
	rec := writtenOp(id, uuid.Must(uuid.NewV7()).String(), "recommendation", "", "Review every plan", 0, 2)
	if a := e.pushOne(t, lead, rec); a.GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED || a.GetWritten().GetNumber() != 0 {
		t.Fatalf("recommendation: %v", a)
	}
	again := e.pushOne(t, lead, summary)
	if !again.GetDuplicate() || again.GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED {
		t.Errorf("re-sent: %v", again)
	}
	reused := writtenOp(id, "summary", "summary", "", "other text", 0, 1)
	reused.OpId = summary.OpId
	if a := e.pushOne(t, lead, reused); a.GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED || codes.Code(a.GetCode()) != codes.InvalidArgument {
		t.Errorf("re-used op_id: %v", a)
	}

	// An inspector: refused, told nothing of the lead's text.
	probe := writtenOp(id, "summary", "summary", "", "mine", 1, 1)
	probe.DeviceId = "dev-a"
	a := e.pushOne(t, inspector, probe)
	if a.GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED || codes.Code(a.GetCode()) != codes.PermissionDenied || a.GetWritten() != nil ||
		a.GetWrittenConflict() != nil || strings.Contains(a.GetReason(), "draft") {
		t.Errorf("inspector's written op: %v", a)
	}
	if _, err := fieldworkv1.NewReportServiceClient(e.conn).GetReport(as(t.Context(), inspector), &fieldworkv1.GetReportRequest{InspectionId: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("inspector's report: %v", err)
	}

	// Another laptop of the lead's, offline on base 0: a conflict, both kept.
	stale := writtenOp(id, "summary", "summary", "", "Inadequate", 0, 1)
	stale.DeviceId = "dev-l2"
	c := e.pushOne(t, lead, stale)
	if c.GetResult() != fieldworkv1.OpResult_OP_RESULT_CONFLICT || c.GetWrittenConflict().GetClientText() != "Inadequate" ||
		c.GetWritten().GetText() != summary.GetWritten().GetText() {
		t.Errorf("stale edit: %v", c)
	}

	rep, err := fieldworkv1.NewReportServiceClient(e.conn).GetReport(as(t.Context(), lead), &fieldworkv1.GetReportRequest{InspectionId: id})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range rep.GetReport().GetWritten() {
		got = append(got, w.GetKind()+":"+w.GetText())
	}
	if strings.Join(got, "|") != "summary:Requires improvement: private draft|recommendation:Review every plan" {
		t.Errorf("report's written items: %v", got)
	}
	if n := rep.GetReport().GetWritten()[1].GetNumber(); n != 1 {
		t.Errorf("recommendation number %d, want 1", n)
	}

	// Locked: refused, nothing stored.
	if _, err := fieldworkv1.NewInspectionServiceClient(e.conn).SetInspectionStatus(as(t.Context(), lead),
		&fieldworkv1.SetInspectionStatusRequest{InspectionId: id, Status: "locked"}); err != nil {
		t.Fatal(err)
	}
	late := writtenOp(id, uuid.Must(uuid.NewV7()).String(), "recommendation", "", "late", 0, 3)
	if a := e.pushOne(t, lead, late); a.GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED || codes.Code(a.GetCode()) != codes.FailedPrecondition {
		t.Errorf("locked: %v", a)
	}
	if _, err := fieldworkv1.NewInspectionServiceClient(e.conn).ImportFindings(as(t.Context(), lead),
		&fieldworkv1.ImportFindingsRequest{InspectionId: id, Csv: []byte("kind,standard_id,text\nrecommendation,,late\n")}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("locked import: %v", err)
	}
	rep, _ = fieldworkv1.NewReportServiceClient(e.conn).GetReport(as(t.Context(), lead), &fieldworkv1.GetReportRequest{InspectionId: id})
	if n := len(rep.GetReport().GetWritten()); n != 2 {
		t.Errorf("%d written items after the locked writes, want 2", n)
	}
	if strings.Contains(logs.String(), "private draft") || strings.Contains(logs.String(), "Review every plan") {
		t.Errorf("the server's log holds written text:\n%s", logs.String())
	}
}
