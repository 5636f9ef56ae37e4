package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// writeCaseload writes a caseload of n cases written here, uneven over
// sentence type and sex, with start dates over three months, and returns
// its path.
func writeCaseload(t *testing.T, dir string, n int) string {
	var b strings.Builder
	b.WriteString("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,start_date\n")
	ages := []string{"18-25", "26-39", "40-49", "50+"}
	eth := []string{"white", "white", "black", "asian", "mixed"}
	rosh := []string{"low", "medium", "high", "very_high"}
	for i := range n {
		st, sex := "community", "male"
		if i%3 == 0 {
			st = "licence"
		}
		if i%4 == 0 {
			sex = "female"
		}
		fmt.Fprintf(&b, "N-%04d,%s,%s,%s,%s,%s,none,North,false,2025-%02d-%02d\n", i, st, sex, ages[i%4], eth[i%5], rosh[i%7%4], 1+i%3, 1+i%28)
	}
	path := filepath.Join(dir, "caseload.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The lead draws the sample offline from a caseload of 300: the same seed
// gives the same bytes, another seed another sample; imported into an
// inspection, the draw's seed, size rule and caseload checksum are kept
// and shown to the lead, not to an inspector; a sample file changed after
// the draw is refused with its sidecar; bad caseload rows are all named.
func TestSampleDrawnImportedAndKept(t *testing.T) {
	dir := t.TempDir()
	lead := filepath.Join(dir, "lead")
	caseload := writeCaseload(t, dir, 300)
	draw := func(out string, extra ...string) (string, string) {
		args := append([]string{"sample", "--caseload", caseload, "--confidence", "80", "--margin", "10", "--strata", "sentence_type", "--strata", "sex",
			"--inspectors", "insp.a,insp.b,insp.c", "--out", filepath.Join(dir, out)}, extra...)
		return cli(t, lead, false, args...)
	}
	stdout, _ := draw("a.csv", "--seed", "11")
	draw("b.csv", "--seed", "11")
	draw("c.csv", "--seed", "12")
	a, b, c := read(t, filepath.Join(dir, "a.csv")), read(t, filepath.Join(dir, "b.csv")), read(t, filepath.Join(dir, "c.csv"))
	if !bytes.Equal(a, b) || !bytes.Equal(read(t, filepath.Join(dir, "a.csv.sample.json")), read(t, filepath.Join(dir, "b.csv.sample.json"))) {
		t.Fatal("the same seed and caseload gave different files")
	}
	if bytes.Equal(a, c) {
		t.Fatal("another seed gave the same sample")
	}
	// N = 300, 80%, ±10: n0 = 1.2816² × 0.25 / 0.01 = 41.062; n = 41.062 / (1 + 40.062/300) = 36.22 → 37.
	if !strings.Contains(stdout, "n = 37 of N = 300") || !strings.Contains(stdout, "seed: 11") || !strings.Contains(stdout, "PROFILE") {
		t.Errorf("sample output:\n%s", stdout)
	}
	rows, err := csv.NewReader(bytes.NewReader(a)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, r := range rows[1:] {
		per[r[1]]++
	}
	if len(rows) != 38 || rows[0][0] != "case_ref" || rows[0][1] != "inspector" || per["insp.a"] != 13 || per["insp.b"] != 12 || per["insp.c"] != 12 {
		t.Errorf("%d rows, header %v, per inspector %v", len(rows), rows[0], per)
	}

	// Without --seed one is chosen and printed; drawing with it gives the same file.
	stdout, _ = draw("d.csv")
	m := regexp.MustCompile(`seed: (\d+)`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no seed printed:\n%s", stdout)
	}
	draw("e.csv", "--seed", m[1])
	if !bytes.Equal(read(t, filepath.Join(dir, "d.csv")), read(t, filepath.Join(dir, "e.csv"))) {
		t.Error("the printed seed does not draw the same sample")
	}

	// The window: --from/--to keep the cases started in it (i%3 == 1: February).
	cli(t, lead, false, "sample", "--caseload", caseload, "--size", "10", "--from", "2025-02-01", "--to", "2025-02-28", "--seed", "1", "--out", filepath.Join(dir, "feb.csv"))
	var feb struct{ Population, Size int }
	if err := json.Unmarshal(read(t, filepath.Join(dir, "feb.csv.sample.json")), &feb); err != nil || feb.Population != 100 || feb.Size != 10 {
		t.Errorf("window: %+v, %v", feb, err)
	}
	_, stderr := cli(t, lead, true, "sample", "--caseload", caseload, "--size", "10", "--from", "2026-01-01", "--out", filepath.Join(dir, "none.csv"))
	if !strings.Contains(stderr, "no eligible case: 300 row(s) read") {
		t.Errorf("empty window: %s", stderr)
	}

	// Import into an inspection on a running server.
	db := filepath.Join(dir, "fieldwork.db")
	addr := freeAddr(t)
	tok, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatal(err)
	}
	startServer(t, db, addr)
	admin := filepath.Join(dir, "admin")
	cli(t, admin, false, "login", "--server", addr, "--token", strings.TrimSpace(string(tok)))
	id, _ := cli(t, admin, false, "inspection", "create", "--name", "North", "--framework", "probation-pdu-2023")
	id = strings.TrimSpace(id)
	login := func(user, home string) {
		lt, _ := cli(t, admin, false, "token", "issue", "--user", user)
		cli(t, home, false, "login", "--server", addr, "--token", strings.TrimSpace(lt))
	}
	cli(t, admin, false, "user", "create", "--name", "lead.n")
	cli(t, admin, false, "team", "add", "--inspection", id, "--user", "lead.n", "--role", "lead")
	login("lead.n", lead)

	// A sample changed after the draw is refused with its sidecar, and nothing is imported.
	tampered := filepath.Join(dir, "t.csv")
	os.WriteFile(tampered, bytes.Replace(a, []byte("insp.a"), []byte("insp.c"), 1), 0o600)
	os.WriteFile(tampered+".sample.json", read(t, filepath.Join(dir, "a.csv.sample.json")), 0o600)
	_, stderr = cli(t, lead, true, "import", "--inspection", id, "--cases", tampered)
	if !strings.Contains(stderr, "it describes another file") {
		t.Errorf("tampered sample: %s", stderr)
	}
	cli(t, lead, false, "sync")
	if out, _ := cli(t, lead, false, "cases", "--inspection", id); strings.Contains(out, "N-0") {
		t.Errorf("cases imported from a refused sample:\n%s", out)
	}

	out, _ := cli(t, lead, false, "import", "--inspection", id, "--cases", filepath.Join(dir, "a.csv"))
	if !strings.Contains(out, "cases: 37 created") || !strings.Contains(out, "sample: seed 11") {
		t.Errorf("import: %s", out)
	}
	show, _ := cli(t, lead, false, "inspection", "show", "--inspection", id)
	for _, want := range []string{"sample 1, imported", "by lead.n", "method: fieldwork-sample/1, seed 11",
		"80% confidence, ±10 points, finite-population correction: n = 37 of N = 300", "strata: sentence_type × sex",
		"inspectors: insp.a, insp.b, insp.c", "caseload sha256: " + sha(read(t, caseload)), "sample sha256: " + sha(a)} {
		if !strings.Contains(show, want) {
			t.Errorf("inspection show lacks %q:\n%s", want, show)
		}
	}
	if strings.Contains(show, "sample 2") {
		t.Errorf("a refused sample was kept:\n%s", show)
	}
	audit, _ := cli(t, lead, false, "audit", "--inspection", id, "--format", "json")
	if !strings.Contains(audit, `"action": "sample.import"`) || !strings.Contains(audit, `"seed": 11`) {
		t.Errorf("no sample.import audit entry:\n%.2000s", audit)
	}
	// An inspector sees the inspection, not the sample's method.
	inspHome := filepath.Join(dir, "insp.a")
	login("insp.a", inspHome)
	if show, _ := cli(t, inspHome, false, "inspection", "show", "--inspection", id); strings.Contains(show, "sample") || !strings.Contains(show, "North") {
		t.Errorf("inspector's inspection show:\n%s", show)
	}

	// Bad caseload rows: every one named with its line, in one run.
	bad := filepath.Join(dir, "bad.csv")
	lines := strings.SplitAfter(string(read(t, caseload)), "\n")
	lines[5] = "N-0099,community,male,26-39,white,low,none,North,false,2025-01-05\n"     // line 6: N-0099 again (first on line 101)
	lines[10] = "N-0009,community,martian,26-39,white,low,none,North,false,2025-01-05\n" // line 11
	lines[20] = "N-0019,community,male,26-39,white,low,none,North,false,05/01/2025\n"    // line 21
	lines[30] = "N 0029,community,male,26-39,white,low,none,North,false,2025-01-05\n"    // line 31
	os.WriteFile(bad, []byte(strings.Join(lines, "")), 0o600)
	_, stderr = cli(t, lead, true, "sample", "--caseload", bad, "--size", "10", "--out", filepath.Join(dir, "bad-out.csv"))
	for _, want := range []string{"4 bad row(s)", "line 11: case N-0009: sex \"martian\" is not one of", "line 21: case N-0019: start_date \"05/01/2025\"",
		"line 31: case_ref", "line 101: case N-0099 appears twice (first on line 6)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("bad caseload: no %q in:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bad-out.csv")); err == nil {
		t.Error("a sample was written from a bad caseload")
	}
}
