package store_test

import (
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// The offline store refuses a note the server would refuse, with the
// server's message, and queues nothing: an edit it accepted would only be
// rejected at the next sync (and one not valid UTF-8 could not even be sent).
func TestLocalRecord_RefusesANoteTheServerRefuses(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := mustInspection(t, db)
	mustCases(t, db, id)
	l := store.LocalWithCase(t)
	for _, note := range []string{strings.Repeat("n", 8001), "bad \xff byte"} {
		o := op(id, "T-1", "2.1.1", "yes", 0)
		o.Note = note
		acks, err := db.ApplyOps(ctx, adminUser(), []framework.Op{o}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if acks[0].Result != framework.OpRejected {
			t.Fatalf("server ack = %+v, want rejected", acks[0])
		}
		_, err = l.Record(ctx, "insp.a", "I", "T-1", "2.1.1", "yes", note)
		if err == nil {
			t.Fatalf("offline store accepted a note the server refuses (%s)", acks[0].Reason)
		}
		if !strings.HasSuffix(err.Error(), acks[0].Reason) || !strings.Contains(err.Error(), "note") {
			t.Errorf("offline error %q, want the server's %q", err, acks[0].Reason)
		}
		if framework.ErrorCode(err) != framework.CodeInvalid {
			t.Errorf("offline error code = %q, want invalid", framework.ErrorCode(err))
		}
	}
	if n, err := l.PendingCount(ctx); err != nil || n != 0 {
		t.Errorf("outbox holds %d ops (%v), want none", n, err)
	}
	// At the limit it is fine.
	if _, err := l.Record(ctx, "insp.a", "I", "T-1", "2.1.1", "yes", strings.Repeat("n", 8000)); err != nil {
		t.Errorf("an 8000-byte note: %v", err)
	}
}
