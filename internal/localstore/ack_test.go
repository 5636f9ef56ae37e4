package localstore_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
)

// A client's acknowledgement of a batch: acknowledged ops leave the outbox;
// an answer with no edit left pending shows the server's answer after the
// last acknowledged op (or goes, if the server holds none); an answer with
// a later edit still pending keeps it; acknowledging again changes nothing.
func TestLocalAcknowledge_SettlesEachAnswerOnce(t *testing.T) {
	ctx := t.Context()
	l := localstore.WithCase(t)
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
	out, _ := l.OutboxAfter(ctx, 0, 10)
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
	l := localstore.WithCase(t)
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
	l := localstore.WithCase(t)
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
	out, _ := l.OutboxAfter(ctx, 0, 10)
	if len(out) != 1 || out[0].ID != later.ID {
		t.Errorf("outbox = %+v, want the later edit only", out)
	}
}
