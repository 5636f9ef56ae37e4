package store_test

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/store"
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
	if _, err := db.ApplyOps(ctx, store.User{Name: "insp.a"}, []framework.Op{edit, again}, nil); err != nil {
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
	first, err := db.ApplyOps(ctx, adminUser(), batch, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := db.ApplyOps(ctx, adminUser(), batch, nil)
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

// A client's acknowledgement of a batch: acknowledged ops leave the outbox;
// an answer with no edit left pending shows the server's answer after the
// last acknowledged op (or goes, if the server holds none); an answer with
// a later edit still pending keeps it; acknowledging again changes nothing.
func TestLocalAcknowledge_SettlesEachAnswerOnce(t *testing.T) {
	ctx := t.Context()
	l := store.LocalWithCase(t)
	record := func(q, v string) framework.Op {
		o, err := l.Record(ctx, "insp.a", "I", "T-1", q, v, "")
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	twiceA, twiceB := record("2.1.1", "yes"), record("2.1.1", "no") // two edits, both acknowledged
	refused := record("2.1.2", "yes")                               // rejected; the server has no answer
	keep := record("2.1.3", "yes")                                  // acknowledged, but a later edit is pending
	later := record("2.1.3", "na")
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	server := func(q, v string, rev int64) *framework.Answer {
		return &framework.Answer{CaseRef: "T-1", QuestionID: q, Value: v, Revision: rev, UpdatedBy: "insp.a", UpdatedAt: at}
	}
	ops := []framework.Op{twiceA, twiceB, refused, keep}
	acks := []framework.Ack{
		{OpID: twiceA.ID, Result: framework.OpApplied, Revision: 1, Answer: server("2.1.1", "yes", 1)},
		{OpID: twiceB.ID, Result: framework.OpApplied, Revision: 2, Answer: server("2.1.1", "no", 2)},
		{OpID: refused.ID, Result: framework.OpRejected, Reason: "no such thing"},
		{OpID: keep.ID, Result: framework.OpApplied, Revision: 1, Answer: server("2.1.3", "yes", 1)},
	}
	// The whole batch, then (as after a re-sent batch) all of it again and
	// part of it again: the first settles, the others change nothing.
	for _, n := range []int{len(acks), len(acks), 2} {
		if err := l.Acknowledge(ctx, ops, acks[:n]); err != nil {
			t.Fatal(err)
		}
	}
	answers, err := l.Answers(ctx, "I", "T-1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range answers {
		got = append(got, a.QuestionID+"="+a.Value+"@"+strconv.FormatInt(a.Revision, 10))
	}
	if want := "2.1.1=no@2 2.1.3=na@0"; strings.Join(got, " ") != want {
		t.Errorf("local answers = %s, want %s", strings.Join(got, " "), want)
	}
	if n, _ := l.PendingCount(ctx); n != 1 {
		t.Errorf("outbox = %d ops, want 1 (the later edit)", n)
	}
	out, _ := l.Outbox(ctx, 10)
	if len(out) != 1 || out[0].ID != later.ID {
		t.Errorf("outbox = %+v, want the later edit only", out)
	}
	rej, err := l.Rejections(ctx)
	if err != nil || len(rej) != 1 || rej[0].OpID != refused.ID || rej[0].Reason != "no such thing" {
		t.Errorf("rejections = %+v, %v; want the refused op with its reason", rej, err)
	}
}

// Acknowledging a "batch" that is not a run of the outbox (an op in its
// range left out) is refused and removes nothing, rather than dropping the
// op left out.
func TestLocalAcknowledge_RefusesABatchWithAGap(t *testing.T) {
	ctx := t.Context()
	l := store.LocalWithCase(t)
	var ops []framework.Op
	for _, q := range []string{"2.1.1", "2.1.2", "2.1.3"} {
		o, err := l.Record(ctx, "insp.a", "I", "T-1", q, "yes", "")
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, o)
	}
	gapped := []framework.Op{ops[0], ops[2]}
	acks := []framework.Ack{{OpID: ops[0].ID, Result: framework.OpApplied, Revision: 1}, {OpID: ops[2].ID, Result: framework.OpApplied, Revision: 1}}
	if err := l.Acknowledge(ctx, gapped, acks); err == nil || !strings.Contains(err.Error(), "not in it") {
		t.Fatalf("acknowledging a batch with a gap: %v, want a refusal", err)
	}
	if n, _ := l.PendingCount(ctx); n != 3 {
		t.Errorf("outbox = %d ops after the refusal, want all 3", n)
	}
}

// The common acknowledgement (every op applied as sent, by one writer at one
// time) is settled by one statement: each answer shows the server's revision,
// writer and time, except one with a later edit still pending, which keeps it;
// acknowledging the batch again changes nothing.
func TestLocalAcknowledge_CommonBatch(t *testing.T) {
	ctx := t.Context()
	l := store.LocalWithCase(t)
	record := func(q, v, note string) framework.Op {
		o, err := l.Record(ctx, "insp.a", "I", "T-1", q, v, note)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	ops := []framework.Op{record("2.1.1", "yes", "seen"), record("2.1.2", "no", ""), record("2.1.3", "yes", "")}
	later := record("2.1.3", "na", "")
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var acks []framework.Ack
	for i, op := range ops {
		rev := int64(i + 4) // the server's revisions, unrelated to the local ones
		acks = append(acks, framework.Ack{OpID: op.ID, Result: framework.OpApplied, Revision: rev, Answer: &framework.Answer{
			CaseRef: "T-1", QuestionID: op.QuestionID, Value: op.Value, Note: op.Note, Revision: rev, UpdatedBy: "lead", UpdatedAt: at}})
	}
	for range 2 {
		if err := l.Acknowledge(ctx, ops, acks); err != nil {
			t.Fatal(err)
		}
	}
	answers, err := l.Answers(ctx, "I", "T-1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range answers {
		got = append(got, fmt.Sprintf("%s=%s/%s@%d by %s at %s", a.QuestionID, a.Value, a.Note, a.Revision, a.UpdatedBy, a.UpdatedAt.Format(time.RFC3339)))
	}
	want := []string{
		"2.1.1=yes/seen@4 by lead at 2026-11-22T09:00:00Z",
		"2.1.2=no/@5 by lead at 2026-11-22T09:00:00Z",
	}
	if len(got) != 3 || strings.Join(got[:2], "\n") != strings.Join(want, "\n") || !strings.HasPrefix(got[2], "2.1.3=na/@0 by insp.a") {
		t.Errorf("local answers:\n%s\nwant:\n%s\n2.1.3=na/@0 by insp.a (the pending edit)", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	out, _ := l.Outbox(ctx, 10)
	if len(out) != 1 || out[0].ID != later.ID {
		t.Errorf("outbox = %+v, want the later edit only", out)
	}
}
