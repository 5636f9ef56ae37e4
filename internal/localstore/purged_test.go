package localstore_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
)

// A pulled inspection with status purged drops everything of it from the
// laptop — answers, the outbox, refused edits — leaving its row (purged)
// and one notice counting the edits made here that went, told once; no
// byte of its notes is left in the store's file or log.
func TestPurgedInspectionIsDropped(t *testing.T) {
	ctx := t.Context()
	l, dir := localstore.WithCaseIn(t)
	const note = "PURGED-NOTE-TEXT"
	synced, err := l.Record(ctx, "insp.a", "I", "T-1", "2.1.1", "yes", note+" synced")
	if err != nil {
		t.Fatal(err)
	}
	refused, err := l.Record(ctx, "insp.a", "I", "T-1", "2.1.2", "no", note+" refused")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Acknowledge(ctx, []framework.Op{synced, refused}, []framework.Ack{
		{OpID: synced.ID, Result: framework.OpApplied, Revision: 1, Answer: &framework.Answer{CaseRef: "T-1", QuestionID: "2.1.1", Value: "yes", Note: note + " synced", Revision: 1}},
		{OpID: refused.ID, Result: framework.OpRejected, Reason: "locked", Err: framework.Errorf(framework.CodePrecondition, "locked")},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Record(ctx, "insp.a", "I", "T-1", "2.1.3", "yes", note+" unsynced"); err != nil {
		t.Fatal(err)
	}
	in := &framework.Inspection{ID: "I", Name: "Test", FrameworkID: "probation-pdu-2023", FrameworkVersion: 1, Status: framework.InspectionPurged, Role: "inspector"}
	for range 2 { // delivered twice (a re-pulled page): dropped and told once
		if err := l.ApplyChanges(ctx, []framework.Change{{Seq: 9, InspectionID: "I", Inspection: in}}, 9); err != nil {
			t.Fatal(err)
		}
	}
	ns, err := l.PurgeNotices(ctx)
	if err != nil || len(ns) != 1 || ns[0].InspectionID != "I" || ns[0].DroppedEdits != 2 {
		t.Fatalf("notices = %+v, %v; want one for I with its 2 edits (1 unsynced, 1 refused)", ns, err)
	}
	if again, _ := l.PurgeNotices(ctx); len(again) != 0 {
		t.Errorf("told again: %+v", again)
	}
	if n, _ := l.PendingCount(ctx); n != 0 {
		t.Errorf("outbox after the purge: %d, want 0", n)
	}
	if as, _ := l.Answers(ctx, "I", "T-1"); len(as) != 0 {
		t.Errorf("answers after the purge: %+v", as)
	}
	if got, err := l.Inspection(ctx, "I"); err != nil || got.Status != framework.InspectionPurged {
		t.Errorf("the inspection's row = %+v, %v; want kept, purged", got, err)
	}
	if _, err := l.Record(ctx, "insp.a", "I", "T-1", "2.1.1", "no", ""); err == nil {
		t.Error("an edit to the purged inspection was recorded")
	}
	for _, f := range []string{"local.db", "local.db-wal"} {
		if data, err := os.ReadFile(filepath.Join(dir, f)); err == nil && bytes.Contains(data, []byte(note)) {
			t.Errorf("%s still holds the purged inspection's notes", f)
		}
	}
}
