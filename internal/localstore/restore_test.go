package localstore_test

import (
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
)

// The laptop's side of a restored server, step by step on a real store:
// the cursor and its token are kept with each page; BeginRestoreRecovery
// keeps the user's settled answers (not others', not those with an edit
// queued) and starts again from cursor 0; a recovery cut short and begun
// again keeps what it kept first; FinishRestoreRecovery queues again
// what the re-pulled server lacks, rebases the queued edit, and ends the
// recovery.
func TestRestoreRecovery(t *testing.T) {
	ctx := t.Context()
	l := localstore.WithCase(t)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	answer := func(q, v, by string, rev int64, when time.Time) framework.Change {
		return framework.Change{InspectionID: "I", Answer: &framework.Answer{CaseRef: "T-1", QuestionID: q, Value: v, Revision: rev, UpdatedBy: by, UpdatedAt: when}}
	}
	if err := l.ApplyPage(ctx, []framework.Change{
		answer("2.1.1", "yes", "insp.a", 2, at), // mine, lost: the server will hold an older value
		answer("2.1.2", "no", "lead", 1, at),    // someone else's: theirs to send
		answer("2.1.3", "yes", "insp.a", 1, at), // mine, lost: the server will hold none
		answer("2.2.1", "no", "insp.a", 3, at),  // mine, kept by the server
		answer("2.1.1a", "no", "insp.a", 4, at), // edited again here, unsent
	}, 40, 777); err != nil {
		t.Fatal(err)
	}
	if c, tok, err := l.Cursor(ctx); err != nil || c != 40 || tok != 777 {
		t.Fatalf("cursor = %d, %d, %v; want 40, 777", c, tok, err)
	}
	queued, err := l.Record(ctx, "insp.a", "I", "T-1", "2.1.1a", "yes", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.BeginRestoreRecovery(ctx, "insp.a"); err != nil {
		t.Fatal(err)
	}
	if c, tok, _ := l.Cursor(ctx); c != 0 || tok != 0 {
		t.Fatalf("after begin the cursor is %d, %d; want 0, 0", c, tok)
	}
	if as, _ := l.Answers(ctx, "I", "T-1"); len(as) != 1 || as[0].QuestionID != "2.1.1a" || as[0].Value != "yes" {
		t.Fatalf("after begin the laptop shows %+v; want only the queued edit", as)
	}
	// The re-pull is cut short after one page; the next sync finds the
	// server diverged again (restored once more) and begins again.
	// Its page held the server's 2.1.1, an older value of this user's.
	if err := l.ApplyPage(ctx, []framework.Change{answer("2.2.1", "no", "insp.a", 3, at), answer("2.1.1", "no", "insp.a", 1, at.Add(-time.Hour))}, 5, 55); err != nil {
		t.Fatal(err)
	}
	if under, _ := l.RestoreRecovering(ctx); !under {
		t.Fatal("a recovery whose re-pull was cut short is not under way")
	}
	if err := l.BeginRestoreRecovery(ctx, "insp.a"); err != nil {
		t.Fatal(err)
	}
	if err := l.ApplyPage(ctx, []framework.Change{
		answer("2.1.1", "no", "insp.b", 2, at.Add(time.Hour)), // written after mine: a conflict there
		answer("2.1.2", "yes", "lead", 1, at.Add(-time.Hour)),
		answer("2.2.1", "no", "insp.a", 3, at),
		answer("2.1.1a", "na", "lead", 2, at.Add(time.Hour)),
	}, 9, 99); err != nil {
		t.Fatal(err)
	}
	n, err := l.FinishRestoreRecovery(ctx)
	if err != nil || n != 2 {
		t.Fatalf("FinishRestoreRecovery = %d, %v; want 2 (2.1.1 and 2.1.3)", n, err)
	}
	if under, _ := l.RestoreRecovering(ctx); under {
		t.Error("the recovery is still under way after it finished")
	}
	ops, err := l.OutboxAfter(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	type sent struct {
		value string
		base  int64
	}
	got := map[string]sent{}
	for _, op := range ops {
		got[op.QuestionID] = sent{op.Value, op.BaseRevision}
		if op.QuestionID == "2.1.1a" && op.ID != queued.ID {
			t.Errorf("the queued edit changed its op_id: %s, was %s", op.ID, queued.ID)
		}
	}
	want := map[string]sent{
		"2.1.1":  {"yes", 1}, // before the server's revision 2, written after mine: a conflict there
		"2.1.3":  {"yes", 0}, // a first write
		"2.1.1a": {"yes", 1}, // rebased before the server's revision 2 (the lead's): a conflict there
	}
	if len(got) != len(want) {
		t.Errorf("outbox %+v, want %+v", got, want)
	}
	for q, w := range want {
		if got[q] != w {
			t.Errorf("outbox %s = %+v, want %+v", q, got[q], w)
		}
	}
	shown := map[string]string{}
	as, _ := l.Answers(ctx, "I", "T-1")
	for _, a := range as {
		shown[a.QuestionID] = a.Value
	}
	for q, v := range map[string]string{"2.1.1": "yes", "2.1.2": "yes", "2.1.3": "yes", "2.2.1": "no", "2.1.1a": "yes"} {
		if shown[q] != v {
			t.Errorf("the laptop shows %s = %q, want %q", q, shown[q], v)
		}
	}
	// An edit made before the sync sends them is based alike.
	if op, err := l.Record(ctx, "insp.a", "I", "T-1", "2.1.1", "na", ""); err != nil || op.BaseRevision != 1 {
		t.Errorf("an edit after the recovery: base %d, %v; want 1, as the edit sent again", op.BaseRevision, err)
	}
	if n, err := l.FinishRestoreRecovery(ctx); err != nil || n != 0 {
		t.Errorf("a second FinishRestoreRecovery = %d, %v; want 0", n, err)
	}
}
