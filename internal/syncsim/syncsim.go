// Package syncsim builds sync scenarios for tests: a real server on a
// loopback port (optionally behind a fault proxy), client devices with their
// own local stores, and the checks every scenario must pass afterwards.
package syncsim

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
	"github.com/fieldworkhq/fieldwork/server"
)

// World is a running server with one inspection.
type World struct {
	Addr         string
	DBPath       string
	Srv          *server.Server
	InspectionID string
	stop         func()
}

// Cases are the sample: C-01..C-06, C-01–C-03 assigned to insp.a, the rest to insp.b.
var Cases = []string{"C-01", "C-02", "C-03", "C-04", "C-05", "C-06"}

// Questions are the yes/no questions scenarios edit.
var Questions = []string{"2.1.1", "2.1.1a", "2.1.2", "2.1.3", "2.2.1", "2.2.3b", "2.3.3c", "M.1"}

// Start starts a server on a free loopback port with a fresh database in dir.
func Start(tb testing.TB, dir string) *World {
	tb.Helper()
	w := &World{DBPath: filepath.Join(dir, "server.db")}
	w.start(tb)
	ctx := context.Background()
	admin := framework.Actor{User: "admin", Device: "syncsim", Admin: true}
	in, err := w.Srv.DB().CreateInspection(ctx, admin, "Sync test", "T", "probation-pdu-2023", 0)
	if err != nil {
		tb.Fatal(err)
	}
	w.InspectionID = in.ID
	var b strings.Builder
	b.WriteString("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n")
	for i, c := range Cases {
		insp := "insp.a"
		if i >= 3 {
			insp = "insp.b"
		}
		fmt.Fprintf(&b, "%s,community,male,26-39,white,medium,none,T,false,%s\n", c, insp)
	}
	rows, err := interchange.ReadCases(strings.NewReader(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	if _, _, err := w.Srv.DB().ImportCases(ctx, admin, in.ID, rows); err != nil {
		tb.Fatal(err)
	}
	for _, m := range []struct {
		user string
		role framework.Role
	}{{"lead", framework.RoleLead}, {"qa", framework.RoleQA}} {
		if err := w.Srv.DB().AddTeamMember(ctx, admin, in.ID, m.user, m.role); err != nil {
			tb.Fatal(err)
		}
	}
	return w
}

func (w *World) start(tb testing.TB) {
	tb.Helper()
	cfg := server.DefaultConfig()
	cfg.DBPath = w.DBPath
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	addr := w.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	w.Addr = lis.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, lis); close(done) }()
	w.Srv = srv
	w.stop = func() { cancel(); <-done; srv.Close() }
	tb.Cleanup(w.Stop)
}

// Stop stops the server (idempotent).
func (w *World) Stop() {
	if w.stop != nil {
		w.stop()
		w.stop = nil
	}
}

// Restart stops and starts the server on the same database and address.
func (w *World) Restart(tb testing.TB) {
	tb.Helper()
	w.Stop()
	w.start(tb)
}

// Device is one laptop: a user's client with its own local store.
type Device struct {
	User   string
	Client *client.Client
	Local  *localstore.Store
	// Conn is the device's connection, for tests that speak the wire
	// protocol itself (hostile or hand-made messages).
	Conn *grpc.ClientConn
	// Ops are the ops recorded on this device, in order.
	Ops []framework.Op
}

// NewDevice opens a local store in dir and connects to addr as user.
func (w *World) NewDevice(tb testing.TB, dir, user, addr string) *Device {
	tb.Helper()
	return w.NewDeviceWith(tb, dir, user, addr)
}

// NewDeviceWith is NewDevice with extra dial options (for instance
// grpc.WithChainStreamInterceptor, to watch every ack the device receives).
func (w *World) NewDeviceWith(tb testing.TB, dir, user, addr string, opts ...grpc.DialOption) *Device {
	tb.Helper()
	ctx := context.Background()
	token, _, err := w.Srv.DB().IssueToken(ctx, framework.Actor{User: "admin", Admin: true}, user, 0)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	local, err := localstore.Open(ctx, filepath.Join(dir, "client.db"))
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := client.Dial(client.Credentials{Server: addr, Token: token, User: user}, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(); local.Close() })
	return &Device{User: user, Client: client.New(conn, client.NewOffline(local)), Local: local, Conn: conn}
}

// Record records an answer offline and remembers its op.
func (d *Device) Record(tb testing.TB, inspection, caseRef, question, value string) {
	tb.Helper()
	op, err := d.Local.Record(context.Background(), d.User, inspection, caseRef, question, value, "")
	if err != nil {
		tb.Fatal(err)
	}
	d.Ops = append(d.Ops, op)
}

// Result counts what Check found: the ops it checked, and how many were
// lost (no record, no version of the answer, no conflict row, rejected, or
// left in an outbox), duplicated (applied or recorded more than once), or
// unconverged (a device's answer differing from the server's, or held
// where the server does not show it to the device's user).
type Result struct {
	Ops, Lost, Duplicated, Unconverged int
}

// Check is CheckInspection on the world's own inspection.
func Check(tb testing.TB, w *World, devices []*Device) (ops int) {
	tb.Helper()
	return CheckInspection(tb, w, w.InspectionID, devices).Ops
}

// CheckInspection asserts the properties every scenario must end with, after
// each device has synced cleanly: every op recorded exactly once on the
// server (no op applied twice), every op's value either a version of the
// answer or the client side of a conflict (nothing lost), no outbox left,
// and each device's local answers of the inspection equal to the server's
// answers its user may see (framework.CanSeeCase, from the server's team and
// assignments).
func CheckInspection(tb testing.TB, w *World, inspectionID string, devices []*Device) (r Result) {
	tb.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite3", "file:"+w.DBPath+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var twice int
	if err := db.QueryRow(`SELECT count(*) FROM (SELECT op_id FROM answer_history WHERE op_id IS NOT NULL GROUP BY op_id HAVING count(*) > 1)`).Scan(&twice); err != nil {
		tb.Fatal(err)
	}
	if twice > 0 {
		r.Duplicated += twice
		tb.Errorf("%d op(s) were applied more than once", twice)
	}
	if err := db.QueryRow(`SELECT count(*) FROM (SELECT op_id FROM op_records GROUP BY op_id HAVING count(*) > 1)`).Scan(&twice); err != nil {
		tb.Fatal(err)
	}
	if twice > 0 {
		r.Duplicated += twice
		tb.Errorf("%d op(s) have more than one record", twice)
	}
	for _, d := range devices {
		n, err := d.Local.PendingCount(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		if n != 0 {
			r.Lost += n
			tb.Errorf("device of %s still has %d op(s) in its outbox", d.User, n)
		}
		for _, op := range d.Ops {
			r.Ops++
			var result int
			var reason string
			err := db.QueryRow(`SELECT result, reason FROM op_records WHERE op_id = ?`, op.ID).Scan(&result, &reason)
			if err != nil {
				r.Lost++
				tb.Errorf("op %s (%s %s=%s by %s) has no server record: %v", op.ID, op.CaseRef, op.QuestionID, op.Value, d.User, err)
				continue
			}
			var inHistory, inConflict, sameValue int
			db.QueryRow(`SELECT count(*) FROM answer_history WHERE op_id = ? AND value = ?`, op.ID, op.Value).Scan(&inHistory)
			db.QueryRow(`SELECT count(*) FROM conflicts WHERE op_id = ? AND client_value = ?`, op.ID, op.Value).Scan(&inConflict)
			db.QueryRow(`SELECT count(*) FROM answer_history h JOIN cases c ON c.id = h.case_id
				WHERE c.inspection_id = ? AND c.case_ref = ? AND h.question_id = ? AND h.value = ?`, op.InspectionID, op.CaseRef, op.QuestionID, op.Value).Scan(&sameValue)
			switch framework.OpResult(result) {
			case framework.OpApplied:
				// Applied as a new revision, or converged/superseded: the
				// value is then a version of the answer already.
				if inHistory == 0 && sameValue == 0 && !strings.HasPrefix(reason, "superseded") {
					r.Lost++
					tb.Errorf("op %s (%s %s=%s) acknowledged applied but its value is no version of the answer", op.ID, op.CaseRef, op.QuestionID, op.Value)
				}
			case framework.OpConflict:
				if inConflict == 0 {
					r.Lost++
					tb.Errorf("op %s acknowledged as a conflict but no conflict row holds its value", op.ID)
				}
			case framework.OpRejected:
				r.Lost++
				tb.Errorf("op %s (%s %s=%s by %s) rejected: %s", op.ID, op.CaseRef, op.QuestionID, op.Value, d.User, reason)
			}
		}
		// The local view equals the server's view for this user.
		local, err := d.Local.Answers(ctx, inspectionID, "")
		if err != nil {
			tb.Fatal(err)
		}
		got := map[string]string{}
		for _, a := range local {
			got[a.CaseRef+" "+a.QuestionID] = fmt.Sprintf("%s|%s|%d", a.Value, a.Note, a.Revision)
		}
		role, err := ServerRole(db, inspectionID, d.User)
		if err != nil {
			tb.Fatal(err)
		}
		want := map[string]string{}
		rows, err := db.Query(`SELECT c.case_ref, c.inspector, a.question_id, a.value, a.note, a.revision FROM answers a JOIN cases c ON c.id = a.case_id
			WHERE c.inspection_id = ?`, inspectionID)
		if err != nil {
			tb.Fatal(err)
		}
		for rows.Next() {
			var ref, inspector, q, v, note string
			var rev int64
			rows.Scan(&ref, &inspector, &q, &v, &note, &rev)
			if framework.CanSeeCase(role, inspector == d.User) {
				want[ref+" "+q] = fmt.Sprintf("%s|%s|%d", v, note, rev)
			}
		}
		rows.Close()
		for k, v := range want {
			if got[k] != v {
				r.Unconverged++
				tb.Errorf("device of %s: %s local %q, server %q", d.User, k, got[k], v)
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok {
				r.Unconverged++
				tb.Errorf("device of %s holds %s = %q that the server does not show it", d.User, k, v)
			}
		}
	}
	return r
}

// ServerRole is the user's role on the inspection as the server database
// db holds it: admin for a global admin, the team role, or "" when the user
// is on no team of it.
func ServerRole(db *sql.DB, inspectionID, user string) (framework.Role, error) {
	var admin bool
	if err := db.QueryRow(`SELECT admin FROM users WHERE name = ?`, user).Scan(&admin); err != nil && err != sql.ErrNoRows {
		return "", err
	}
	if admin {
		return framework.RoleAdmin, nil
	}
	var role framework.Role
	err := db.QueryRow(`SELECT role FROM team WHERE inspection_id = ? AND user_name = ?`, inspectionID, user).Scan(&role)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return role, err
}
