package localstore_test

import (
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
)

// The offline store refuses a note the server would refuse, with the
// message of the one rule both use (framework.CheckAnswerNote, which the
// server's push applies: server's TestPushLimits_OpsOverALimitRejected), and queues
// nothing: an edit it accepted would only be rejected at the next sync (and
// one not valid UTF-8 could not even be sent).
func TestRecord_RefusesANoteTheServerRefuses(t *testing.T) {
	ctx := t.Context()
	l := localstore.WithCase(t)
	for _, note := range []string{strings.Repeat("n", 8001), "bad \xff byte"} {
		rule := framework.CheckAnswerNote("T-1", "2.1.1", note)
		if rule == nil {
			t.Fatalf("the rule accepts %.20q…; this test needs a note it refuses", note)
		}
		_, err := l.Record(ctx, "insp.a", "I", "T-1", "2.1.1", "yes", note)
		if err == nil {
			t.Fatalf("offline store accepted a note the server refuses (%v)", rule)
		}
		if !strings.HasSuffix(err.Error(), rule.Error()) || !strings.Contains(err.Error(), "note") {
			t.Errorf("offline error %q, want the rule's %q", err, rule)
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
