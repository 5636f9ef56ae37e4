package e2e

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fieldwork conflicts shows both sides whole — values, evidence notes,
// authors with device and time — with a short reference that resolve takes;
// a note's terminal escapes are shown as escapes, never sent raw.
func TestConflicts_BothSidesAndShortRef(t *testing.T) {
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
	id, _ := cli(t, lead, false, "inspection", "create", "--name", "Conflicts", "--framework", "probation-pdu-2023")
	id = strings.TrimSpace(id)
	cli(t, lead, false, "import", "--inspection", id, "--cases", gwent("cases.csv"))
	itok, _ := cli(t, lead, false, "token", "issue", "--user", "insp.ahmed")
	insp := filepath.Join(dir, "ahmed")
	cli(t, insp, false, "login", "--server", addr, "--token", strings.TrimSpace(itok))
	cli(t, insp, false, "sync")

	// The lead answers first, with a hostile note; the inspector, who has
	// not seen it, answers otherwise.
	cli(t, lead, false, "answer", "--inspection", id, "--case", "GW-001", "--question", "2.1.1", "--value", "no", "--note", "file read\x1b[2J\x1b]0;owned\x07 twice")
	cli(t, lead, false, "sync")
	cli(t, insp, false, "answer", "--inspection", id, "--case", "GW-001", "--question", "2.1.1", "--value", "yes", "--note", "home visit seen")
	if out, _ := cli(t, insp, false, "sync"); !strings.Contains(out, "1 conflict(s)") {
		t.Fatalf("inspector's sync: %q, want a conflict", out)
	}
	cli(t, lead, false, "sync")
	for _, home := range []string{lead, insp} {
		out, _ := cli(t, home, false, "conflicts")
		for _, want := range []string{
			"case GW-001, question 2.1.1 (open)",
			"kept by the server (--theirs), revision 1: no",
			`note: file read\u001b[2J\u001b]0;owned\u0007 twice`,
			"by admin on device ",
			"the edit it refused (--mine), made on revision 0: yes",
			"note: home visit seen",
			"by insp.ahmed on device ",
			"reached the server 20",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("conflicts (%s):\n%s\nwant %q", filepath.Base(home), out, want)
			}
		}
		if strings.ContainsRune(out, 0x1b) || strings.Contains(out, "author not known") || strings.Contains(out, "time not known") {
			t.Errorf("conflicts (%s) shows a raw escape or an unknown author:\n%q", filepath.Base(home), out)
		}
	}
	out, _ := cli(t, lead, false, "conflicts")
	m := regexp.MustCompile(`conflict ([0-9a-f]{4,8}): case GW-001`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("conflicts shows no short reference of 4 to 8 characters:\n%s", out)
	}
	if _, stderr := cli(t, lead, true, "resolve", "--conflict", "zzzz", "--theirs"); !strings.Contains(stderr, `no open conflict on this laptop has the reference "zzzz"`) {
		t.Errorf("resolve with an unknown ref: %q", stderr)
	}
	if out, _ := cli(t, lead, false, "resolve", "--conflict", m[1], "--theirs"); !strings.Contains(out, "resolution queued: GW-001 2.1.1 = no") {
		t.Errorf("resolve --conflict %s: %q", m[1], out)
	}
	cli(t, lead, false, "sync")
	if out, _ := cli(t, lead, false, "conflicts"); !strings.Contains(out, "no open conflicts") {
		t.Errorf("conflicts after resolving: %q", out)
	}
	srv.stop(t)
}
