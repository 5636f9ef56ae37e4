package syncer

import (
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

func TestDiverged(t *testing.T) {
	for _, tc := range []struct {
		name         string
		after, token int64
		at           LogMark
		want         bool
	}{
		{"a new laptop pulls from the start", 0, 0, LogMark{Max: 0}, false},
		{"a new laptop, a server with a log", 0, 0, LogMark{Max: 40}, false},
		{"the change at the cursor is the one the laptop saw", 30, 77, LogMark{Seq: 30, Token: 77, Max: 40}, false},
		{"at the end of the log", 40, 77, LogMark{Seq: 40, Token: 77, Max: 40}, false},
		{"the log ends before the cursor: restored", 41, 77, LogMark{Seq: 41, Token: 12, Max: 40}, true},
		{"another change under the cursor's seq: restored and written since", 30, 77, LogMark{Seq: 30, Token: 78, Max: 90}, true},
		{"no change at or before the cursor", 30, 77, LogMark{Seq: 30, Token: 0, Max: 90}, true},
		{"a cursor from before tokens, within the log", 30, 0, LogMark{Seq: 30, Token: 5, Max: 90}, false},
		{"a cursor from before tokens, past the log's end", 91, 0, LogMark{Seq: 91, Token: 5, Max: 90}, true},
		{"an empty log and a cursor", 1, 0, LogMark{Seq: 1}, true},
	} {
		if got := Diverged(tc.after, tc.token, tc.at); got != tc.want {
			t.Errorf("%s: Diverged(%d, %d, %+v) = %v, want %v", tc.name, tc.after, tc.token, tc.at, got, tc.want)
		}
	}
}

func TestResend(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	mine := framework.Answer{Value: "yes", Note: "seen at home", Revision: 4, UpdatedBy: "u", UpdatedAt: at}
	for _, tc := range []struct {
		name   string
		server *framework.Answer
		base   int64
		send   bool
	}{
		{"the server holds none: a first write", nil, 0, true},
		{"the server holds mine", &framework.Answer{Value: "yes", Note: "seen at home", Revision: 4, UpdatedAt: at}, 0, false},
		{"the server holds mine under another revision", &framework.Answer{Value: "yes", Note: "seen at home", Revision: 2, UpdatedAt: at.Add(time.Hour)}, 0, false},
		{"the same value, another note", &framework.Answer{Value: "yes", Note: "", Revision: 3, UpdatedAt: at.Add(-time.Hour)}, 3, true},
		{"an older value mine replaced: on the server's revision", &framework.Answer{Value: "no", Revision: 3, UpdatedAt: at.Add(-time.Hour)}, 3, true},
		{"written after mine: a stale base, so a conflict", &framework.Answer{Value: "no", Revision: 4, UpdatedAt: at.Add(time.Minute)}, 3, true},
		{"written after mine at revision 1", &framework.Answer{Value: "no", Revision: 1, UpdatedAt: at.Add(time.Minute)}, 0, true},
		{"written at the same instant: not after", &framework.Answer{Value: "no", Revision: 2, UpdatedAt: at}, 2, true},
	} {
		base, send := Resend(mine, tc.server)
		if base != tc.base || send != tc.send {
			t.Errorf("%s: Resend = %d, %v; want %d, %v", tc.name, base, send, tc.base, tc.send)
		}
	}
}

func TestRebase(t *testing.T) {
	for rev, want := range map[int64]int64{0: 0, 1: 0, 2: 1, 9: 8} {
		if got := Rebase(rev); got != want {
			t.Errorf("Rebase(%d) = %d, want %d", rev, got, want)
		}
	}
}
