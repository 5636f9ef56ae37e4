package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
	"github.com/fieldworkhq/fieldwork/server"
)

// pusher is one inspector's device recording and syncing one answer at a
// time, remembering which of its ops the server has acknowledged.
type pusher struct {
	d     *syncsim.Device
	cases []string
	mu    sync.Mutex
	acked []string // op ids, in order
	n     int
}

// step records the next answer on the inspection and syncs it: every
// (case, question) in turn, the value flipping each round, so every op
// makes a new revision.
func (p *pusher) step(tb testing.TB, inspection string) {
	tb.Helper()
	round, i := p.n/(len(p.cases)*len(syncsim.Questions)), p.n%(len(p.cases)*len(syncsim.Questions))
	value := "yes"
	if round%2 == 1 {
		value = "no"
	}
	p.d.Record(tb, inspection, p.cases[i/len(syncsim.Questions)], syncsim.Questions[i%len(syncsim.Questions)], value)
	p.n++
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := p.d.Client.Sync(ctx); err != nil {
		tb.Errorf("sync %s: %v", p.d.User, err)
		return
	}
	p.mu.Lock()
	p.acked = append(p.acked, p.d.Ops[len(p.d.Ops)-1].ID)
	p.mu.Unlock()
}

func (p *pusher) ackedSoFar() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.acked...)
}

// TestBackupUnderLoad backs up a served database while two inspectors push
// answers to one inspection, then restores the copy under a new server:
// the other inspection, finished before the backup, reports the same
// figure for figure; every op acknowledged before the backup began is in
// the copy, each answer there is one the live server held at some
// revision; recount finds no drift; the copy is owner-only and a second
// backup to it is refused without --force.
func TestBackupUnderLoad(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	busy := addInspection(t, w)
	a := &pusher{d: w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr), cases: syncsim.Cases[:3]}
	b := &pusher{d: w.NewDevice(t, filepath.Join(dir, "b"), "insp.b", w.Addr), cases: syncsim.Cases[3:]}
	lead := w.NewDevice(t, filepath.Join(dir, "lead"), "lead", w.Addr)
	for _, p := range []*pusher{a, b} {
		if _, err := p.d.Client.Sync(t.Context()); err != nil {
			t.Fatal(err)
		}
		for range 20 { // the finished inspection
			p.step(t, w.InspectionID)
		}
	}
	stable := report(t, lead.Client, w.InspectionID)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, p := range []*pusher{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				p.step(t, busy)
			}
		}()
	}
	for len(a.ackedSoFar()) < 25 || len(b.ackedSoFar()) < 25 {
		time.Sleep(5 * time.Millisecond)
	}
	before := append(a.ackedSoFar(), b.ackedSoFar()...)
	copyPath := filepath.Join(dir, "backup", "copy.db")
	if err := os.Mkdir(filepath.Dir(copyPath), 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := fieldworkd(t, "backup", "--db", w.DBPath, "--to", copyPath)
	during := len(a.ackedSoFar()) + len(b.ackedSoFar())
	time.Sleep(100 * time.Millisecond) // and on after it
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if !strings.Contains(out, "integrity check ok") {
		t.Errorf("backup said %q", out)
	}
	after := len(a.ackedSoFar()) + len(b.ackedSoFar())
	t.Logf("ops acknowledged on the busy inspection: %d before the backup, %d when it ended, %d in all", len(before)-40, during-40, after-40)
	if after <= during {
		t.Errorf("no op was acknowledged after the backup: the load stopped before it ended")
	}
	if st, err := os.Stat(copyPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("copy: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	if out, err := fieldworkd(t, "backup", "--db", w.DBPath, "--to", copyPath); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second backup to the same file: %v\n%s", err, out)
	}

	// The copy holds what was acknowledged before the backup began, and
	// nothing the live server did not hold.
	inCopy := answersOf(t, copyPath, busy)
	ops := opsIn(t, copyPath)
	for _, id := range before {
		if !ops[id] {
			t.Errorf("op %s was acknowledged before the backup began but is not in the copy", id)
		}
	}
	history := historyOf(t, w.DBPath)
	for _, a := range inCopy {
		if !history[a] {
			t.Errorf("the copy's answer %s was never the live server's", a)
		}
	}
	if len(inCopy) == 0 {
		t.Fatal("the copy holds no answer of the busy inspection")
	}

	final := report(t, lead.Client, w.InspectionID)
	out, err = fieldworkd(t, "recount", "--db", copyPath)
	if err != nil || !strings.Contains(out, "kept counts equal a full recount") {
		t.Errorf("recount on the copy: %v\n%s", err, out)
	}
	w.Stop()

	// Restored: a new server on the copy; the lead's token is in it.
	srv, addr := serveCopy(t, copyPath)
	token, _, err := srv.DB().IssueToken(t.Context(), framework.Actor{User: "admin", Admin: true}, "lead", 0)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := client.Dial(client.Credentials{Server: addr, Token: token, User: "lead"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got := report(t, client.New(conn, nil), w.InspectionID)
	// As of the change the copy was taken at: the whole database's log,
	// which the busy inspection moved on.
	if got.AsOfSeq < stable.AsOfSeq || got.AsOfSeq > final.AsOfSeq {
		t.Errorf("the copy's report is as of change %d, not between %d and %d", got.AsOfSeq, stable.AsOfSeq, final.AsOfSeq)
	}
	got.AsOfSeq, stable.AsOfSeq, final.AsOfSeq = 0, 0, 0
	if !reflect.DeepEqual(final, stable) {
		t.Fatal("the finished inspection's report changed while the other took pushes")
	}
	if !reflect.DeepEqual(got, stable) {
		t.Errorf("the restored copy's report differs from the live server's:\n got %+v\nwant %+v", got, stable)
	}
}

// addInspection adds a second inspection to the world, its cases assigned
// as in the first, and returns its id.
func addInspection(t *testing.T, w *syncsim.World) string {
	t.Helper()
	ctx := context.Background()
	admin := framework.Actor{User: "admin", Device: "test", Admin: true}
	in, err := w.Srv.DB().CreateInspection(ctx, admin, "Busy", "T", "probation-pdu-2023", 0)
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n")
	for i, c := range syncsim.Cases {
		insp := "insp.a"
		if i >= 3 {
			insp = "insp.b"
		}
		fmt.Fprintf(&csv, "%s,community,male,26-39,white,medium,none,T,false,%s\n", c, insp)
	}
	rows, err := interchange.ReadCases(strings.NewReader(csv.String()))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Srv.DB().ImportCases(ctx, admin, in.ID, rows); err != nil {
		t.Fatal(err)
	}
	return in.ID
}

func report(t *testing.T, c *client.Client, inspection string) *aggregate.Report {
	t.Helper()
	r, err := c.Report(t.Context(), client.ReportQuery{InspectionID: inspection})
	if err != nil {
		t.Fatal(err)
	}
	r.GeneratedAt = time.Time{}
	return r
}

func readDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// answersOf returns an inspection's current answers, each as
// "case_ref question case_id@revision value".
func answersOf(t *testing.T, path, inspection string) []string {
	t.Helper()
	rows, err := readDB(t, path).Query(`SELECT c.case_ref, a.question_id, c.id, a.revision, a.value
		FROM answers a JOIN cases c ON c.id = a.case_id WHERE c.inspection_id = ?`, inspection)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ref, q, id, v string
		var rev int
		if err := rows.Scan(&ref, &q, &id, &rev, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s %s@%d %s", ref, q, id, rev, v))
	}
	return out
}

// historyOf returns every revision the database held: "ref question
// case_id@revision value".
func historyOf(t *testing.T, path string) map[string]bool {
	t.Helper()
	rows, err := readDB(t, path).Query(`SELECT c.case_ref, h.question_id, c.id, h.revision, h.value
		FROM answer_history h JOIN cases c ON c.id = h.case_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var ref, q, id, v string
		var rev int
		if err := rows.Scan(&ref, &q, &id, &rev, &v); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("%s %s %s@%d %s", ref, q, id, rev, v)] = true
	}
	return out
}

// opsIn returns the op ids a database has recorded a result for.
func opsIn(t *testing.T, path string) map[string]bool {
	t.Helper()
	rows, err := readDB(t, path).Query(`SELECT op_id FROM answer_history WHERE op_id IS NOT NULL UNION SELECT op_id FROM ops_applied`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id] = true
	}
	return out
}

// serveCopy serves a restored database on a loopback port.
func serveCopy(t *testing.T, path string) (*server.Server, string) {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.DBPath = path
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
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
	return srv, lis.Addr().String()
}
