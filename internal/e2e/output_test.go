package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// hostileNote carries what the issue saw: clear screen, retitle (OSC …
// BEL) and a right-to-left override, plus a newline that would fake a row.
const hostileNote = "seen\x1b[2J\x1b]0;pwned\x07 \u202eevil\nQ9  yes  1  forged"

// rawControls lists what must never reach a terminal from user data.
var rawControls = []string{"\x1b", "\x07", "\u202e", "\u2066"}

func assertNoControls(t *testing.T, what, out string) {
	t.Helper()
	for _, c := range rawControls {
		if strings.Contains(out, c) {
			t.Errorf("%s prints %q raw:\n%q", what, c, out)
		}
	}
}

func assertEscaped(t *testing.T, what, out string) {
	t.Helper()
	assertNoControls(t, what, out)
	if !strings.Contains(out, `\u001b[2J`) || !strings.Contains(out, `\u202e`) {
		t.Errorf("%s does not show the escapes visibly:\n%s", what, out)
	}
}

// hostileFramework writes the built-in unrated framework under another id
// with control characters in its title, a domain title and a question, and
// free-text attributes whose names climb folders or share 31 characters.
func hostileFramework(t *testing.T, path string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "framework", "builtin", "probation-public-protection-2025.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fw map[string]any
	if err := json.Unmarshal(data, &fw); err != nil {
		t.Fatal(err)
	}
	fw["id"] = "hostile-pp"
	fw["title"] = "Hostile \x1b[2J\x1b]0;pwned\x07 \u202eframework"
	d := fw["domains"].([]any)[0].(map[string]any)
	d["title"] = "Domain \x1b[1A\u2066x"
	kq := d["standards"].([]any)[0].(map[string]any)["key_questions"].([]any)[0].(map[string]any)
	kq["text"] = "Question \x1b[2J \u202etext"
	fw["attributes"] = append(fw["attributes"].([]any),
		map[string]any{"name": "x..up"},
		map[string]any{"name": "accommodation_status_at_start_of_order"},
		map[string]any{"name": "accommodation_status_at_start_of_licence"})
	out, _ := json.Marshal(fw)
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOutputIsNeutralised walks every human-readable output with notes and
// framework text carrying control characters, and the exports with
// formula-like cells and hostile attribute names.
func TestOutputIsNeutralised(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "fieldwork.db")
	fwFile := filepath.Join(dir, "hostile.json")
	hostileFramework(t, fwFile)
	out, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSpace(string(out))
	addr := freeAddr(t)
	startServer(t, db, addr, "--framework", fwFile)

	lead := filepath.Join(dir, "lead")
	cli(t, lead, false, "login", "--server", addr, "--token", admin)
	list, _ := cli(t, lead, false, "frameworks", "list")
	assertEscaped(t, "frameworks list", list)
	show, _ := cli(t, lead, false, "frameworks", "show", "hostile-pp")
	assertEscaped(t, "frameworks show", show)
	if !strings.Contains(show, `\u2066x`) {
		t.Errorf("frameworks show lacks the escaped domain title:\n%s", show)
	}

	id, _ := cli(t, lead, false, "inspection", "create", "--name", "Name \x1b[2J", "--framework", "hostile-pp", "--unit", "=HYPERLINK(\"http://x/\")")
	id = strings.TrimSpace(id)
	inspections, _ := cli(t, lead, false, "inspection", "list")
	assertNoControls(t, "inspection list", inspections)
	cli(t, lead, false, "user", "create", "--name", "insp.x")
	cli(t, lead, false, "team", "add", "--inspection", id, "--user", "insp.x", "--role", "inspector")
	cases := filepath.Join(dir, "cases.csv")
	os.WriteFile(cases, []byte("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,x..up,accommodation_status_at_start_of_order,accommodation_status_at_start_of_licence,inspector\n"+
		"C-01,community,male,26-39,white,medium,none,=1+1,false,a,b,c,insp.x\n"+
		"C-02,licence,female,40-49,black,high,2,@SUM(A1),false,d,e,f,insp.x\n"), 0o600)
	cli(t, lead, false, "import", "--inspection", id, "--cases", cases)

	token, _ := cli(t, lead, false, "token", "issue", "--user", "insp.x")
	laptop, spare := filepath.Join(dir, "laptop"), filepath.Join(dir, "spare")
	for _, home := range []string{laptop, spare} {
		cli(t, home, false, "login", "--server", addr, "--token", strings.TrimSpace(token))
		cli(t, home, false, "sync")
	}

	// answers: the note is shown escaped, on its own row.
	cli(t, laptop, false, "answer", "--inspection", id, "--case", "C-01", "--question", "C1", "--value", "yes", "--note", hostileNote)
	answers, _ := cli(t, laptop, false, "answers", "--inspection", id, "--case", "C-01")
	assertEscaped(t, "answers", answers)
	if n := strings.Count(strings.TrimSpace(answers), "\n"); n != 1 {
		t.Errorf("answers printed %d rows for one answer: the note's newline made a row\n%s", n, answers)
	}
	var stderr string
	// Errors quoting what the user typed.
	_, stderr = cli(t, laptop, true, "answer", "--inspection", id, "--case", "C-01", "--question", "Q\x1b[2J\u202e", "--value", "yes")
	assertEscaped(t, "an error message", stderr)
	_, stderr = cli(t, laptop, true, "answers", "--inspection", id, "--case", "C-01", "--bogus\x1b[2J\u202e")
	assertEscaped(t, "a flag error", stderr)

	cli(t, laptop, false, "sync")

	// conflicts: the spare laptop edits the same answer from the old revision.
	cli(t, spare, false, "answer", "--inspection", id, "--case", "C-01", "--question", "C1", "--value", "no", "--note", hostileNote)
	syncOut, _ := cli(t, spare, false, "sync")
	assertNoControls(t, "sync", syncOut)
	conflicts, _ := cli(t, spare, false, "conflicts")
	assertNoControls(t, "conflicts", conflicts)
	if !strings.Contains(conflicts, "C-01") {
		t.Errorf("no conflict listed:\n%s", conflicts)
	}
	cj, _ := cli(t, spare, false, "conflicts", "--format", "json")
	assertNoControls(t, "conflicts --format json", cj)
	var cs []map[string]any
	if err := json.Unmarshal([]byte(cj), &cs); err != nil || len(cs) != 1 || cs[0]["ClientNote"] != hostileNote {
		t.Errorf("conflicts JSON does not decode to the note as typed (%v):\n%s", err, cj)
	}

	// A refused edit: the inspection is locked while the laptop is offline.
	cli(t, lead, false, "inspection", "lock", "--inspection", id)
	cli(t, laptop, false, "answer", "--inspection", id, "--case", "C-02", "--question", "C1a", "--value", "no", "--note", hostileNote)
	syncOut, _ = cli(t, laptop, false, "sync")
	assertNoControls(t, "sync with a refused edit", syncOut)
	if !strings.Contains(syncOut, "1 rejected") {
		t.Errorf("the edit to a locked inspection was not refused:\n%s", syncOut)
	}
	status, _ := cli(t, laptop, false, "status")
	assertNoControls(t, "status", status)

	// Report, JSON report and audit.
	rep, _ := cli(t, lead, false, "report", "--inspection", id, "--by", "x..up")
	assertEscaped(t, "report", rep)
	rj, _ := cli(t, lead, false, "report", "--inspection", id, "--format", "json")
	assertNoControls(t, "report --format json", rj)
	if !json.Valid([]byte(rj)) {
		t.Errorf("report JSON is not JSON:\n%s", rj)
	}
	audit, _ := cli(t, lead, false, "audit", "--inspection", id)
	assertNoControls(t, "audit", audit)
	aj, _ := cli(t, lead, false, "audit", "--inspection", id, "--format", "json")
	assertNoControls(t, "audit --format json", aj)
	if !json.Valid([]byte(aj)) || !strings.Contains(aj, `\u202e`) {
		t.Errorf("audit JSON is not JSON, or lacks the escaped note:\n%s", aj)
	}

	// Exports: nothing outside --out, names that cannot climb, no formula.
	by := []string{"--by", "x..up", "--by", "accommodation_status_at_start_of_order", "--by", "accommodation_status_at_start_of_licence", "--by", "pdu"}
	exports := filepath.Join(dir, "exports")
	os.Mkdir(exports, 0o700)
	folder := filepath.Join(exports, "deep", "annexe")
	cli(t, lead, false, append([]string{"export", "--inspection", id, "--format", "csv", "--out", folder}, by...)...)
	var names []string
	filepath.WalkDir(exports, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := d.Info()
		switch {
		case d.IsDir():
			if fi.Mode().Perm() != 0o700 {
				t.Errorf("folder %s is %v, want 0700", p, fi.Mode().Perm())
			}
		case filepath.Dir(p) != folder:
			t.Errorf("export wrote %s outside --out", p)
		default:
			names = append(names, d.Name())
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s is %v, want 0600", d.Name(), fi.Mode().Perm())
			}
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(dir, "up.csv")); err == nil {
		t.Error("--by x..up wrote up.csv outside --out")
	}
	breakdowns := 0
	for _, n := range names {
		if !strings.HasPrefix(n, "key_questions_by_") {
			continue
		}
		breakdowns++
		data, _ := os.ReadFile(filepath.Join(folder, n))
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			for _, c := range row {
				if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
					t.Errorf("%s: cell %q starts like a formula", n, c)
				}
			}
		}
	}
	if breakdowns != 4 {
		t.Errorf("%d breakdown files, want 4 (one per --by): %v", breakdowns, names)
	}
	// A symlink as the folder is refused.
	link := filepath.Join(exports, "link")
	os.Symlink(t.TempDir(), link)
	_, stderr = cli(t, lead, true, append([]string{"export", "--inspection", id, "--format", "csv", "--out", link}, by...)...)
	if !strings.Contains(stderr, "symbolic link") {
		t.Errorf("export into a symlinked folder: %s", stderr)
	}

	zipOut := filepath.Join(exports, "annexe.zip")
	cli(t, lead, false, append([]string{"export", "--inspection", id, "--format", "csv", "--out", zipOut}, by...)...)
	zr, err := zip.OpenReader(zipOut)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if !filepath.IsLocal(f.Name) || strings.ContainsAny(f.Name, `/\`) {
			t.Errorf("zip entry %q climbs out", f.Name)
		}
	}
	zr.Close()

	xlsx := filepath.Join(exports, "annexe.xlsx")
	cli(t, lead, false, append([]string{"export", "--inspection", id, "--format", "xlsx", "--out", xlsx}, by...)...)
	if fi, err := os.Stat(xlsx); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("xlsx mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := 0
	for _, s := range f.GetSheetList() {
		if strings.HasPrefix(s, "key_questions_by_") {
			sheets++
		}
	}
	if sheets != 4 {
		t.Errorf("%d breakdown sheets, want 4: %v", sheets, f.GetSheetList())
	}
}
