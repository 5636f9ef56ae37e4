package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// An online command that changes something on the server refreshes the
// laptop's copy: after an import the cases are here, after a lock an
// answer is refused here (as the server would), and after an unlock the
// next answer is taken at once — no fieldwork sync in between.
func TestMessages_ChangesRefreshTheLocalCopy(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "fieldwork.db")
	addr := freeAddr(t)
	tok, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, db, addr)
	lead := filepath.Join(dir, "lead")
	cli(t, lead, false, "login", "--server", addr, "--token", strings.TrimSpace(string(tok)))
	id, _ := cli(t, lead, false, "inspection", "create", "--name", "Refresh", "--framework", "probation-pdu-2023")
	id = strings.TrimSpace(id)
	if _, stderr := cli(t, lead, false, "import", "--inspection", id, "--cases", gwent("cases.csv")); strings.Contains(stderr, "stale") {
		t.Errorf("import with the server up: stderr = %q", stderr)
	}
	answer := []string{"answer", "--inspection", id, "--case", "GW-001", "--question", "2.1.1", "--value", "yes"}

	cli(t, lead, false, "inspection", "lock", "--inspection", id)
	if _, stderr := cli(t, lead, true, answer...); !strings.Contains(stderr, "inspection "+id+" is locked") {
		t.Errorf("answer after lock: stderr = %q, want it refused here as locked", stderr)
	}
	cli(t, lead, false, "inspection", "unlock", "--inspection", id, "--reason", "one more case")
	if out, _ := cli(t, lead, false, answer...); !strings.Contains(out, "saved GW-001 2.1.1 = yes") {
		t.Errorf("answer right after unlock: stdout = %q", out)
	}
	if out, _ := cli(t, lead, false, "sync"); !strings.Contains(out, "synced: 1 applied, 0 conflict(s), 0 rejected") {
		t.Errorf("sync after unlock: %q", out)
	}
	srv.stop(t)
}
