package syncsim_test

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

// copyDB copies a stopped server's database (and its -wal, if one is
// left) from src to dst: a plain consistent copy, as an operator takes one.
func copyDB(t *testing.T, src, dst string) {
	t.Helper()
	for _, side := range []string{"", "-wal"} {
		os.Remove(dst + side)
		in, err := os.Open(src + side)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(dst+side, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(dst + "-shm")
}

// syncRes is syncOK returning the result.
func syncRes(t *testing.T, d *syncsim.Device) client.SyncResult {
	t.Helper()
	var err error
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var res client.SyncResult
		res, err = d.Client.Sync(ctx)
		cancel()
		if err == nil {
			return res
		}
		if status.Code(err) != codes.Unavailable && framework.ErrorCode(err) != "" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("sync %s: %v", d.User, err)
	return client.SyncResult{}
}

type answerKey struct{ caseRef, question string }

func answerMap(as []framework.Answer) map[answerKey]string {
	m := map[answerKey]string{}
	for _, a := range as {
		m[answerKey{a.CaseRef, a.QuestionID}] = a.Value
	}
	return m
}

// TestRestoredServerLosesNothing: two laptops sync edits, the server is
// copied, more edits are synced, the server is restored from the copy and
// a third party writes on it; then every lost edit is on the server again
// or a conflict both sides see, every laptop holds what the server holds
// (none skipped a change whose seq number was used again), and a laptop
// that synced only before the copy is unaffected.
func TestRestoredServerLosesNothing(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	ctx := t.Context()
	in := w.InspectionID
	a := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	b := w.NewDevice(t, filepath.Join(dir, "b"), "insp.b", w.Addr)
	lead := w.NewDevice(t, filepath.Join(dir, "lead"), "lead", w.Addr)
	qa := w.NewDevice(t, filepath.Join(dir, "qa"), "qa", w.Addr)
	for _, d := range []*syncsim.Device{a, b, lead, qa} {
		syncOK(t, d)
	}
	a.Record(t, in, "C-01", "2.1.1", "yes")
	a.Record(t, in, "C-02", "2.1.1", "yes")
	b.Record(t, in, "C-04", "2.1.1", "no")
	for _, d := range []*syncsim.Device{a, b, lead, qa} {
		syncOK(t, d)
	}

	// The backup: a copy of the stopped server's file.
	backup := filepath.Join(dir, "backup.db")
	w.Stop()
	copyDB(t, w.DBPath, backup)
	w.Restart(t)

	// Synced after the copy, so lost by the restore.
	a.Record(t, in, "C-01", "2.1.2", "yes") // edited again below, unsent
	a.Record(t, in, "C-02", "2.1.1", "no")  // someone writes it after the restore
	a.Record(t, in, "C-03", "2.1.1", "na")
	b.Record(t, in, "C-04", "2.1.1", "yes") // someone writes it after the restore
	b.Record(t, in, "C-05", "2.1.1", "no")
	for _, d := range []*syncsim.Device{a, b, lead} {
		syncOK(t, d)
	}
	// Recorded and not yet synced when the server is restored: the first
	// on top of a revision the restored server will issue again to another
	// value.
	a.Record(t, in, "C-01", "2.1.2", "no")
	a.Record(t, in, "C-01", "2.1.3", "yes")
	b.Record(t, in, "C-06", "2.1.1", "yes")

	// The restore: the server stopped, its file replaced by the copy.
	w.Stop()
	copyDB(t, backup, w.DBPath)
	os.Remove(w.DBPath + "-shm")
	w.Restart(t)

	// A third party writes on the restored server, on a fresh laptop: the
	// answers two lost edits had changed, and one of A's lost ones, so that
	// its revision numbers (and the change log's seq numbers) are used
	// again for other values.
	lead2 := w.NewDevice(t, filepath.Join(dir, "lead2"), "lead", w.Addr)
	syncOK(t, lead2)
	lead2.Record(t, in, "C-02", "2.1.1", "na")
	lead2.Record(t, in, "C-04", "2.1.1", "na")
	lead2.Record(t, in, "C-01", "2.1.2", "yes")
	lead2.Record(t, in, "C-05", "2.1.2", "yes")
	syncOK(t, lead2)

	ra := syncRes(t, a)
	rb := syncRes(t, b)
	rl := syncRes(t, lead)
	rq := syncRes(t, qa)
	if !ra.Restored || ra.Resent != 2 { // C-02 and C-03; C-01 2.1.2 goes as the edit queued on it
		t.Errorf("insp.a: %+v; want restored, 2 sent again", ra)
	}
	if !rb.Restored || rb.Resent != 2 { // C-04 and C-05
		t.Errorf("insp.b: %+v; want restored, 2 sent again", rb)
	}
	if !rl.Restored || rl.Resent != 0 { // the lead's old laptop pulled the lost edits, wrote none
		t.Errorf("lead: %+v; want restored, none sent again", rl)
	}
	if rq.Restored || rq.Resent != 0 {
		t.Errorf("qa, which synced only before the copy: %+v; want unaffected", rq)
	}
	all := []*syncsim.Device{a, b, lead, qa, lead2}
	for range 2 { // conflicts and the last answers reach everyone
		for _, d := range all {
			if res := syncRes(t, d); res.Restored {
				t.Errorf("%s: restored again: %+v", d.User, res)
			}
		}
	}

	var server []framework.Answer
	for _, c := range syncsim.Cases {
		as, err := w.Srv.DB().Answers(ctx, in, c)
		if err != nil {
			t.Fatal(err)
		}
		server = append(server, as...)
	}
	want := map[answerKey]string{
		{"C-01", "2.1.1"}: "yes",
		{"C-01", "2.1.2"}: "yes", // lead2's: A's queued edit on it is a conflict (below)
		{"C-01", "2.1.3"}: "yes",
		{"C-02", "2.1.1"}: "na", // lead2's, written after A's lost edit: a conflict
		{"C-03", "2.1.1"}: "na",
		{"C-04", "2.1.1"}: "na", // lead2's, written after B's lost edit: a conflict
		{"C-05", "2.1.1"}: "no",
		{"C-05", "2.1.2"}: "yes",
		{"C-06", "2.1.1"}: "yes",
	}
	got := answerMap(server)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("server %v = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("server answers %v, want %v", got, want)
	}
	// The lost edits the server no longer applied are conflicts, on the
	// laptops of both sides (and of the lead and QA, who see every case).
	wantConflicts := map[string][]string{
		"insp.a": {"C-01 2.1.2 no/yes", "C-02 2.1.1 no/na"},
		"insp.b": {"C-04 2.1.1 yes/na"},
		"lead":   {"C-01 2.1.2 no/yes", "C-02 2.1.1 no/na", "C-04 2.1.1 yes/na"},
		"qa":     {"C-01 2.1.2 no/yes", "C-02 2.1.1 no/na", "C-04 2.1.1 yes/na"},
	}
	for _, d := range all {
		cs, err := d.Local.Conflicts(ctx, in, false)
		if err != nil {
			t.Fatal(err)
		}
		var gotC []string
		for _, c := range cs {
			gotC = append(gotC, c.CaseRef+" "+c.QuestionID+" "+c.ClientValue+"/"+c.ServerValue)
		}
		sort.Strings(gotC)
		if w := wantConflicts[d.User]; len(w) != len(gotC) || len(w) > 0 && !equalStrings(w, gotC) {
			t.Errorf("%s conflicts %v, want %v", d.User, gotC, w)
		}
	}
	// Every laptop holds what the server holds of the cases it sees: none
	// skipped a change.
	for _, d := range all {
		local, err := d.Local.Answers(ctx, in, "")
		if err != nil {
			t.Fatal(err)
		}
		lm := answerMap(local)
		for k, v := range got {
			if !sees(d.User, k.caseRef) {
				continue
			}
			if lm[k] != v {
				t.Errorf("%s holds %v = %q, the server %q", d.User, k, lm[k], v)
			}
		}
		for k := range lm {
			if _, ok := got[k]; !ok {
				t.Errorf("%s holds %v = %q, which the server does not", d.User, k, lm[k])
			}
		}
		if n, _ := d.Local.PendingCount(ctx); n != 0 {
			t.Errorf("%s: %d edit(s) left unsent", d.User, n)
		}
		if rs, _ := d.Local.Rejections(ctx); len(rs) != 0 {
			t.Errorf("%s: refused edits %+v", d.User, rs)
		}
	}
}

func sees(user, caseRef string) bool {
	switch user {
	case "insp.a":
		return caseRef <= "C-03"
	case "insp.b":
		return caseRef > "C-03"
	}
	return true
}

func equalStrings(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// The server's side of the rule over the wire: a cursor with the token
// of the change there pulls on; another token, a cursor past the log's
// end, or the token of another change is diverged (one response, no
// changes, cursor 0); a cursor without a token is checked against the
// log's end only. Every change in the log carries a token.
func TestPullDivergedOnlyForAnotherHistory(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	ctx := t.Context()
	a := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	syncOK(t, a)
	a.Record(t, w.InspectionID, "C-01", "2.1.1", "yes")
	a.Record(t, w.InspectionID, "C-02", "2.1.1", "no")
	syncOK(t, a)
	cursor, token, err := a.Local.Cursor(ctx)
	if err != nil || cursor < 2 || token == 0 {
		t.Fatalf("cursor %d, token %d, %v; want a cursor with a token", cursor, token, err)
	}
	checkOnly := false
	pull := func(after, tok int64) []*fieldworkv1.PullResponse {
		t.Helper()
		stream, err := fieldworkv1.NewSyncServiceClient(a.Conn).Pull(ctx, &fieldworkv1.PullRequest{After: after, AfterToken: tok, CheckOnly: checkOnly})
		if err != nil {
			t.Fatal(err)
		}
		var pages []*fieldworkv1.PullResponse
		for {
			p, err := stream.Recv()
			if err == io.EOF {
				return pages
			}
			if err != nil {
				t.Fatalf("pull after %d: %v", after, err)
			}
			pages = append(pages, p)
		}
	}
	diverged := func(pages []*fieldworkv1.PullResponse) bool {
		if len(pages) == 1 && pages[0].GetDiverged() {
			if len(pages[0].GetChanges()) != 0 || pages[0].GetCursor() != 0 || pages[0].GetMore() {
				t.Errorf("a diverged response carries %+v; want nothing but diverged", pages[0])
			}
			return true
		}
		for _, p := range pages {
			if p.GetDiverged() {
				t.Errorf("diverged on a page among others: %+v", pages)
			}
		}
		return false
	}
	if pages := pull(cursor, token); diverged(pages) || pages[len(pages)-1].GetCursorToken() != token {
		t.Errorf("the laptop's own cursor and token: %+v; want its token back", pages)
	}
	for _, tc := range []struct {
		name       string
		after, tok int64
		want       bool
	}{
		{"another token at the cursor", cursor, token + 1, true},
		{"the token of another change", cursor - 1, token, true},
		{"past the log's end", cursor + 1000, token, true},
		{"past the log's end, without a token", cursor + 1000, 0, true},
		{"within the log, without a token", cursor - 1, 0, false},
		{"from the start", 0, 12345, false},
	} {
		if got := diverged(pull(tc.after, tc.tok)); got != tc.want {
			t.Errorf("%s: diverged %v, want %v", tc.name, got, tc.want)
		}
	}
	// check_only: the same answer, and never a change.
	checkOnly = true
	for _, tc := range []struct {
		after, tok int64
		want       bool
	}{{cursor, token, false}, {1, 0, false}, {1, token, true}, {cursor, token + 1, true}, {cursor + 1, 0, true}} {
		pages := pull(tc.after, tc.tok)
		if got := diverged(pages); got != tc.want || len(pages) != 1 || len(pages[0].GetChanges()) != 0 {
			t.Errorf("check only after %d: %+v; want diverged %v and no changes", tc.after, pages, tc.want)
		}
	}
	db, err := sql.Open("sqlite3", "file:"+w.DBPath+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, zero int
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE token = 0) FROM changes`).Scan(&n, &zero); err != nil || n == 0 || zero != 0 {
		t.Errorf("%d change(s), %d without a token (%v); want every one with a token", n, zero, err)
	}
}
