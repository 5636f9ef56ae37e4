package store

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// A database written before migration 0006 kept every op's record in
// ops_applied and copied each answer version into the audit table. After
// the migration those records still answer re-sent ops (and refuse their
// op_ids for another payload), nothing is recorded or listed twice, and new
// writes are recorded the new way beside them. A device_seq below a
// recorded one decides nothing (migration 0009: superseding names ops).
func TestMigration0006_EarlierRecordsStillCount(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old := openBefore(t, path, "0006")
	pdu, pduRaw, _ := framework.BuiltinByID("probation-pdu-2023")
	const at = "2026-11-01T10:00:00Z"
	const opX = "01a20000-0000-7000-8000-000000000001"
	seed(t, old, []seedStmt{
		{`INSERT INTO frameworks VALUES (?, ?, 'PDU', ?, 'x', 1, ?)`, []any{pdu.ID, pdu.Version, pduRaw, at}},
		{`INSERT INTO users VALUES ('insp.a', 0, ?)`, []any{at}},
		{`INSERT INTO inspections VALUES ('I', 'Old', 'U', ?, ?, 'fieldwork', ?, 'admin')`, []any{pdu.ID, pdu.Version, at}},
		{`INSERT INTO team VALUES ('I', 'insp.a', 'inspector')`, nil},
		{`INSERT INTO cases VALUES ('C1', 'I', 'T-1', '{"sentence_type":"community","sex":"male","age_band":"26-39","ethnicity":"white","rosh":"medium","mappa":"none","pdu":"U","contact_suspended":"false"}', 'insp.a', 'in_progress')`, nil},
		{`INSERT INTO answers VALUES ('C1', '2.1.1', 'yes', '', 1, 'insp.a', 'dev-1', ?)`, []any{at}},
		{`INSERT INTO answer_history (case_id, question_id, value, note, revision, updated_by, device_id, updated_at, op_id) VALUES ('C1', '2.1.1', 'yes', '', 1, 'insp.a', 'dev-1', ?, ?)`, []any{at, opX}},
		{`INSERT INTO ops_applied VALUES (?, 1, 1, '', NULL, 'insp.a', 'dev-1', 5, ?, 'C1', '2.1.1')`, []any{opX, at}},
		{`INSERT INTO audit (at, user_name, device_id, action, entity, before, after, inspection_id) VALUES (?, 'insp.a', 'dev-1', 'answer.write', 'case/I/T-1/2.1.1', NULL, ?, 'I')`,
			[]any{at, `{"note":"","op_id":"` + opX + `","revision":1,"value":"yes"}`}},
		{`INSERT INTO question_counts VALUES ('I', '2.1.1', 'yes', 1)`, nil},
	})
	old.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u := framework.User{Name: "insp.a"}
	mk := func(id, v string, seq int64) framework.Op {
		return framework.Op{ID: id, InspectionID: "I", CaseRef: "T-1", QuestionID: "2.1.1", Value: v, BaseRevision: 1, DeviceID: "dev-1", DeviceSeq: seq}
	}
	acks, err := db.ApplyOps(ctx, u, []framework.Op{
		mk(opX, "yes", 5), // re-sent
		mk("01a20000-0000-7000-8000-000000000002", "no", 4), // a lower seq than the recorded 5: a restored store's new edit
		mk("01a20000-0000-7000-8000-000000000003", "na", 6), // on base 1 as well: the copy has not seen revision 2
		mk(opX, "no", 7), // the recorded op_id with another payload
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := acks[0]; !a.Duplicate || a.Result != framework.OpApplied || a.Revision != 1 {
		t.Errorf("re-sent op recorded before the migration: %+v, want a duplicate applied at revision 1", a)
	}
	if a := acks[1]; a.Result != framework.OpApplied || a.Revision != 2 || a.Reason != "" {
		t.Errorf("op with a seq below one recorded before the migration: %+v, want applied at revision 2", a)
	}
	// The seq below the recorded 5 revealed a restored or copied store
	// (migration 0010 carried the old records' high-water mark over): from
	// then on the device is forked, and the copy's edit on a stale base is a
	// conflict, not a silent replacement of revision 2.
	if a := acks[1]; !a.DeviceReused {
		t.Errorf("op with a seq below one recorded before the migration: %+v, want device_reused", a)
	}
	if a := acks[2]; a.Result != framework.OpConflict || a.Revision != 2 || !a.DeviceReused {
		t.Errorf("the forked device's op on base 1: %+v, want a conflict at revision 2, device_reused", a)
	}
	if a := acks[3]; a.Result != framework.OpRejected || !strings.Contains(a.Reason, opX) || a.Answer != nil {
		t.Errorf("recorded op_id re-used: %+v, want rejected naming the op_id, with no answer", a)
	}
	var dup int
	if err := db.conn.Reader.QueryRow(`SELECT count(*) FROM (SELECT op_id FROM op_records GROUP BY op_id HAVING count(*) > 1)`).Scan(&dup); err != nil || dup != 0 {
		t.Errorf("%d ops recorded twice (%v)", dup, err)
	}
	entries, err := db.Audit(ctx, "I", "T-1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Action+" "+e.User+" "+e.Before+" -> "+e.After)
	}
	conflictID := "none"
	if acks[2].Conflict != nil {
		conflictID = acks[2].Conflict.ID
	}
	want := []string{
		`answer.write insp.a  -> {"note":"","op_id":"` + opX + `","revision":1,"value":"yes"}`,
		`answer.write insp.a {"note":"","revision":1,"value":"yes"} -> {"note":"","op_id":"01a20000-0000-7000-8000-000000000002","revision":2,"value":"no"}`,
		`conflict.open insp.a {"revision":2,"value":"no"} -> {"base_revision":1,"conflict":"` + conflictID + `","value":"na"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ms, err := db.Recount(ctx, false); err != nil || len(ms) != 0 {
		t.Errorf("recount = %v, %v; want the kept counts right", ms, err)
	}
}

// Counts kept before migration 0008 were of every answer, including those
// to questions that no longer apply to their case. Opening the database
// recounts them once, without those answers, which stay as they are.
func TestMigration0008_RecountsWithoutAnswersThatNoLongerApply(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old := openBefore(t, path, "0008")
	pdu, pduRaw, _ := framework.BuiltinByID("probation-pdu-2023")
	const at = "2026-11-01T10:00:00Z"
	seed(t, old, []seedStmt{
		{`INSERT INTO frameworks VALUES (?, ?, 'PDU', ?, 'x', 1, ?)`, []any{pdu.ID, pdu.Version, pduRaw, at}},
		{`INSERT INTO users VALUES ('insp.a', 0, ?)`, []any{at}},
		{`INSERT INTO inspections VALUES ('I', 'Old', 'U', ?, ?, 'fieldwork', ?, 'admin')`, []any{pdu.ID, pdu.Version, at}},
		// Answered while MAPPA 1; re-imported as none since.
		{`INSERT INTO cases VALUES ('C1', 'I', 'T-1', '{"sentence_type":"community","sex":"male","age_band":"26-39","ethnicity":"white","rosh":"medium","mappa":"none","pdu":"U","contact_suspended":"false"}', 'insp.a', 'in_progress')`, nil},
		{`INSERT INTO answers VALUES ('C1', '2.3.3f', 'yes', '', 1, 'insp.a', 'dev-1', ?)`, []any{at}},
		{`INSERT INTO answers VALUES ('C1', '2.3.3e', 'yes', '', 1, 'insp.a', 'dev-1', ?)`, []any{at}},
		{`INSERT INTO question_counts VALUES ('I', '2.3.3f', 'yes', 1), ('I', '2.3.3e', 'yes', 1)`, nil},
	})
	old.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, in, err := db.PooledCounts(ctx, "I")
	if err != nil {
		t.Fatal(err)
	}
	if in.Counts["2.3.3f"]["yes"] != 0 || in.Counts["2.3.3e"]["yes"] != 1 {
		t.Errorf("kept counts after the migration = %v, want 2.3.3e yes 1 and no 2.3.3f (it no longer applies)", in.Counts)
	}
	if ms, err := db.Recount(ctx, false); err != nil || len(ms) != 0 {
		t.Errorf("recount = %v, %v; want the kept counts right", ms, err)
	}
	if as, err := db.Answers(ctx, "I", "T-1"); err != nil || len(as) != 2 {
		t.Errorf("answers = %+v, %v; want both kept", as, err)
	}
	var pending int
	if err := db.conn.Reader.QueryRow(`SELECT count(*) FROM pending_tasks`).Scan(&pending); err != nil || pending != 0 {
		t.Errorf("%d pending task(s) left (%v), want the recount done once", pending, err)
	}
}

// A database from before migration 0015 has no counts by attribute:
// opening it backfills them once from its answers and cases (the recount's
// rule), so a pooled breakdown reads them at once and recount agrees.
func TestMigration0015_BackfillsTheCountsByAttribute(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old := openBefore(t, path, "0015")
	pdu, pduRaw, _ := framework.BuiltinByID("probation-pdu-2023")
	const at = "2026-11-01T10:00:00Z"
	const attrs = `{"sentence_type":"%s","sex":"male","age_band":"26-39","ethnicity":"white","rosh":"medium","mappa":"none","pdu":"U","contact_suspended":"false"}`
	seed(t, old, []seedStmt{
		{`INSERT INTO frameworks VALUES (?, ?, 'PDU', ?, 'x', 1, ?)`, []any{pdu.ID, pdu.Version, pduRaw, at}},
		{`INSERT INTO users VALUES ('insp.a', 0, ?)`, []any{at}},
		{`INSERT INTO inspections VALUES ('I', 'Old', 'U', ?, ?, 'fieldwork', ?, 'admin')`, []any{pdu.ID, pdu.Version, at}},
		{`INSERT INTO cases (id, inspection_id, case_ref, attributes, inspector, status) VALUES ('C1', 'I', 'T-1', ?, 'insp.a', 'in_progress'), ('C2', 'I', 'T-2', ?, 'insp.a', 'in_progress')`,
			[]any{strings.Replace(attrs, "%s", "community", 1), strings.Replace(attrs, "%s", "licence", 1)}},
		{`INSERT INTO answers VALUES ('C1', '2.1.1', 'yes', '', 1, 'insp.a', 'dev-1', ?), ('C2', '2.1.1', 'no', '', 1, 'insp.a', 'dev-1', ?)`, []any{at, at}},
		{`INSERT INTO question_counts VALUES ('I', '2.1.1', 'yes', 1), ('I', '2.1.1', 'no', 1)`, nil},
	})
	old.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, in, err := db.PooledSample(ctx, PoolOptions{By: []string{"sentence_type"}}, "I")
	if err != nil {
		t.Fatal(err)
	}
	by := in.ByCounts["sentence_type"]
	if by["community"]["2.1.1"]["yes"] != 1 || by["licence"]["2.1.1"]["no"] != 1 || in.AttributeCases["sentence_type"]["licence"] != 1 || in.AttributeCases["sex"]["male"] != 2 {
		t.Errorf("after the migration: by sentence_type %v, cases %v; want each case's answer under its sentence type", by, in.AttributeCases)
	}
	if ms, err := db.Recount(ctx, false); err != nil || len(ms) != 0 {
		t.Errorf("recount = %v, %v; want the kept counts right", ms, err)
	}
	var pending int
	if err := db.conn.Reader.QueryRow(`SELECT count(*) FROM pending_tasks`).Scan(&pending); err != nil || pending != 0 {
		t.Errorf("%d pending task(s) left (%v), want the backfill done once", pending, err)
	}
}

// seedStmt is one statement that puts a database in an older state.
type seedStmt struct {
	sql  string
	args []any
}

// seed runs stmts on c in order, naming the one that fails.
func seed(tb testing.TB, c *sqlite.Conn, stmts []seedStmt) {
	tb.Helper()
	for _, st := range stmts {
		if _, err := c.Writer.Exec(st.sql, st.args...); err != nil {
			tb.Fatalf("%s: %v", st.sql, err)
		}
	}
}

// openBefore opens a database at path with the server's migrations
// numbered below migration only: the schema of a file written before it.
func openBefore(tb testing.TB, path, migration string) *sqlite.Conn {
	tb.Helper()
	before := fstest.MapFS{}
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	for _, name := range names {
		if filepath.Base(name) < migration {
			body, _ := fs.ReadFile(migrations, name)
			before[name] = &fstest.MapFile{Data: body}
		}
	}
	old, err := sqlite.Open(context.Background(), path, before, "migrations")
	if err != nil {
		tb.Fatal(err)
	}
	return old
}
