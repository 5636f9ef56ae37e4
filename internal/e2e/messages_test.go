package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// With the server gone, every online command says so in words — where, that
// the answers are safe here (and how many wait), what to do — and not the
// transport's "rpc error: code = Unavailable desc = …".
func TestMessages_ServerUnreachable(t *testing.T) {
	_, _, addr, id, insp, srv, dev := killSetup(t)
	srv.stop(t)
	want := fmt.Sprintf("the server at %s cannot be reached (nothing answers at that address: the server is down or the address is wrong); "+
		"your answers are kept on this laptop (%d unsynced); run fieldwork sync when online", addr, len(dev.Ops))
	for _, args := range [][]string{
		{"sync"},
		{"report", "--inspection", id},
		{"whoami"},
		{"inspection", "list"},
	} {
		_, stderr := cli(t, insp, true, args...)
		if !strings.Contains(stderr, want) || strings.Contains(stderr, "rpc error") || strings.Contains(stderr, "Unavailable") {
			t.Errorf("fieldwork %s offline: stderr = %q\nwant it to contain %q and no gRPC text", strings.Join(args, " "), stderr, want)
		}
	}
	// A login to a server that is not there saves nothing, and says so.
	if _, stderr := cli(t, t.TempDir(), true, "login", "--server", addr, "--token", "fw_x"); !strings.Contains(stderr,
		"login: the server at "+addr+" cannot be reached (nothing answers at that address: the server is down or the address is wrong); nothing was saved") {
		t.Errorf("login offline: stderr = %q", stderr)
	}
	// submit queues the case here and says why it is not sent yet.
	ref := dev.Ops[0].CaseRef
	out, _ := cli(t, insp, false, "submit", "--inspection", id, "--case", ref)
	if !strings.Contains(out, "submission of case "+ref+" queued on this laptop: the server at "+addr+" cannot be reached") ||
		!strings.Contains(out, "It is sent on the next fieldwork sync") || strings.Contains(out, "rpc error") {
		t.Errorf("submit offline: stdout = %q", out)
	}
}

// A revoked token is not cured by syncing again: the message says to get a
// new token and log in, and that the answers are kept.
func TestMessages_RevokedToken(t *testing.T) {
	dir, _, addr, id, insp, srv, dev := killSetup(t)
	cli(t, filepath.Join(dir, "lead"), false, "token", "revoke", "--user", "insp.ahmed")
	_, stderr := cli(t, insp, true, "sync")
	for _, want := range []string{
		fmt.Sprintf("the server at %s refused this laptop's token (token revoked)", addr),
		fmt.Sprintf("your answers are kept on this laptop (%d unsynced)", len(dev.Ops)),
		"Ask your administrator for a new token",
		"fieldwork login --server " + addr + " --token -",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("sync with a revoked token: stderr = %q\nwant %q", stderr, want)
		}
	}
	if strings.Contains(stderr, "sync again") || strings.Contains(stderr, "rpc error") {
		t.Errorf("sync with a revoked token: stderr = %q, must not suggest syncing again nor show gRPC text", stderr)
	}
	ref := dev.Ops[0].CaseRef
	out, _ := cli(t, insp, false, "submit", "--inspection", id, "--case", ref)
	if !strings.Contains(out, "refused this laptop's token (token revoked)") || !strings.Contains(out, "fieldwork login --server "+addr) ||
		!strings.Contains(out, "It is sent on the first fieldwork sync after you log in again") || strings.Contains(out, "sync failed") {
		t.Errorf("submit with a revoked token: stdout = %q", out)
	}
	srv.stop(t)
}

// Ctrl-C in the middle of a sync of many answers: the command says how many
// went and how many wait, and the next sync carries on (nothing lost, nothing
// twice).
func TestMessages_CtrlCDuringSync(t *testing.T) {
	_, db, _, id, insp, srv, dev := killSetup(t)
	sync := exec.Command(filepath.Join(binDir, "fieldwork"), "sync", "--batch", "1")
	sync.Env = append(os.Environ(), "FIELDWORK_HOME="+insp)
	var stderr bytes.Buffer
	sync.Stderr = &stderr
	if err := sync.Start(); err != nil {
		t.Fatal(err)
	}
	waitForOps(t, db, 5)
	sync.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- sync.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("sync finished before Ctrl-C landed (%d ops): stderr %q", len(dev.Ops), stderr.String())
		}
	case <-time.After(30 * time.Second):
		sync.Process.Kill()
		t.Fatal("sync did not stop within 30 s of Ctrl-C")
	}
	m := regexp.MustCompile(`sync interrupted: (\d+) edit\(s\) sent and acknowledged \(\d+ applied, \d+ conflict\(s\), \d+ rejected\), (\d+) kept on this laptop, unsent; run fieldwork sync to continue where this one stopped`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("after Ctrl-C: stderr = %q", stderr.String())
	}
	sent, _ := strconv.Atoi(m[1])
	left, _ := strconv.Atoi(m[2])
	if sent+left != len(dev.Ops) || left == 0 {
		t.Errorf("after Ctrl-C: %d sent + %d left, want %d in all with some left", sent, left, len(dev.Ops))
	}
	status, _ := cli(t, insp, false, "status")
	if !strings.Contains(status, fmt.Sprintf("unsynced answers: %d", left)) {
		t.Errorf("status after Ctrl-C:\n%s\nwant %d unsynced", status, left)
	}
	cli(t, insp, false, "sync")
	if ops := checkAfterKill(t, db, id, insp, dev); ops != len(dev.Ops) {
		t.Errorf("server holds %d ops, want %d", ops, len(dev.Ops))
	}
	srv.stop(t)
}
