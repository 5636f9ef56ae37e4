package localstore

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
	"github.com/fieldworkhq/fieldwork/internal/syncer"
)

// settleAppliedSQL must read the batch and seek each op's answer by key: a
// plan that scans the answers table costs the whole store per batch.
func TestSettleAppliedPlan(t *testing.T) {
	l, err := Open(t.Context(), filepath.Join(t.TempDir(), "local.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rows, err := l.conn.Writer.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+settleAppliedSQL, `{"1":1}`, "u", "t")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "\n")
	if strings.Contains(text, "SCAN answers") || strings.Contains(text, "SCAN o\n") && !strings.Contains(text, "SEARCH answers USING") ||
		!strings.Contains(text, "SEARCH o USING INTEGER PRIMARY KEY") {
		t.Errorf("plan:\n%s\nwant the batch outermost, the outbox and the answers each sought by key", text)
	}
}

// The one-statement settle of a commonly acknowledged batch leaves the store
// exactly as the general path does: the same answers (every column) and the
// same outbox, for batches with answers that have later edits pending,
// batches acknowledged twice, and batches whose ops do not all still wait.
func TestSettleApplied_SameAsGeneralPath(t *testing.T) {
	ctx := t.Context()
	defer func() { settleInOneStatement = true }()
	pdu, _, _ := framework.BuiltinByID("probation-pdu-2023")
	var qs []string
	for _, q := range pdu.Questions() {
		if q.Type == framework.TypeYesNo {
			qs = append(qs, q.ID)
		}
	}
	for trial := range 25 {
		var dump [2]string
		for i, fast := range []bool{true, false} {
			settleInOneStatement = fast
			rng := rand.New(rand.NewPCG(uint64(trial), 3)) // the same trial for both paths
			l := withCase(t)
			l.Now = func() time.Time { return time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC) }
			var ops []framework.Op
			for q := range 12 {
				op, err := l.Record(ctx, "insp.a", "I", "T-1", qs[q], []string{"yes", "no", "na"}[rng.IntN(3)], []string{"", "seen"}[rng.IntN(2)])
				if err != nil {
					t.Fatal(err)
				}
				ops = append(ops, op)
			}
			for q := range 12 { // later edits, left pending
				if rng.IntN(3) == 0 {
					if _, err := l.Record(ctx, "insp.a", "I", "T-1", qs[q], "no", "later"); err != nil {
						t.Fatal(err)
					}
				}
			}
			at := time.Date(2026, 11, 22, 9, rng.IntN(60), 0, 0, time.UTC)
			acks := make([]framework.Ack, len(ops))
			for k, op := range ops {
				rev := int64(1 + rng.IntN(5))
				acks[k] = framework.Ack{OpID: op.ID, Result: framework.OpApplied, Revision: rev, Answer: &framework.Answer{
					CaseRef: op.CaseRef, QuestionID: op.QuestionID, Value: op.Value, Note: op.Note, Revision: rev, UpdatedBy: "lead", DeviceID: "d", UpdatedAt: at}}
			}
			if fast && !commonApplied(ops, acks) {
				t.Fatal("the batch is not a common one: the test compares nothing")
			}
			half := len(ops) / 2
			if rng.IntN(2) == 0 { // the first half acknowledged before (a re-sent batch)
				if err := l.Acknowledge(ctx, ops[:half], acks[:half]); err != nil {
					t.Fatal(err)
				}
			}
			for range 1 + rng.IntN(2) {
				if err := l.Acknowledge(ctx, ops, acks); err != nil {
					t.Fatal(err)
				}
			}
			var b strings.Builder
			for _, q := range []string{
				`SELECT inspection_id, case_ref, question_id, value, note, revision, updated_by, updated_at, pending FROM answers ORDER BY 1, 2, 3`,
				`SELECT device_seq, question_id, value, note, base_revision FROM outbox ORDER BY device_seq`,
			} {
				rows, err := l.conn.Writer.QueryContext(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				cols, _ := rows.Columns()
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for k := range vals {
					ptrs[k] = &vals[k]
				}
				for rows.Next() {
					rows.Scan(ptrs...)
					fmt.Fprintln(&b, vals...)
				}
				rows.Close()
			}
			dump[i] = b.String()
		}
		if dump[0] != dump[1] {
			t.Fatalf("trial %d: one statement:\n%s\ngeneral path:\n%s", trial, dump[0], dump[1])
		}
	}
}

// withCase opens a client store holding inspection I and its case T-1,
// closed when the test ends (exported to localstore_test as WithCase).
func withCase(t *testing.T) *Store {
	t.Helper()
	l, _ := withCaseIn(t)
	return l
}

// withCaseIn is withCase, with the folder its file (local.db) is in.
func withCaseIn(t *testing.T) (*Store, string) {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	l, err := Open(ctx, filepath.Join(dir, "local.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	pdu, pduRaw, _ := framework.BuiltinByID("probation-pdu-2023")
	if err := l.PutFramework(ctx, pdu.ID, pdu.Version, pduRaw); err != nil {
		t.Fatal(err)
	}
	in := &framework.Inspection{ID: "I", Name: "Test", FrameworkID: pdu.ID, FrameworkVersion: pdu.Version, Status: framework.InspectionFieldwork, Role: "inspector"}
	cs := &framework.Case{Ref: "T-1", Inspector: "insp.a", Status: framework.CaseInProgress, Attributes: map[string]string{
		"sentence_type": "community", "sex": "male", "age_band": "26-39", "ethnicity": "white", "rosh": "medium", "mappa": "none", "pdu": "Test", "contact_suspended": "false"}}
	if err := l.ApplyChanges(ctx, []framework.Change{{InspectionID: "I", Inspection: in}, {InspectionID: "I", Case: cs}}, 2); err != nil {
		t.Fatal(err)
	}
	return l, dir
}

// The general acknowledgement path leaves every answer as syncer.Settle
// says — the rule stated in Go — for batches mixing applied, refused and
// conflicting ops, answers with later edits pending, and batches
// acknowledged twice. (TestSettleApplied_SameAsGeneralPath holds the
// one-statement path to this one.)
func TestAcknowledge_SettlesAsSyncerSays(t *testing.T) {
	ctx := t.Context()
	pdu, _, _ := framework.BuiltinByID("probation-pdu-2023")
	var qs []string
	for _, q := range pdu.Questions() {
		if q.Type == framework.TypeYesNo {
			qs = append(qs, q.ID)
		}
	}
	snapshot := func(l *Store) map[syncer.AnswerKey]syncer.LocalAnswer {
		rows, err := l.conn.Writer.QueryContext(ctx, `SELECT inspection_id, case_ref, question_id, value, note, revision, updated_by, updated_at, pending FROM answers`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[syncer.AnswerKey]syncer.LocalAnswer{}
		for rows.Next() {
			var k syncer.AnswerKey
			var a syncer.LocalAnswer
			var at string
			if err := rows.Scan(&k.InspectionID, &k.CaseRef, &k.QuestionID, &a.Value, &a.Note, &a.Revision, &a.UpdatedBy, &at, &a.Pending); err != nil {
				t.Fatal(err)
			}
			a.UpdatedAt = sqlite.ParseTime(at)
			out[k] = a
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	settleInOneStatement = false
	defer func() { settleInOneStatement = true }()
	for trial := range 40 {
		rng := rand.New(rand.NewPCG(uint64(trial), 11))
		l := withCase(t)
		var ops []framework.Op
		for range 16 {
			op, err := l.Record(ctx, "insp.a", "I", "T-1", qs[rng.IntN(6)], []string{"yes", "no", "na"}[rng.IntN(3)], []string{"", "seen"}[rng.IntN(2)])
			if err != nil {
				t.Fatal(err)
			}
			ops = append(ops, op)
		}
		n := 1 + rng.IntN(len(ops)) // a batch: the outbox's first n ops
		batch := ops[:n]
		at := time.Date(2026, 12, 1, 9, rng.IntN(60), 0, 0, time.UTC)
		acks := make([]framework.Ack, n)
		for k, op := range batch {
			rev := int64(1 + rng.IntN(9))
			server := &framework.Answer{CaseRef: op.CaseRef, QuestionID: op.QuestionID, Value: []string{"yes", "no"}[rng.IntN(2)], Note: "server", Revision: rev, UpdatedBy: "lead", UpdatedAt: at}
			switch rng.IntN(4) {
			case 0:
				acks[k] = framework.Ack{OpID: op.ID, Result: framework.OpRejected, Reason: "refused"}
			case 1:
				acks[k] = framework.Ack{OpID: op.ID, Result: framework.OpConflict, Revision: rev, Answer: server}
			default:
				server.Value, server.Note = op.Value, op.Note
				acks[k] = framework.Ack{OpID: op.ID, Result: framework.OpApplied, Revision: rev, Answer: server}
			}
		}
		for round := range 2 { // the second time, as a re-sent batch, it settles nothing
			before := snapshot(l)
			queued := map[string]bool{}
			out, err := l.OutboxAfter(ctx, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range out {
				queued[op.ID] = true
			}
			want := before
			for _, s := range syncer.Settlements(batch, acks, func(id string) bool { return queued[id] }) {
				if a, keep := syncer.Settle(before[s.Key], s); keep {
					want[s.Key] = a
				} else {
					delete(want, s.Key)
				}
			}
			if err := l.Acknowledge(ctx, batch, acks); err != nil {
				t.Fatal(err)
			}
			if got := snapshot(l); !reflect.DeepEqual(got, want) {
				t.Fatalf("trial %d round %d: answers\n%+v\nwant (syncer.Settle)\n%+v", trial, round, got, want)
			}
		}
	}
}
