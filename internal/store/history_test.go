package store_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
)

// The audit trail of answer writes is served from the history rows the
// audit rows point at: each version with who, from which device, and the
// version before it.
func TestAudit_AnswerWritesShowEachVersionWithItsPredecessor(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := mustInspection(t, db)
	mustCases(t, db, id)
	rows, _ := interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer,note\nT-1,2.1.1,yes,from the file\n"))
	if _, _, err := db.ImportAnswers(ctx, admin, id, rows); err != nil {
		t.Fatal(err)
	}
	edit := op(id, "T-1", "2.1.1", "no", 1)
	edit.Note, edit.DeviceSeq = `quote " and <tag>`, 1
	again := op(id, "T-1", "2.1.1", "na", 1) // the same device's second edit, on the same base
	again.DeviceSeq = 2
	if _, err := db.ApplyOps(ctx, framework.User{Name: "insp.a"}, []framework.Op{edit, again}); err != nil {
		t.Fatal(err)
	}
	entries, err := db.Audit(ctx, id, "T-1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Action != "answer.write" {
			continue
		}
		if e.At.IsZero() {
			t.Errorf("entry %d has no time", e.Seq)
		}
		got = append(got, strings.Join([]string{e.User, e.Device, e.Entity, e.Before, e.After}, " | "))
	}
	entity := "case/" + id + "/T-1/2.1.1"
	want := []string{
		`admin | test | ` + entity + ` |  | {"note":"from the file","op_id":"","revision":1,"value":"yes"}`,
		`insp.a | dev-1 | ` + entity + ` | {"note":"from the file","revision":1,"value":"yes"} | {"note":"quote \" and <tag>","op_id":"` + edit.ID + `","revision":2,"value":"no"}`,
		`insp.a | dev-1 | ` + entity + ` | {"note":"quote \" and <tag>","revision":2,"value":"no"} | {"note":"","op_id":"` + again.ID + `","revision":3,"value":"na"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("answer audit =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A written op's record is its history row: one record per op, and a
// re-sent op gets the same result from it as from ops_applied.
func TestOpRecords_OneRecordPerOpWhereverItIsKept(t *testing.T) {
	ctx := t.Context()
	db, path := mustOpenPath(t)
	id := mustInspection(t, db)
	mustCases(t, db, id)
	written := op(id, "T-1", "2.1.1", "yes", 0)
	converged := op(id, "T-1", "2.1.1", "yes", 0)
	converged.DeviceID = "dev-2"
	rejected := op(id, "T-1", "9.9.9", "yes", 0)
	batch := []framework.Op{written, converged, rejected}
	first, err := db.ApplyOps(ctx, adminUser(), batch)
	if err != nil {
		t.Fatal(err)
	}
	again, err := db.ApplyOps(ctx, adminUser(), batch)
	if err != nil {
		t.Fatal(err)
	}
	for i := range batch {
		a, b := first[i], again[i]
		if !b.Duplicate || a.Result != b.Result || a.Revision != b.Revision || a.Reason != b.Reason {
			t.Errorf("op %d: first ack %+v, re-sent ack %+v; want the same result marked duplicate", i, a, b)
		}
	}
	if first[0].Result != framework.OpApplied || first[0].Revision != 1 || first[1].Result != framework.OpApplied || first[2].Result != framework.OpRejected {
		t.Fatalf("acks = %+v", first)
	}
	// A re-sent op's ack shows who wrote the answer it stands at, so the
	// device displays it as it is on the server.
	if a := again[0].Answer; a == nil || a.Value != "yes" || a.UpdatedBy != "admin" || a.DeviceID != "dev-1" || a.UpdatedAt.IsZero() {
		t.Errorf("re-sent op's current answer = %+v, want yes by admin from dev-1 with its time", a)
	}
	raw := rawDB(t, path)
	for _, o := range batch {
		var n int
		if err := raw.QueryRow(`SELECT count(*) FROM op_records WHERE op_id = ?`, o.ID).Scan(&n); err != nil || n != 1 {
			t.Errorf("op %s has %d records (%v), want 1", o.ID, n, err)
		}
	}
	var inOps int
	raw.QueryRow(`SELECT count(*) FROM ops_applied WHERE op_id = ?`, written.ID).Scan(&inOps)
	if inOps != 0 {
		t.Errorf("the written op also has an ops_applied row")
	}
	// History is append-only, like the audit table.
	for _, stmt := range []string{`UPDATE answer_history SET value = 'no'`, `DELETE FROM answer_history`} {
		if _, err := raw.Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: error = %v, want append-only refusal", stmt, err)
		}
	}
}

// rawDB opens a second connection to a database file, for checks and
// tampering.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}
