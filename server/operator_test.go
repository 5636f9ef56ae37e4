package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
	"github.com/fieldworkhq/fieldwork/internal/wire"
	"github.com/fieldworkhq/fieldwork/server"
)

// scrape fetches /metrics over HTTP and returns each sample as "name{labels}"
// → value, the labels as the text format writes them (sorted by name).
func scrape(t *testing.T, url string) (map[string]float64, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v\n%s", url, resp.StatusCode, err, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out, string(body)
}

func syncOK(t *testing.T, d *syncsim.Device) {
	t.Helper()
	if _, err := d.Client.Sync(t.Context()); err != nil {
		t.Fatalf("sync %s: %v", d.User, err)
	}
}

func rawPush(t *testing.T, conn *grpc.ClientConn, ops ...framework.Op) []*fieldworkv1.Ack {
	t.Helper()
	stream, err := fieldworkv1.NewSyncServiceClient(conn).Push(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	req := &fieldworkv1.PushRequest{}
	for _, op := range ops {
		req.Ops = append(req.Ops, wire.OpToProto(op))
	}
	if err := stream.Send(req); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("push: %v, want the end of the stream", err)
	}
	return resp.GetAcks()
}

// TestMetrics: a real server on loopback, devices pushing and pulling,
// /metrics scraped over HTTP from its own listener: RPC counts by method
// and code, the latency histogram, sync ops by result, pull pages, open
// conflicts and the database's sizes, each with the value the calls made;
// no user name, case reference or inspection id in any series.
func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	ml, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- w.Srv.ServeMetrics(ctx, ml) }()
	t.Cleanup(func() { cancel(); <-served })
	url := "http://" + ml.Addr().String() + "/metrics"

	first, _ := scrape(t, url)
	for _, r := range []string{"applied", "conflict", "refused", "replay"} {
		if v, ok := first[`fieldwork_sync_ops_total{result="`+r+`"}`]; !ok || v != 0 {
			t.Errorf("before any push: sync ops %s = %v (present %v), want 0", r, v, ok)
		}
	}

	a1 := w.NewDevice(t, filepath.Join(dir, "a1"), "insp.a", w.Addr)
	a2 := w.NewDevice(t, filepath.Join(dir, "a2"), "insp.a", w.Addr)
	syncOK(t, a1)
	syncOK(t, a2)
	a1.Record(t, w.InspectionID, "C-01", "2.1.1", "yes")
	a1.Record(t, w.InspectionID, "C-01", "2.1.2", "yes")
	a1.Record(t, w.InspectionID, "C-02", "2.1.1", "yes")
	syncOK(t, a1)                                       // 3 applied
	a2.Record(t, w.InspectionID, "C-01", "2.1.1", "no") // on base 0, from another device
	syncOK(t, a2)                                       // 1 conflict
	acks := rawPush(t, a1.Conn, a1.Ops[0],              // replay
		framework.Op{ID: uuid.Must(uuid.NewV7()).String(), InspectionID: w.InspectionID, CaseRef: "C-04", QuestionID: "2.1.1",
			Value: "yes", DeviceID: "raw-device", DeviceSeq: 1}) // not insp.a's case: refused
	if len(acks) != 2 || !acks[0].GetDuplicate() || acks[1].GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED {
		t.Fatalf("raw push acks: %v", acks)
	}
	if _, err := fieldworkv1.NewFrameworkServiceClient(a1.Conn).ListFrameworks(context.Background(), &fieldworkv1.ListFrameworksRequest{}); err != nil {
		t.Fatal(err)
	}
	anon, err := grpc.NewClient(w.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	if _, err := fieldworkv1.NewFrameworkServiceClient(anon).ListFrameworks(context.Background(), &fieldworkv1.ListFrameworksRequest{}); err == nil {
		t.Fatal("ListFrameworks without a token succeeded")
	}

	got, body := scrape(t, url)
	const sync = `grpc_method="%s",grpc_service="fieldwork.v1.SyncService",grpc_type="%s"`
	const fws = `grpc_method="ListFrameworks",grpc_service="fieldwork.v1.FrameworkService",grpc_type="unary"`
	want := map[string]float64{
		`fieldwork_sync_ops_total{result="applied"}`:                                                   3,
		`fieldwork_sync_ops_total{result="conflict"}`:                                                  1,
		`fieldwork_sync_ops_total{result="replay"}`:                                                    1,
		`fieldwork_sync_ops_total{result="refused"}`:                                                   1,
		`fieldwork_open_conflicts{kind="answer"}`:                                                      1,
		`fieldwork_open_conflicts{kind="written"}`:                                                     0,
		`fieldwork_sync_pull_pages_total`:                                                              4, // four syncs, one page each
		`grpc_server_handled_total{grpc_code="OK",` + fmt.Sprintf(sync, "Push", "bidi_stream") + `}`:   3, // two syncs, one raw push
		`grpc_server_handled_total{grpc_code="OK",` + fmt.Sprintf(sync, "Pull", "server_stream") + `}`: 6, // and the two with edits queued first check the cursor
		`grpc_server_handled_total{grpc_code="OK",` + fws + `}`:                                        1,
		`grpc_server_handled_total{grpc_code="Unauthenticated",` + fws + `}`:                           1,
		`grpc_server_handled_total{grpc_code="PermissionDenied",` + fws + `}`:                          0,
		`grpc_server_handling_seconds_count{` + fmt.Sprintf(sync, "Push", "bidi_stream") + `}`:         3,
		`grpc_server_handling_seconds_count{` + fws + `}`:                                              2,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present: %v), want %v", k, g, ok, v)
		}
	}
	if got["fieldwork_sync_pull_changes_total"] < 6 {
		t.Errorf("pull changes = %v, want at least the 6 cases the devices pulled", got["fieldwork_sync_pull_changes_total"])
	}
	if got[`grpc_server_handling_seconds_bucket{`+fmt.Sprintf(sync, "Push", "bidi_stream")+`,le="+Inf"}`] != 3 {
		t.Errorf("push histogram +Inf bucket = %v, want 3", got[`grpc_server_handling_seconds_bucket{`+fmt.Sprintf(sync, "Push", "bidi_stream")+`,le="+Inf"}`])
	}
	dbSt, err := os.Stat(w.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	walSt, err := os.Stat(w.DBPath + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if got["fieldwork_db_size_bytes"] != float64(dbSt.Size()) || got["fieldwork_db_wal_size_bytes"] != float64(walSt.Size()) || walSt.Size() == 0 {
		t.Errorf("db size %v, wal %v; the files are %d and %d bytes", got["fieldwork_db_size_bytes"], got["fieldwork_db_wal_size_bytes"], dbSt.Size(), walSt.Size())
	}
	for _, private := range []string{"insp.a", "C-01", "C-04", w.InspectionID, "raw-device", "lead"} {
		if strings.Contains(body, private) {
			t.Errorf("the scrape names %q", private)
		}
	}
}

// TestOneLogLinePerRPC: a server logging JSON handles an import with
// hostile case attributes and a push with hostile notes (one applied, one
// over the limit and refused, one with a device id full of escapes):
// each call is one line with method, code, user, device, peer and
// duration, and no note, attribute or case reference appears anywhere in
// the log.
func TestOneLogLinePerRPC(t *testing.T) {
	logs := &syncBuffer{}
	cfg := server.DefaultConfig()
	cfg.DBPath = filepath.Join(t.TempDir(), "fieldwork.db")
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, lis); close(done) }()
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	admin, err := srv.DB().BootstrapAdmin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{srv: srv, conn: conn, admin: admin}

	const attr = "PDU-SECRET-\x1b]0;owned\x07=HYPERLINK(\"evil\")<script>"
	const note = "NOTE-SECRET lives at 12 Acacia Avenue \x1b[2J\u202e=cmd|' /C calc'!A0"
	in, err := fieldworkv1.NewInspectionServiceClient(conn).CreateInspection(as(t.Context(), admin), &fieldworkv1.CreateInspectionRequest{Name: "T", FrameworkId: "probation-pdu-2023"})
	if err != nil {
		t.Fatal(err)
	}
	id := in.GetInspection().GetId()
	csv := "case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n" +
		"CASEREF-77,community,male,26-39,white,medium,none,\"" + strings.ReplaceAll(attr, `"`, `""`) + "\",false,insp.a\n"
	if _, err := fieldworkv1.NewInspectionServiceClient(conn).ImportCases(as(t.Context(), admin), &fieldworkv1.ImportCasesRequest{InspectionId: id, Csv: []byte(csv)}); err != nil {
		t.Fatal(err)
	}
	ctxA := as(t.Context(), e.token(t, "insp.a"))
	stream, err := fieldworkv1.NewSyncServiceClient(conn).Push(ctxA)
	if err != nil {
		t.Fatal(err)
	}
	op := func(seq int64, device, q, n string) *fieldworkv1.Op {
		return wire.OpToProto(framework.Op{ID: uuid.Must(uuid.NewV7()).String(), InspectionID: id, CaseRef: "CASEREF-77",
			QuestionID: q, Value: "yes", Note: n, DeviceID: device, DeviceSeq: seq})
	}
	if err := stream.Send(&fieldworkv1.PushRequest{Ops: []*fieldworkv1.Op{
		op(1, "laptop-7", "2.1.1", note),
		op(2, "laptop-7", "2.1.2", note+strings.Repeat("x", 9000)),
	}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if a := resp.GetAcks(); len(a) != 2 || a[0].GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED || a[1].GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED {
		t.Fatalf("acks: %v", a)
	}
	stream.CloseSend()
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatal(err)
	}
	// A second stream whose device id is hostile text.
	stream, err = fieldworkv1.NewSyncServiceClient(conn).Push(ctxA)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&fieldworkv1.PushRequest{Ops: []*fieldworkv1.Op{op(3, "dev\x1b[31m-"+note, "2.1.3", note)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	stream.CloseSend()
	stream.Recv()
	if _, err := fieldworkv1.NewAnswerServiceClient(conn).RecordAnswer(ctxA, &fieldworkv1.RecordAnswerRequest{InspectionId: id, CaseRef: "CASEREF-77",
		QuestionId: "2.1.1a", Value: "maybe", Note: note, DeviceId: "laptop-7"}); err == nil {
		t.Fatal("RecordAnswer with a bad value succeeded")
	}

	var lines []map[string]any
	deadline := time.Now().Add(5 * time.Second)
	for {
		lines = lines[:0]
		for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("log line %q is not JSON: %v", l, err)
			}
			if m["msg"] == "rpc" {
				lines = append(lines, m)
			}
		}
		if len(lines) >= 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond) // a stream's line is written as its handler returns
	}
	type want struct{ method, code, user, device string }
	wants := []want{
		{"/fieldwork.v1.InspectionService/CreateInspection", "OK", "admin", ""},
		{"/fieldwork.v1.InspectionService/ImportCases", "OK", "admin", ""},
		{"/fieldwork.v1.SyncService/Push", "OK", "insp.a", "laptop-7"},
		{"/fieldwork.v1.SyncService/Push", "OK", "insp.a", "(invalid)"},
		{"/fieldwork.v1.AnswerService/RecordAnswer", "InvalidArgument", "insp.a", "laptop-7"},
	}
	if len(lines) != len(wants) {
		t.Fatalf("%d rpc lines, want %d:\n%s", len(lines), len(wants), logs.String())
	}
	for i, w := range wants {
		l := lines[i]
		if l["method"] != w.method || l["code"] != w.code || l["user"] != w.user || l["device"] != w.device {
			t.Errorf("line %d: %v, want %+v", i, l, w)
		}
		if ms, ok := l["ms"].(float64); !ok || ms < 0 {
			t.Errorf("line %d: ms = %v", i, l["ms"])
		}
		if p, _ := l["peer"].(string); !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("line %d: peer = %q", i, l["peer"])
		}
	}
	all := logs.String()
	for _, secret := range []string{"NOTE-SECRET", "Acacia", "PDU-SECRET", "HYPERLINK", "CASEREF-77", "maybe", "\\u001b", "\x1b"} {
		if strings.Contains(all, secret) {
			t.Errorf("the log holds %q:\n%s", secret, all)
		}
	}
}
