package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A server restored from `fieldworkd backup` (taken while it ran) with the
// real binaries: the inspector's next sync says so and sends again the two
// edits the restored server lost, the lead's laptop (ahead of the restored
// log, no lost edits of its own) pulls everything again, and both end up
// with the inspector's answers; a second sync is an ordinary one.
func TestRestoredServer_SyncSendsAgainWhatItLost(t *testing.T) {
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
	id, _ := cli(t, lead, false, "inspection", "create", "--name", "Restore", "--framework", "probation-pdu-2023")
	id = strings.TrimSpace(id)
	cli(t, lead, false, "import", "--inspection", id, "--cases", gwent("cases.csv"))
	itok, _ := cli(t, lead, false, "token", "issue", "--user", "insp.ahmed")
	insp := filepath.Join(dir, "ahmed")
	cli(t, insp, false, "login", "--server", addr, "--token", strings.TrimSpace(itok))
	cli(t, insp, false, "sync")
	answer := func(q, v, note string) {
		cli(t, insp, false, "answer", "--inspection", id, "--case", "GW-001", "--question", q, "--value", v, "--note", note)
	}
	answer("2.1.1", "yes", "before the backup")
	cli(t, insp, false, "sync")

	backup := filepath.Join(dir, "backups", "fieldwork.db")
	if err := os.MkdirAll(filepath.Dir(backup), 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "backup", "--db", db, "--to", backup).CombinedOutput(); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	answer("2.1.1", "no", "after the backup")
	answer("2.1.2", "yes", "after the backup too")
	cli(t, insp, false, "sync")
	cli(t, lead, false, "sync")

	// The restore, as docs/operations.md says: stopped, the database moved
	// aside with its -wal and -shm, the backup copied into place.
	srv.stop(t)
	aside := filepath.Join(dir, "damaged")
	if err := os.Mkdir(aside, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, side := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(db+side, filepath.Join(aside, "fieldwork.db"+side)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, db, addr)

	const said = "the server was restored from an earlier copy: %s of your edits it did not have are sent again"
	if out, _ := cli(t, insp, false, "sync"); !strings.Contains(out, strings.Replace(said, "%s", "2", 1)) {
		t.Errorf("inspector's sync after the restore:\n%s\nwant %q", out, strings.Replace(said, "%s", "2", 1))
	}
	if out, _ := cli(t, lead, false, "sync"); !strings.Contains(out, strings.Replace(said, "%s", "0", 1)) {
		t.Errorf("lead's sync after the restore:\n%s\nwant %q", out, strings.Replace(said, "%s", "0", 1))
	}
	for _, home := range []string{insp, lead} {
		if out, _ := cli(t, home, false, "sync"); strings.Contains(out, "restored") {
			t.Errorf("a second sync (%s) says restored again:\n%s", filepath.Base(home), out)
		}
		out, _ := cli(t, home, false, "answers", "--inspection", id, "--case", "GW-001")
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`(?m)^2\.1\.1\s+no\s+2\s+insp\.ahmed\s+after the backup\s*$`),
			regexp.MustCompile(`(?m)^2\.1\.2\s+yes\s+1\s+insp\.ahmed\s+after the backup too\s*$`),
		} {
			if !want.MatchString(out) {
				t.Errorf("answers on %s:\n%s\nwant a line matching %s", filepath.Base(home), out, want)
			}
		}
	}
	srv.stop(t)
}
