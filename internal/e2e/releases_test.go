package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// previousRelease is the commit of release v0.3.0 (docs/releases.md): the
// last whose client sends no protocol. There are no tags to build it from
// (they do not travel with every clone), so the test builds that commit.
const previousRelease = "fa6d76b"

// The previous release is built once per commit into the user's cache
// (its binaries never change), and the build starts in TestMain beside the
// other tests when the run includes a test that needs it (startPrevious).
var previous struct {
	once sync.Once
	done chan struct{}
	bin  string
	err  error
}

// startPrevious starts building release v0.3.0 in the background, if the
// tests selected by -run include TestPreviousReleaseAndPurge.
func startPrevious() {
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		if ok, _ := regexp.MatchString(f.Value.String(), "TestPreviousReleaseAndPurge"); !ok {
			return
		}
	}
	previous.once.Do(func() {
		previous.done = make(chan struct{})
		go func() {
			defer close(previous.done)
			previous.bin, previous.err = buildPreviousRelease()
		}()
	})
}

// buildPrevious returns the folder of fieldworkd and fieldwork built at
// previousRelease. A clone without that commit (a shallow one) fails the
// test, saying how to get it: a compatibility test that skipped itself
// would prove nothing.
func buildPrevious(t *testing.T) string {
	t.Helper()
	startPrevious()
	if previous.done == nil { // -run named it only by a pattern startPrevious did not match
		previous.once.Do(func() {})
		bin, err := buildPreviousRelease()
		previous.bin, previous.err = bin, err
	} else {
		<-previous.done
	}
	if previous.err != nil {
		t.Fatal(previous.err)
	}
	return previous.bin
}

// buildPreviousRelease builds previousRelease from `git archive` (the
// repository is only read) into the user's cache, unless already there.
func buildPreviousRelease() (string, error) {
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("the compatibility tests build release v0.3.0 (%s) from this repository's history, but this is no git checkout: %v", previousRelease, err)
	}
	repo := strings.TrimSpace(string(top))
	if out, err := exec.Command("git", "-C", repo, "cat-file", "-e", previousRelease+"^{commit}").CombinedOutput(); err != nil {
		return "", fmt.Errorf("commit %s (release v0.3.0) is not in this clone (%v %s): the compatibility tests build it; fetch the full history (git fetch --unshallow) and run again", previousRelease, err, out)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "fieldwork-e2e", "release-"+previousRelease)
	if _, err := os.Stat(filepath.Join(bin, "fieldwork")); err == nil {
		if _, err := os.Stat(filepath.Join(bin, "fieldworkd")); err == nil {
			return bin, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	work, err := os.MkdirTemp(filepath.Dir(bin), "build-") // beside bin: renamed into place
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	src, out := filepath.Join(work, "src"), filepath.Join(work, "bin")
	for _, d := range []string{src, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	var errb bytes.Buffer
	archive := exec.Command("sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", repo, previousRelease, src)
	archive.Stderr = &errb
	if err := archive.Run(); err != nil {
		return "", fmt.Errorf("git archive %s: %v %s", previousRelease, err, errb.String())
	}
	build := exec.Command("go", "build", "-o", out, "./server/cmd/fieldworkd", "./client/cmd/fieldwork")
	build.Dir = src
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if b, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build release v0.3.0: %v\n%s", err, b)
	}
	os.RemoveAll(bin) // a partial copy from an interrupted run
	if err := os.Rename(out, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// runAt runs a fieldwork binary from dir with FIELDWORK_HOME=home.
func runAt(tb testing.TB, dir, home string, wantFail bool, args ...string) (string, string) {
	tb.Helper()
	cmd := exec.Command(filepath.Join(dir, "fieldwork"), args...)
	cmd.Env = append(os.Environ(), "FIELDWORK_HOME="+home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if wantFail != (err != nil) {
		tb.Fatalf("%s/fieldwork %s: err = %v (want failure: %v)\nstdout: %s\nstderr: %s", dir, strings.Join(args, " "), err, wantFail, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// Laptops are updated after the server. A team works on release v0.3.0
// (server and laptops); the server is updated on the same database; the
// old laptop is told to update fieldwork, in words, losing nothing; the
// updated fieldwork opens that laptop's store (migrating it), with its
// answers and unsynced edits intact, and syncs them.
//
// Then retention: the inspection is published and purged while the server
// runs; the report keeps its figures, frozen; the laptop, holding an edit
// it made offline, drops the inspection on its next sync and says so; no
// note of it is left in the server's database file.
func TestPreviousReleaseAndPurge(t *testing.T) {
	old := buildPrevious(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "fieldwork.db")
	addr := freeAddr(t)
	out, err := exec.Command(filepath.Join(old, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatalf("old admin-token: %v", err)
	}
	admin := strings.TrimSpace(string(out))
	srv := startServerAt(t, old, db, addr)
	lead, insp := filepath.Join(dir, "lead"), filepath.Join(dir, "ahmed")
	runAt(t, old, lead, false, "login", "--server", addr, "--token", admin)
	id, _ := runAt(t, old, lead, false, "inspection", "create", "--name", "Gwent PDU 2025", "--framework", "probation-pdu-2023")
	id = strings.TrimSpace(id)
	runAt(t, old, lead, false, "import", "--inspection", id, "--cases", gwent("cases.csv"))
	tok, _ := runAt(t, old, lead, false, "token", "issue", "--user", "insp.ahmed")
	runAt(t, old, insp, false, "login", "--server", addr, "--token", strings.TrimSpace(tok))
	runAt(t, old, insp, false, "sync")
	const note = "KEEP-OR-PURGE-note"
	answer := func(bin, q, v string) {
		runAt(t, bin, insp, false, "answer", "--inspection", id, "--case", "GW-001", "--question", q, "--value", v, "--note", note+" "+q)
	}
	answer(old, "2.1.1", "yes")
	answer(old, "2.1.2", "no")
	runAt(t, old, insp, false, "sync")
	answer(old, "2.1.3", "yes") // unsynced when the server is updated
	answer(old, "2.2.1", "no")
	srv.stop(t)

	// The server is updated; the old laptop is refused in words.
	srv = startServer(t, db, addr)
	_, stderr := runAt(t, old, insp, true, "sync")
	if !strings.Contains(stderr, "update fieldwork: this server needs fieldwork v0.4.0 or later") || strings.Contains(stderr, "rpc error") ||
		!strings.Contains(stderr, "answers are kept on this laptop") {
		t.Errorf("the previous release's sync against the new server printed:\n%s\nwant \"update fieldwork …\" in words", stderr)
	}
	status, _ := runAt(t, old, insp, false, "status")
	if !strings.Contains(status, "unsynced answers: 2") {
		t.Errorf("the old laptop after the refusal:\n%s\nwant its 2 unsynced answers kept", status)
	}

	// The laptop is updated: its store migrates on first open, intact.
	answers, _ := cli(t, insp, false, "answers", "--inspection", id, "--case", "GW-001")
	for _, q := range []string{"2.1.1", "2.1.2", "2.1.3", "2.2.1"} {
		if !strings.Contains(answers, note+" "+q) {
			t.Errorf("the updated fieldwork on the old store lacks the answer to %s:\n%s", q, answers)
		}
	}
	status, _ = cli(t, insp, false, "status")
	if !strings.Contains(status, "unsynced answers: 2") {
		t.Errorf("the updated fieldwork on the old store:\n%s\nwant its 2 unsynced answers (the outbox) intact", status)
	}
	if out, _ := cli(t, insp, false, "sync"); !strings.Contains(out, "2 applied, 0 conflict(s), 0 rejected") {
		t.Errorf("the updated laptop's sync: %q, want its 2 unsynced answers applied", out)
	}
	cli(t, lead, false, "sync")

	// An edit made offline, then the inspection is published and purged.
	srv.stop(t)
	answer(binDir, "2.2.2", "yes")
	srv = startServer(t, db, addr)
	cli(t, lead, false, "inspection", "lock", "--inspection", id)
	before, _ := cli(t, lead, false, "report", "--inspection", id, "--format", "json")
	purged, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "purge", "--inspection", id).CombinedOutput()
	if err != nil || !strings.Contains(string(purged), "removed 57 case(s), 4 answer(s)") || !strings.Contains(string(purged), "write-ahead log emptied") {
		t.Fatalf("fieldworkd purge (server running): %v\n%s", err, purged)
	}
	after, _ := cli(t, lead, false, "report", "--inspection", id, "--format", "json")
	figures := func(js string) (map[string]any, any) {
		var m map[string]any
		if err := json.Unmarshal([]byte(js), &m); err != nil {
			t.Fatalf("report json: %v\n%s", err, js)
		}
		frozen := m["frozen"]
		for _, k := range []string{"generated_at", "frozen", "completeness", "no_longer_applies"} {
			delete(m, k)
		}
		return m, frozen
	}
	b, fb := figures(before)
	a, fa := figures(after)
	bj, _ := json.Marshal(b)
	aj, _ := json.Marshal(a)
	if !bytes.Equal(bj, aj) || fb != nil || fa == nil {
		t.Errorf("the report after the purge differs from the one before, or is not said frozen (before %v, after %v):\nbefore %s\nafter  %s", fb, fa, bj, aj)
	}
	if table, _ := cli(t, lead, false, "report", "--inspection", id); !strings.Contains(table, "FROZEN REPORT") {
		t.Errorf("the report table does not say it is frozen:\n%s", table)
	}

	// The laptop syncs: its edit is refused (purged), and the inspection
	// is dropped, said so with the edit that went with it.
	syncOut, _ := cli(t, insp, false, "sync")
	if !strings.Contains(syncOut, "was purged on the server after publication") || !strings.Contains(syncOut, "with 1 edit(s) made here") {
		t.Errorf("the laptop's sync after the purge:\n%s\nwant it to say the inspection was dropped, with its 1 edit", syncOut)
	}
	if cases, _ := cli(t, insp, false, "cases", "--inspection", id); strings.Contains(cases, "GW-001") {
		t.Errorf("the laptop still lists the purged inspection's cases:\n%s", cases)
	}
	status, _ = cli(t, insp, false, "status")
	if !strings.Contains(status, "unsynced answers: 0") || strings.Contains(status, note) {
		t.Errorf("the laptop's status after the purge:\n%s", status)
	}
	if out, _ := cli(t, lead, false, "sync"); !strings.Contains(out, "was purged on the server") {
		t.Errorf("the lead's sync after the purge:\n%s", out)
	}
	if _, e := cli(t, lead, true, "report", "--inspection", id, "--local"); !strings.Contains(e, "purged") {
		t.Errorf("a local report of the purged inspection: %q, want refused as purged", e)
	}
	for _, f := range []string{db, db + "-wal", filepath.Join(insp, "client.db"), filepath.Join(insp, "client.db-wal")} {
		if data, err := os.ReadFile(f); err == nil && bytes.Contains(data, []byte(note)) {
			t.Errorf("%s still holds a note of the purged inspection", f)
		}
	}
	srv.stop(t)
}
