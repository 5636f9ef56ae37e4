package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/server"
)

// syncBuffer is a log sink tests read while the server writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestServerAt is newTestServer on a given database file and
// configuration, its log kept in logs.
func newTestServerAt(tb testing.TB, cfg server.Config, logs io.Writer) *testEnv {
	tb.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, lis); close(done) }()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	token, err := srv.DB().BootstrapAdmin(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn.Close()
		cancel()
		<-done
		srv.Close()
	})
	return &testEnv{srv: srv, conn: conn, admin: token}
}

// A database file renamed over, or deleted, under a running server: the
// first write after it and every later one is refused with
// FAILED_PRECONDITION naming the path, no ack is sent, and one log line
// says what happened.
func TestReplacedDatabaseFileRefusesEveryWrite(t *testing.T) {
	for _, how := range []string{"renamed over", "deleted"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			cfg := server.DefaultConfig()
			cfg.DBPath = filepath.Join(dir, "fieldwork.db")
			logs := &syncBuffer{}
			e := newTestServerAt(t, cfg, logs)
			id := e.inspection(t)
			ctx := as(t.Context(), e.admin)
			syncc := fieldworkv1.NewSyncServiceClient(e.conn)
			push := func(opID, q string) (*fieldworkv1.PushResponse, error) {
				stream, err := syncc.Push(ctx)
				if err != nil {
					return nil, err
				}
				op := &fieldworkv1.Op{OpId: opID, InspectionId: id, CaseRef: "T-1", QuestionId: q, Value: "yes", DeviceId: "d"}
				if err := stream.Send(&fieldworkv1.PushRequest{Ops: []*fieldworkv1.Op{op}}); err != nil {
					return nil, err
				}
				return stream.Recv()
			}
			if resp, err := push("0195f3a0-0000-7000-8000-000000000001", "2.1.1"); err != nil || resp.GetAcks()[0].GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED {
				t.Fatalf("first push: %v %v, want applied", resp, err)
			}

			switch how {
			case "renamed over": // e.g. a backup restored in place
				other := filepath.Join(dir, "restored.db")
				if err := os.WriteFile(other, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(other, cfg.DBPath); err != nil {
					t.Fatal(err)
				}
			case "deleted":
				if err := os.Remove(cfg.DBPath); err != nil {
					t.Fatal(err)
				}
			}

			want := "the database file at " + cfg.DBPath + " was replaced or deleted; restart fieldworkd"
			for i, q := range []string{"2.1.2", "2.1.3"} { // the first write after the change, and the next
				resp, err := push(fmt.Sprintf("0195f3a0-0000-7000-8000-%012d", 10+i), q)
				if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), want) {
					t.Fatalf("push %d after the file was %s: %v %v, want FailedPrecondition %q", i, how, resp, err, want)
				}
			}
			_, err := fieldworkv1.NewAnswerServiceClient(e.conn).RecordAnswer(ctx, &fieldworkv1.RecordAnswerRequest{InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.4", Value: "yes"})
			if status.Code(err) != codes.FailedPrecondition {
				t.Errorf("RecordAnswer after the file was %s: %v, want FailedPrecondition", how, err)
			}
			_, err = fieldworkv1.NewAdminServiceClient(e.conn).CreateUser(ctx, &fieldworkv1.CreateUserRequest{Name: "late"})
			if status.Code(err) != codes.FailedPrecondition {
				t.Errorf("CreateUser after the file was %s: %v, want FailedPrecondition", how, err)
			}
			// Nothing was written to the file still open either: the
			// refused answers are not there.
			list, err := fieldworkv1.NewAnswerServiceClient(e.conn).ListAnswers(ctx, &fieldworkv1.ListAnswersRequest{InspectionId: id, CaseRef: "T-1"})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(list.GetAnswers()); n != 1 {
				t.Errorf("%d answers after the refused writes, want only the first", n)
			}
			if n := strings.Count(logs.String(), "database file was replaced or deleted"); n != 1 {
				t.Errorf("%d log lines about the replaced file, want 1:\n%s", n, logs)
			}
		})
	}
}

// The server's database, its -wal and -shm, are created 0600 and a folder
// it creates 0700 (chmod, not the umask, decides); an existing 0644 file is tightened.
func TestServerDatabaseFilesAreOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "fw")
	cfg := server.DefaultConfig()
	cfg.DBPath = filepath.Join(dir, "fieldwork.db")
	e := newTestServerAt(t, cfg, &syncBuffer{})
	e.inspection(t) // a write, so the WAL has content
	mode := func(p string) fs.FileMode {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if m := mode(dir); m != 0o700 {
		t.Errorf("folder %s is %o, want 700", dir, m)
	}
	for _, p := range []string{cfg.DBPath, cfg.DBPath + "-wal", cfg.DBPath + "-shm"} {
		if m := mode(p); m != 0o600 {
			t.Errorf("%s is %o, want 600", filepath.Base(p), m)
		}
	}

	old := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(old, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(old, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.DBPath = old
	newTestServerAt(t, cfg, &syncBuffer{})
	for _, p := range []string{old, old + "-wal", old + "-shm"} {
		if m := mode(p); m != 0o600 {
			t.Errorf("existing %s is %o, want 600", filepath.Base(p), m)
		}
	}
}

// dev-cert's key is 0600 even over an existing, more open key.pem.
func TestDevCertKeyIsOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	_, key, err := server.WriteDevCert(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]fs.FileMode{dir: 0o700, key: 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %o", p, fi.Mode().Perm(), err, want)
		}
	}
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := server.WriteDevCert(dir, nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key.pem rewritten over a 0644 one: %v %v, want 600", fi.Mode().Perm(), err)
	}
}
