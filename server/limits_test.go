package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
	"github.com/fieldworkhq/fieldwork/server"
)

// Every limit reached through an RPC is INVALID_ARGUMENT naming the field.
func TestRPCLimits_InvalidArgumentNamingTheField(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	ctx := as(t.Context(), e.admin)
	ins := fieldworkv1.NewInspectionServiceClient(e.conn)
	ans := fieldworkv1.NewAnswerServiceClient(e.conn)
	adm := fieldworkv1.NewAdminServiceClient(e.conn)
	over := func(n int) string { return strings.Repeat("x", n+1) }
	header := "case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n"
	importCases := func(pdu string) error {
		_, err := ins.ImportCases(ctx, &fieldworkv1.ImportCasesRequest{InspectionId: id,
			Csv: []byte(header + "T-9,community,male,26-39,white,medium,none," + pdu + ",false,insp.a\n")})
		return err
	}
	for _, c := range []struct {
		what, want string
		call       func() error
	}{
		{"inspection name", "inspection name is 201 bytes, over the limit of 200", func() error {
			_, err := ins.CreateInspection(ctx, &fieldworkv1.CreateInspectionRequest{Name: over(200), FrameworkId: "probation-pdu-2023"})
			return err
		}},
		{"unit", "unit is 201 bytes, over the limit of 200", func() error {
			_, err := ins.CreateInspection(ctx, &fieldworkv1.CreateInspectionRequest{Name: "N", Unit: over(200), FrameworkId: "probation-pdu-2023"})
			return err
		}},
		// The issue's case: an attribute of 14 MiB would make pull pages no
		// client accepts.
		{"attribute of 14 MiB", "line 2: case T-9: attribute pdu is 14680065 bytes, over the limit of 200", func() error { return importCases(over(14 << 20)) }},
		{"attribute over the limit", "attribute pdu is 201 bytes", func() error { return importCases(over(200)) }},
		{"attribute not UTF-8", "line 2, column 44: pdu is not valid UTF-8 (byte 3 of the field)", func() error { return importCases("Gw\xffent") }},
		{"note", "case T-1 question 2.1.1: note is 8001 bytes, over the limit of 8000", func() error {
			_, err := ans.RecordAnswer(ctx, &fieldworkv1.RecordAnswerRequest{InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: "yes", Note: over(8000)})
			return err
		}},
		{"device id", "device_id is 129 bytes, over the limit of 128", func() error {
			_, err := ans.RecordAnswer(ctx, &fieldworkv1.RecordAnswerRequest{InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: "yes", DeviceId: over(128)})
			return err
		}},
		{"device id characters", `device_id "laptop\u202e1" may hold only printable ASCII without spaces`, func() error {
			_, err := ins.ImportCases(ctx, &fieldworkv1.ImportCasesRequest{InspectionId: id, Csv: []byte(header), DeviceId: "laptop\u202e1"})
			return err
		}},
		{"rationale", "rationale is 8001 bytes, over the limit of 8000", func() error {
			_, err := ins.RecordJudgement(ctx, &fieldworkv1.RecordJudgementRequest{InspectionId: id, StandardId: "P1.1", Rating: "Good", Rationale: over(8000)})
			return err
		}},
		{"reason", "reason is 8001 bytes, over the limit of 8000", func() error {
			_, err := ins.SetCaseStatus(ctx, &fieldworkv1.SetCaseStatusRequest{InspectionId: id, CaseRef: "T-1", Status: "locked", Reason: over(8000)})
			return err
		}},
		{"user name", `user name "a\u202eb" may hold only letters, digits and . _ - @`, func() error {
			_, err := adm.CreateUser(ctx, &fieldworkv1.CreateUserRequest{Name: "a\u202eb"})
			return err
		}},
		// A TTL whose nanoseconds overflow int64 used to become the default.
		{"ttl overflow", "ttl_seconds 4611686018427387904 is out of range: give 1 to 31536000 (365 days), or 0 for the default of 90 days", func() error {
			_, err := adm.IssueToken(ctx, &fieldworkv1.IssueTokenRequest{User: "insp.a", TtlSeconds: 1 << 62})
			return err
		}},
		{"ttl over a year", "ttl_seconds 31536001 is out of range", func() error {
			_, err := adm.IssueToken(ctx, &fieldworkv1.IssueTokenRequest{User: "insp.a", TtlSeconds: 365*24*3600 + 1})
			return err
		}},
		{"ttl negative", "ttl_seconds -1 is out of range", func() error {
			_, err := adm.IssueToken(ctx, &fieldworkv1.IssueTokenRequest{User: "insp.a", TtlSeconds: -1})
			return err
		}},
	} {
		err := c.call()
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), c.want) {
			msg := status.Convert(err).Message()
			if len(msg) > 300 {
				msg = msg[:300] + "…"
			}
			t.Errorf("%s: got %v %q, want InvalidArgument with %q", c.what, status.Code(err), msg, c.want)
		}
	}
	// Nothing of the refused writes was kept.
	cases, err := ins.ListCases(ctx, &fieldworkv1.ListCasesRequest{InspectionId: id})
	if err != nil || len(cases.GetCases()) != 2 {
		t.Errorf("cases after refused imports: %d, %v; want the 2 there were", len(cases.GetCases()), err)
	}
	// In range, a TTL is honoured.
	resp, err := adm.IssueToken(ctx, &fieldworkv1.IssueTokenRequest{User: "insp.a", TtlSeconds: 3600})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(resp.GetExpiresAt().AsTime()); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("a one-hour token expires in %v", d)
	}
}

// Pushed ops are held to the same limits: each op over one is rejected
// naming the field, and the rest of the batch is applied.
func TestPushLimits_OpsOverALimitRejected(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	ctx := as(t.Context(), e.token(t, "insp.a"))
	stream, err := fieldworkv1.NewSyncServiceClient(e.conn).Push(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(q, note, device string) *fieldworkv1.Op {
		return &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-1", QuestionId: q, Value: "yes", Note: note, DeviceId: device, DeviceSeq: 1}
	}
	ops := []*fieldworkv1.Op{mk("2.1.1", strings.Repeat("n", 8001), "d"), mk("2.1.2", "", strings.Repeat("d", 129)), mk("2.1.3", "fine", "d")}
	if err := stream.Send(&fieldworkv1.PushRequest{Ops: ops}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	stream.CloseSend()
	for i, want := range []string{"case T-1 question 2.1.1: note is 8001 bytes, over the limit of 8000", "device_id is 129 bytes, over the limit of 128", ""} {
		a := resp.GetAcks()[i]
		if want == "" {
			if a.GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED {
				t.Errorf("op %d: %v %q, want applied", i, a.GetResult(), a.GetReason())
			}
			continue
		}
		if a.GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED || !strings.Contains(a.GetReason(), want) {
			t.Errorf("op %d: %v %q, want rejected with %q", i, a.GetResult(), a.GetReason(), want)
		}
	}
}

// A pull page is bounded in bytes, not only in rows: 627 answers with notes
// of the largest size (5 MB) in one page of 5000 rows would pass gRPC's
// default receive limit of 4 MiB; the server cuts them into pages under its
// budget, and together the pages hold every answer.
func TestPull_PagesBoundedInBytes(t *testing.T) {
	e := newTestServer(t)
	ctx := as(t.Context(), e.admin)
	ins := fieldworkv1.NewInspectionServiceClient(e.conn)
	resp, err := ins.CreateInspection(ctx, &fieldworkv1.CreateInspectionRequest{Name: "Gwent", FrameworkId: "probation-pdu-2023"})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetInspection().GetId()
	cases, err := os.ReadFile(filepath.Join("..", "testdata", "gwent-2025", "cases.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ins.ImportCases(ctx, &fieldworkv1.ImportCasesRequest{InspectionId: id, Csv: cases}); err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, line := range strings.Split(strings.TrimSpace(string(cases)), "\n")[1:] {
		refs = append(refs, strings.SplitN(line, ",", 2)[0])
	}
	pdu, _, _ := framework.BuiltinByID("probation-pdu-2023")
	var csv strings.Builder
	csv.WriteString("case_ref,question_id,answer,note\n")
	note := strings.Repeat("n", framework.FieldNote.Max)
	want := 0
	for _, ref := range refs {
		for _, q := range pdu.Questions()[:11] {
			fmt.Fprintf(&csv, "%s,%s,na,%s\n", ref, q.ID, note)
			want++
		}
	}
	if _, err := ins.ImportAnswers(ctx, &fieldworkv1.ImportAnswersRequest{InspectionId: id, Csv: []byte(csv.String())}); err != nil {
		t.Fatal(err)
	}
	// A client with gRPC's default receive limit (4 MiB).
	stream, err := fieldworkv1.NewSyncServiceClient(e.conn).Pull(ctx, &fieldworkv1.PullRequest{PageSize: 5000})
	if err != nil {
		t.Fatal(err)
	}
	pages, answers := 0, map[string]bool{}
	for {
		page, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		if n := proto.Size(page); n > server.DefaultPullPageBytes {
			t.Errorf("page %d is %d bytes, over the budget of %d", pages, n, server.DefaultPullPageBytes)
		}
		for _, c := range page.GetChanges() {
			if a := c.GetAnswer(); a != nil {
				answers[a.GetCaseRef()+"/"+a.GetQuestionId()] = true
			}
		}
	}
	if len(answers) != want || pages < 2 {
		t.Errorf("pulled %d answers in %d pages, want all %d in 2 or more", len(answers), pages, want)
	}
}

// Five cases with every attribute at its largest pull fine through the
// client over several pages (a small budget makes them several), and one
// such case is far under the default budget on its own, so no stored case
// can fill a page alone.
func TestPull_FiveCasesAtTheLimitsAcrossPages(t *testing.T) {
	dir := t.TempDir()
	attrs := make([]map[string]string, framework.MaxAttributes)
	var names []string
	for i := range attrs {
		name := fmt.Sprintf("a%02d_", i) + strings.Repeat("x", framework.FieldAttributeName.Max-4)
		attrs[i] = map[string]string{"name": name}
		names = append(names, name)
	}
	def, _ := json.Marshal(map[string]any{"id": "limits-test", "version": 1, "title": "Limits", "attributes": attrs,
		"domains": []any{map[string]any{"id": "D", "title": "d", "standards": []any{map[string]any{"id": "S", "title": "s", "kind": "case_rated",
			"key_questions": []any{map[string]any{"id": "1", "text": "q"}}}}}}})
	fwFile := filepath.Join(dir, "limits.json")
	if err := os.WriteFile(fwFile, def, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.DBPath = filepath.Join(dir, "fieldwork.db")
	cfg.FrameworkFiles = []string{fwFile}
	cfg.PullPageBytes = 64 << 10
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := srv.ListenOn("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(sctx, lis); close(done) }()
	t.Cleanup(func() { stop(); <-done; srv.Close() })
	token, err := srv.DB().BootstrapAdmin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := client.Dial(client.Credentials{Server: lis.Addr().String(), Token: token, User: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local, err := localstore.Open(t.Context(), filepath.Join(dir, "client.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	c := client.New(conn, client.NewOffline(local))
	ctx := t.Context()
	in, err := c.CreateInspection(ctx, strings.Repeat("N", framework.FieldInspectionName.Max), strings.Repeat("U", framework.FieldUnit.Max), "limits-test", 0)
	if err != nil {
		t.Fatal(err)
	}
	id := in.ID
	value := strings.Repeat("é", framework.FieldAttributeValue.Max/2) // 200 bytes, 100 characters
	var csv strings.Builder
	csv.WriteString("case_ref," + strings.Join(names, ",") + ",inspector\n")
	for i := range 5 {
		ref := fmt.Sprintf("C-%d", i) + strings.Repeat("0", framework.FieldCaseRef.Max-3)
		csv.WriteString(ref + "," + strings.Repeat(value+",", len(names)) + strings.Repeat("i", framework.FieldUserName.Max) + "\n")
	}
	if _, err := c.ImportCases(ctx, id, []byte(csv.String())); err != nil {
		t.Fatal(err)
	}
	res, err := c.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := local.Cases(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || res.Pages < 3 {
		t.Fatalf("pulled %d cases in %d pages, want 5 in 3 or more", len(got), res.Pages)
	}
	for _, cs := range got {
		if len(cs.Attributes) != framework.MaxAttributes || cs.Attributes[names[0]] != value {
			t.Errorf("case %s arrived with %d attributes", cs.Ref, len(cs.Attributes))
		}
	}
	// One case at the limits, as the server sends it.
	one := &fieldworkv1.Change{Seq: 1 << 40, Entity: &fieldworkv1.Change_Case{Case: &fieldworkv1.Case{InspectionId: id, CaseRef: got[0].Ref,
		Attributes: got[0].Attributes, Inspector: got[0].Inspector, Status: string(framework.CaseNotStarted)}}}
	if n := proto.Size(one); n > server.DefaultPullPageBytes/32 {
		t.Errorf("a case at the limits is %d bytes, more than 1/32 of the page budget %d", n, server.DefaultPullPageBytes)
	} else {
		t.Logf("a case at the limits is %d bytes; the page budget is %d", n, server.DefaultPullPageBytes)
	}
}

// An op naming its case, question or inspection by text over the limits
// is rejected without being recorded or repeated whole in the reply.
func TestPushLimits_IDsNotEchoed(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	ctx := as(t.Context(), e.token(t, "insp.a"))
	huge := strings.Repeat("R", 1<<20)
	ops := []*fieldworkv1.Op{
		{OpId: uuid.NewString(), InspectionId: id, CaseRef: huge, QuestionId: "2.1.1", Value: "yes", DeviceId: "d"},
		{OpId: uuid.NewString(), InspectionId: huge, CaseRef: "T-1", QuestionId: "2.1.1", Value: "yes", DeviceId: "d"},
		{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-1", QuestionId: huge, Value: "yes", DeviceId: "d"},
		{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: huge, DeviceId: "d"},
		{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: "yes", DeviceId: "d", ConflictId: huge, Resolution: "mine"},
	}
	stream, err := fieldworkv1.NewSyncServiceClient(e.conn).Push(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&fieldworkv1.PushRequest{Ops: ops}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	stream.CloseSend()
	for i, want := range []string{"case_ref is 1048576 bytes", "inspection_id is 1048576 bytes", "question_id is 1048576 bytes",
		"value is 1048576 bytes", "conflict_id is 1048576 bytes"} {
		a := resp.GetAcks()[i]
		if a.GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED || !strings.Contains(a.GetReason(), want) || len(a.GetReason()) > 200 {
			t.Errorf("op %d: %v %.200q, want rejected with %q", i, a.GetResult(), a.GetReason(), want)
		}
	}
	if n := proto.Size(resp); n > 4096 {
		t.Errorf("acks of 5 refused ops are %d bytes", n)
	}
}

// rawCodec sends bytes as they are, as a client in another language
// might, so that a string field can carry invalid UTF-8.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)      { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error { *(v.(*[]byte)) = data; return nil }
func (rawCodec) Name() string                       { return "proto" }

// A request string that is not valid UTF-8 is refused naming the field,
// whether a client sends it (the server says which field) or our own
// client would (it refuses to send it, saying which).
func TestRPC_InvalidUTF8NamesTheField(t *testing.T) {
	e := newTestServer(t)
	ctx := as(t.Context(), e.admin)
	var req []byte
	req = protowire.AppendTag(req, 1, protowire.BytesType) // CreateInspectionRequest.name
	req = protowire.AppendString(req, "Gwent")
	req = protowire.AppendTag(req, 2, protowire.BytesType) // .unit
	req = protowire.AppendString(req, "bad \xff")
	var out []byte
	err := e.conn.Invoke(ctx, fieldworkv1.InspectionService_CreateInspection_FullMethodName, &req, &out, grpc.ForceCodec(rawCodec{}))
	if err == nil || !strings.Contains(status.Convert(err).Message(), "unit is not valid UTF-8") {
		t.Errorf("server: %v, want an error naming unit", err)
	}
	dir := t.TempDir()
	lis, err := e.srv.ListenOn("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.srv.GRPC().Serve(lis)
	conn, err := client.Dial(client.Credentials{Server: lis.Addr().String(), Token: e.admin, User: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local, err := localstore.Open(t.Context(), filepath.Join(dir, "client.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	c := client.New(conn, client.NewOffline(local))
	_, err = c.SetCaseStatus(t.Context(), "x", "T-1", "locked", "late \xc3")
	if err == nil || !strings.Contains(err.Error(), "reason is not valid UTF-8") {
		t.Errorf("client: %v, want an error naming reason", err)
	}
}
