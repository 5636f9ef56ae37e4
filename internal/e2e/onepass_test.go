package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// One run of fieldwork import reports every problem of answers.csv, the
// structural ones the file's reading finds and the server's checks against
// the framework, each at its line and in line order; nothing is imported.
// With the three fixed, the same file imports.
func TestImport_EveryProblemInOneRunAtItsLine(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "fieldwork.db")
	addr := freeAddr(t)
	tok, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatal(err)
	}
	startServer(t, db, addr)
	lead := filepath.Join(dir, "lead")
	cli(t, lead, false, "login", "--server", addr, "--token", strings.TrimSpace(string(tok)))
	id, _ := cli(t, lead, false, "inspection", "create", "--name", "One pass", "--framework", "probation-pdu-2023")
	id = strings.TrimSpace(id)
	cli(t, lead, false, "import", "--inspection", id, "--cases", gwent("cases.csv"))

	rows := []string{
		"case_ref,question_id,answer,note", // 1
		"GW-002,2.1.1,yes,",                // 2
		`GW-002,2.1.2,yes,"the PO said so`, // 3: a quote never closed
		"GW-002,2.1.3,no,",                 // 4
		"GW-002,2.2.1,maybe,",              // 5: a yes/no question answered maybe
		"GW-002,2.2.2,no,",                 // 6
		"GW-002,2.2.3,yes",                 // 7: three fields
		`GW-002,2.3.1,no,"seen, twice"`,    // 8
	}
	file := filepath.Join(dir, "answers.csv")
	write := func() {
		if err := os.WriteFile(file, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write()
	stdout, stderr := cli(t, lead, true, "import", "--inspection", id, "--answers", file)
	if strings.Contains(stdout, "stored") {
		t.Errorf("a refused file printed %q", stdout)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`answers\.csv: 3 bad row\(s\):`),
		regexp.MustCompile(`line 3, column 18: a quote \(\"\) opens a field that is never closed`),
		regexp.MustCompile(`line 5: case GW-002 question 2\.2\.1: .*"maybe"`),
		regexp.MustCompile(`line 7: has 3 fields, the header has 4`),
	}
	at := 0
	for i, re := range want {
		loc := re.FindStringIndex(stderr[at:])
		if loc == nil {
			t.Fatalf("stderr lacks, after what came before, problem %d (%s):\n%s", i, re, stderr)
		}
		at += loc[1]
	}
	if regexp.MustCompile(`line (2|4|6|8)\b`).MatchString(stderr) {
		t.Errorf("a good line is blamed:\n%s", stderr)
	}
	cli(t, lead, false, "sync")
	if out, _ := cli(t, lead, false, "answers", "--inspection", id, "--case", "GW-002"); strings.Contains(out, "2.1.1") {
		t.Errorf("answers after the refused file:\n%s", out)
	}

	rows[3-1] = `GW-002,2.1.2,yes,"the PO said so"`
	rows[5-1] = "GW-002,2.2.1,no,"
	rows[7-1] = "GW-002,2.2.3,yes,"
	write()
	if out, stderr := cli(t, lead, false, "import", "--inspection", id, "--answers", file); !strings.Contains(out, "answers: 7 stored") {
		t.Errorf("fixed file: %q %q, want 7 stored", out, stderr)
	}
	out, _ := cli(t, lead, false, "answers", "--inspection", id, "--case", "GW-002")
	for _, q := range []string{"2.1.1", "2.1.2", "2.2.1", "2.2.3", "2.3.1"} {
		if !strings.Contains(out, q) {
			t.Errorf("answers after the fixed file lack %s:\n%s", q, out)
		}
	}
}
