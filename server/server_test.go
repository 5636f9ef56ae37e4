package server_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/internal/buildinfo"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/server"
)

type testEnv struct {
	srv   *server.Server
	conn  *grpc.ClientConn
	admin string // admin token
}

func newTestServer(tb testing.TB) *testEnv {
	tb.Helper()
	cfg := server.DefaultConfig()
	cfg.DBPath = filepath.Join(tb.TempDir(), "fieldwork.db")
	return newTestServerAt(tb, cfg, io.Discard)
}

func as(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token, buildinfo.ProtocolKey, strconv.Itoa(buildinfo.Protocol))
}

func (e *testEnv) token(tb testing.TB, user string) string {
	tb.Helper()
	tok, _, err := e.srv.DB().IssueToken(context.Background(), adminActor, user, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// inspection creates an inspection and imports two cases, T-1 assigned to
// insp.a and T-2 to insp.b.
func (e *testEnv) inspection(tb testing.TB) string {
	tb.Helper()
	return e.inspectionFor(tb, "insp.a", "insp.b")
}

func (e *testEnv) inspectionFor(tb testing.TB, inspA, inspB string) string {
	tb.Helper()
	ctx := as(context.Background(), e.admin)
	resp, err := fieldworkv1.NewInspectionServiceClient(e.conn).CreateInspection(ctx, &fieldworkv1.CreateInspectionRequest{Name: "T", FrameworkId: "probation-pdu-2023"})
	if err != nil {
		tb.Fatal(err)
	}
	id := resp.GetInspection().GetId()
	csv := "case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n" +
		"T-1,community,male,26-39,white,medium,none,T,false," + inspA + "\n" +
		"T-2,licence,female,40-49,black,high,2,T,false," + inspB + "\n"
	if _, err := fieldworkv1.NewInspectionServiceClient(e.conn).ImportCases(ctx, &fieldworkv1.ImportCasesRequest{InspectionId: id, Csv: []byte(csv)}); err != nil {
		tb.Fatal(err)
	}
	return id
}

func TestHealthNeedsNoToken(t *testing.T) {
	e := newTestServer(t)
	resp, err := healthpb.NewHealthClient(e.conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v; want SERVING", resp, err)
	}
}

func TestEveryRPCNeedsAToken(t *testing.T) {
	e := newTestServer(t)
	_, err := fieldworkv1.NewFrameworkServiceClient(e.conn).ListFrameworks(t.Context(), &fieldworkv1.ListFrameworksRequest{})
	if got := status.Code(err); got != codes.Unauthenticated {
		t.Errorf("ListFrameworks without token: code = %v, want Unauthenticated", got)
	}
	_, err = fieldworkv1.NewFrameworkServiceClient(e.conn).ListFrameworks(as(t.Context(), "fw_wrong"), &fieldworkv1.ListFrameworksRequest{})
	if got := status.Code(err); got != codes.Unauthenticated {
		t.Errorf("ListFrameworks with a wrong token: code = %v, want Unauthenticated", got)
	}
	stream, err := fieldworkv1.NewSyncServiceClient(e.conn).Pull(t.Context(), &fieldworkv1.PullRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	if got := status.Code(err); got != codes.Unauthenticated {
		t.Errorf("Pull without token: code = %v, want Unauthenticated", got)
	}
}

// TestPolicyCoversEveryMethod fails when an RPC is added without an entry in
// the access policy table.
func TestPolicyCoversEveryMethod(t *testing.T) {
	e := newTestServer(t)
	for name, info := range e.srv.GRPC().GetServiceInfo() {
		for _, m := range info.Methods {
			full := "/" + name + "/" + m.Name
			if !server.HasPolicy(full) {
				t.Errorf("method %s has no access policy", full)
			}
		}
	}
}

func TestRecordAnswer_Codes(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	answers := fieldworkv1.NewAnswerServiceClient(e.conn)
	ctx := as(t.Context(), e.admin)
	tests := []struct {
		name     string
		give     *fieldworkv1.RecordAnswerRequest
		wantCode codes.Code
		wantMsg  string
	}{
		{"ok", &fieldworkv1.RecordAnswerRequest{InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: "yes"}, codes.OK, ""},
		{"unknown inspection", &fieldworkv1.RecordAnswerRequest{InspectionId: "nope", CaseRef: "T-1", QuestionId: "2.1.1", Value: "yes"}, codes.NotFound, "nope"},
		{"unknown case", &fieldworkv1.RecordAnswerRequest{InspectionId: id, CaseRef: "T-9", QuestionId: "2.1.1", Value: "yes"}, codes.NotFound, "T-9"},
		{"unknown question", &fieldworkv1.RecordAnswerRequest{InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.7", Value: "yes"}, codes.InvalidArgument, "2.1.7"},
		{"value not allowed", &fieldworkv1.RecordAnswerRequest{InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.2", Value: "sometimes"}, codes.InvalidArgument, "2.1.2"},
		{"not applicable", &fieldworkv1.RecordAnswerRequest{InspectionId: id, CaseRef: "T-1", QuestionId: "2.3.3f", Value: "no"}, codes.InvalidArgument, "mappa"},
		{"stale revision", &fieldworkv1.RecordAnswerRequest{InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: "no", BaseRevision: 0}, codes.Aborted, "conflict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := answers.RecordAnswer(ctx, tt.give)
			if got := status.Code(err); got != tt.wantCode {
				t.Fatalf("RecordAnswer(%v) code = %v (%v), want %v", tt.give, got, err, tt.wantCode)
			}
			if tt.wantMsg != "" && !strings.Contains(status.Convert(err).Message(), tt.wantMsg) {
				t.Errorf("message %q does not name %q", status.Convert(err).Message(), tt.wantMsg)
			}
		})
	}
	list, err := answers.ListAnswers(ctx, &fieldworkv1.ListAnswersRequest{InspectionId: id, CaseRef: "T-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetAnswers()) != 1 || list.GetAnswers()[0].GetValue() != "yes" {
		t.Errorf("answers after the table = %v, want only 2.1.1 = yes", list.GetAnswers())
	}
}

func TestImportAnswers_MalformedCSVNamesTheLine(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	ctx := as(t.Context(), e.admin)
	svc := fieldworkv1.NewInspectionServiceClient(e.conn)
	_, err := svc.ImportAnswers(ctx, &fieldworkv1.ImportAnswersRequest{InspectionId: id,
		Csv: []byte("case_ref,question_id,answer,note\nT-1,2.1.1,yes,\nT-1,2.1.2\n")})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "line 3") {
		t.Fatalf("malformed row: err = %v, want InvalidArgument naming line 3", err)
	}
	list, _ := fieldworkv1.NewAnswerServiceClient(e.conn).ListAnswers(ctx, &fieldworkv1.ListAnswersRequest{InspectionId: id, CaseRef: "T-1"})
	if len(list.GetAnswers()) != 0 {
		t.Errorf("answers stored from a rejected file: %v", list.GetAnswers())
	}
	_, err = svc.ImportAnswers(ctx, &fieldworkv1.ImportAnswersRequest{InspectionId: "missing", Csv: []byte("case_ref,question_id,answer,note\n")})
	if status.Code(err) != codes.NotFound {
		t.Errorf("import into unknown inspection: code = %v, want NotFound", status.Code(err))
	}
}

func TestInspectorWritesOnlyAssignedCases(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	tokA := e.token(t, "insp.a")
	answers := fieldworkv1.NewAnswerServiceClient(e.conn)
	_, err := answers.RecordAnswer(as(t.Context(), tokA), &fieldworkv1.RecordAnswerRequest{InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: "yes"})
	if err != nil {
		t.Fatalf("insp.a writing own case: %v", err)
	}
	_, err = answers.RecordAnswer(as(t.Context(), tokA), &fieldworkv1.RecordAnswerRequest{InspectionId: id, CaseRef: "T-2", QuestionId: "2.1.1", Value: "yes"})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("insp.a writing insp.b's case: code = %v, want PermissionDenied", status.Code(err))
	}
	_, err = fieldworkv1.NewReportServiceClient(e.conn).GetReport(as(t.Context(), tokA), &fieldworkv1.GetReportRequest{InspectionId: id})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("inspector reading the report: code = %v, want PermissionDenied", status.Code(err))
	}
	tokX := e.token(t, "admin") // another admin token works too
	_, err = fieldworkv1.NewReportServiceClient(e.conn).GetReport(as(t.Context(), tokX), &fieldworkv1.GetReportRequest{InspectionId: id})
	if err != nil {
		t.Errorf("admin reading the report: %v", err)
	}
}

func TestPushAndPull(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	ctx := as(t.Context(), e.admin)
	syncc := fieldworkv1.NewSyncServiceClient(e.conn)
	stream, err := syncc.Push(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ops := []*fieldworkv1.Op{
		{OpId: "0195f3a0-0000-7000-8000-000000000001", InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: "yes", DeviceId: "d"},
		{OpId: "0195f3a0-0000-7000-8000-000000000002", InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.9", Value: "yes", DeviceId: "d"},
	}
	for round := 0; round < 2; round++ {
		if err := stream.Send(&fieldworkv1.PushRequest{Ops: ops}); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		acks := resp.GetAcks()
		if len(acks) != 2 || acks[0].GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED || acks[1].GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED {
			t.Fatalf("round %d acks = %v, want applied then rejected", round, acks)
		}
		if acks[0].GetDuplicate() != (round == 1) {
			t.Errorf("round %d duplicate = %v", round, acks[0].GetDuplicate())
		}
	}
	stream.CloseSend()
	pull, err := syncc.Pull(ctx, &fieldworkv1.PullRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	var answers, pages int
	for {
		page, err := pull.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, ch := range page.GetChanges() {
			if a := ch.GetAnswer(); a != nil {
				answers++
				if a.GetValue() != "yes" || a.GetRevision() != 1 {
					t.Errorf("pulled answer %v, want yes at revision 1", a)
				}
			}
		}
	}
	if answers != 1 || pages < 3 {
		t.Errorf("pulled %d answers in %d pages, want 1 answer over several pages", answers, pages)
	}
}

var adminActor = framework.Actor{User: "admin", Device: "test", Admin: true}

func TestOversizedMessageIsRefused(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	big := []byte("case_ref,question_id,answer,note\n" + strings.Repeat("T-1,2.1.1,yes,x\n", 17<<20/16))
	_, err := fieldworkv1.NewInspectionServiceClient(e.conn).ImportAnswers(as(t.Context(), e.admin), &fieldworkv1.ImportAnswersRequest{InspectionId: id, Csv: big})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("17 MiB import: %v, want ResourceExhausted", err)
	}
	list, _ := fieldworkv1.NewAnswerServiceClient(e.conn).ListAnswers(as(t.Context(), e.admin), &fieldworkv1.ListAnswersRequest{InspectionId: id, CaseRef: "T-1"})
	if len(list.GetAnswers()) != 0 {
		t.Errorf("answers stored from a refused message: %v", list.GetAnswers())
	}
}

func TestRevokedTokenIsRefused(t *testing.T) {
	e := newTestServer(t)
	tok := e.token(t, "admin")
	admin := fieldworkv1.NewAdminServiceClient(e.conn)
	if _, err := admin.WhoAmI(as(t.Context(), tok), &fieldworkv1.WhoAmIRequest{}); err != nil {
		t.Fatal(err)
	}
	resp, err := admin.IssueToken(as(t.Context(), e.admin), &fieldworkv1.IssueTokenRequest{User: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RevokeToken(as(t.Context(), e.admin), &fieldworkv1.RevokeTokenRequest{User: "admin", TokenId: resp.GetTokenId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.WhoAmI(as(t.Context(), resp.GetToken()), &fieldworkv1.WhoAmIRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("revoked token: %v, want Unauthenticated", err)
	}
	if _, err := admin.WhoAmI(as(t.Context(), tok), &fieldworkv1.WhoAmIRequest{}); err != nil {
		t.Errorf("another token of the same user stopped working: %v", err)
	}
}

// Batches on one push stream are queued as they arrive, but their acks come
// back in order, and a batch over the op limit ends the stream with
// InvalidArgument after the earlier batches' acks, storing none of its ops.
func TestPushStreamAcksInOrderAndRefusesAnOversizedBatch(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	stream, err := fieldworkv1.NewSyncServiceClient(e.conn).Push(as(t.Context(), e.admin))
	if err != nil {
		t.Fatal(err)
	}
	opAt := func(n int, q string) *fieldworkv1.Op {
		return &fieldworkv1.Op{OpId: fmt.Sprintf("0195f3a0-0000-7000-8000-%012d", n), InspectionId: id, CaseRef: "T-1", QuestionId: q, Value: "yes", DeviceId: "d", DeviceSeq: int64(n)}
	}
	qs := []string{"2.1.1", "2.1.2", "2.1.3"}
	for i, q := range qs { // sent before any ack is read
		if err := stream.Send(&fieldworkv1.PushRequest{Ops: []*fieldworkv1.Op{opAt(i+1, q)}}); err != nil {
			t.Fatal(err)
		}
	}
	big := &fieldworkv1.PushRequest{}
	for i := range server.MaxOpsPerBatch + 1 {
		big.Ops = append(big.Ops, opAt(100+i, "2.2.1"))
	}
	if err := stream.Send(big); err != nil {
		t.Fatal(err)
	}
	for i := range qs {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("ack %d: %v", i, err)
		}
		if a := resp.GetAcks(); len(a) != 1 || a[0].GetOpId() != opAt(i+1, "").GetOpId() || a[0].GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED {
			t.Fatalf("ack %d = %v, want op %d applied", i, a, i+1)
		}
	}
	if _, err := stream.Recv(); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("oversized batch: %v, want InvalidArgument over the limit", err)
	}
	list, err := fieldworkv1.NewAnswerServiceClient(e.conn).ListAnswers(as(t.Context(), e.admin), &fieldworkv1.ListAnswersRequest{InspectionId: id, CaseRef: "T-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(list.GetAnswers()); got != len(qs) {
		t.Errorf("%d answers stored, want the %d of the batches before the oversized one", got, len(qs))
	}
}
