package e2e

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readDataset reads a dataset folder: the CSV's rows as maps by column
// name, after checking that datapackage.json describes exactly its columns.
func readDataset(t *testing.T, dir, file string) []map[string]string {
	t.Helper()
	var pkg struct {
		Resources []struct {
			Path   string
			Schema struct{ Fields []struct{ Name string } }
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "datapackage.json"))
	if err != nil || json.Unmarshal(b, &pkg) != nil || len(pkg.Resources) != 1 || pkg.Resources[0].Path != file {
		t.Fatalf("datapackage.json: %v\n%s", err, b)
	}
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	fields := pkg.Resources[0].Schema.Fields
	if len(rows[0]) != len(fields) {
		t.Fatalf("%d columns, %d fields", len(rows[0]), len(fields))
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, name := range rows[0] {
			if fields[i].Name != name {
				t.Fatalf("column %d is %q, its field %q", i, name, fields[i].Name)
			}
			m[name] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// The analyst's dataset of the Gwent sample, from the real binaries: a row
// per case, and the Yes counts computed from the CSV alone are the
// published ones (testdata/gwent-2025/expected.json); pooled, every case of
// both inspections; --long a row per answer; --notes audited; an inspector
// refused with nothing written.
func TestGwentDataset_RowPerCaseMatchesPublishedFigures(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "fieldwork.db")
	addr := freeAddr(t)
	out, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatalf("admin-token: %v", err)
	}
	srv := startServer(t, db, addr)
	lead := filepath.Join(dir, "lead")
	cli(t, lead, false, "login", "--server", addr, "--token", strings.TrimSpace(string(out)))
	id, _ := cli(t, lead, false, "inspection", "create", "--name", "Gwent PDU 2025", "--framework", "probation-pdu-2023")
	id = strings.TrimSpace(id)
	cli(t, lead, false, "import", "--inspection", id, "--cases", gwent("cases.csv"), "--answers", gwent("answers.csv"))
	id2, _ := cli(t, lead, false, "inspection", "create", "--name", "Gwent again", "--unit", "Gwent B", "--framework", "probation-pdu-2023")
	id2 = strings.TrimSpace(id2)
	cli(t, lead, false, "import", "--inspection", id2, "--cases", gwent("cases.csv"), "--answers", gwent("answers.csv"))
	for _, i := range []string{id, id2} {
		cli(t, lead, false, "team", "add", "--inspection", i, "--user", "analyst.x", "--role", "analyst")
	}
	tok, _ := cli(t, lead, false, "token", "issue", "--user", "analyst.x")
	analyst := filepath.Join(dir, "analyst")
	cli(t, analyst, false, "login", "--server", addr, "--token", strings.TrimSpace(tok))

	wide := filepath.Join(dir, "wide")
	stdout, stderr := cli(t, analyst, false, "export", "--inspection", id, "--format", "dataset", "--out", wide)
	if !strings.Contains(stdout, "57 case(s)") || stderr != "" {
		t.Errorf("export: stdout %q, stderr %q (no progress when stderr is not a terminal)", stdout, stderr)
	}
	rows := readDataset(t, wide, "dataset.csv")
	if len(rows) != 57 {
		t.Fatalf("%d rows, want one per case (57)", len(rows))
	}
	refs := map[string]bool{}
	for _, r := range rows {
		refs[r["case_ref"]] = true
	}
	if len(refs) != 57 || rows[0]["inspection"] != id || rows[0]["sex"] == "" {
		t.Errorf("rows: %d distinct refs; first %v", len(refs), rows[0])
	}
	var pub published
	data, err := os.ReadFile(gwent("expected.json"))
	if err != nil || json.Unmarshal(data, &pub) != nil {
		t.Fatalf("expected.json: %v", err)
	}
	shares := map[string]publishedShare{}
	for q, s := range pub.KeyQuestions {
		shares[q] = s
	}
	for q, s := range pub.Prompts {
		shares[q] = s
	}
	if len(shares) < 30 {
		t.Fatalf("expected.json gives %d figures", len(shares))
	}
	for q, want := range shares {
		yes, no := 0, 0
		for _, r := range rows {
			switch r[q] {
			case "yes":
				yes++
			case "no":
				no++
			}
		}
		if yes != want.Yes || yes+no != want.Relevant {
			t.Errorf("%s from the dataset: %d yes of %d, published %d of %d", q, yes, yes+no, want.Yes, want.Relevant)
		}
	}
	three := 0
	for _, r := range rows {
		if n, err := strconv.Atoi(r["2.3.S1"]); err == nil && n >= 3 {
			three++
		}
	}
	if three != pub.Practitioners3Plus {
		t.Errorf("2.3.S1 at 3 or more: %d cases, published %d", three, pub.Practitioners3Plus)
	}

	// Pooled: both inspections' cases, each under its unit.
	pooled := filepath.Join(dir, "pooled")
	cli(t, analyst, false, "export", "--inspections", id+","+id2, "--format", "dataset", "--out", pooled)
	rows = readDataset(t, pooled, "dataset.csv")
	units := map[string]int{}
	yes := 0
	for _, r := range rows {
		units[r["unit"]]++
		if r["2.1.1"] == "yes" {
			yes++
		}
	}
	if len(rows) != 114 || units["Gwent B"] != 57 || len(units) != 2 || yes != 2*pub.KeyQuestions["2.1.1"].Yes {
		t.Errorf("pooled: %d rows, units %v, 2.1.1 yes %d", len(rows), units, yes)
	}

	// Long, with notes: a row per answer of answers.csv; the export audited.
	long := filepath.Join(dir, "long")
	cli(t, analyst, false, "export", "--inspection", id, "--format", "dataset", "--long", "--notes", "--out", long)
	rows = readDataset(t, long, "dataset_long.csv")
	answers, _ := os.ReadFile(gwent("answers.csv"))
	if want := strings.Count(strings.TrimSpace(string(answers)), "\n"); len(rows) != want {
		t.Errorf("long: %d rows, want %d (one per answer)", len(rows), want)
	}
	trail, _ := cli(t, lead, false, "audit", "--inspection", id, "--format", "json")
	var entries []struct {
		User, Action string
		After        json.RawMessage
	}
	if err := json.Unmarshal([]byte(trail), &entries); err != nil {
		t.Fatal(err)
	}
	var notes int
	for _, e := range entries {
		var after struct {
			Notes       bool
			Inspections []string
		}
		if e.Action == "dataset.export" && json.Unmarshal(e.After, &after) == nil && e.User == "analyst.x" && after.Notes &&
			len(after.Inspections) == 1 && after.Inspections[0] == id {
			notes++
		}
	}
	if notes != 1 {
		t.Errorf("%d audited exports with notes by analyst.x, want 1", notes)
	}

	// An inspector may not export; nothing is written.
	itok, _ := cli(t, lead, false, "token", "issue", "--user", "insp.ahmed")
	insp := filepath.Join(dir, "ahmed")
	cli(t, insp, false, "login", "--server", addr, "--token", strings.TrimSpace(itok))
	refused := filepath.Join(dir, "refused")
	_, stderr = cli(t, insp, true, "export", "--inspection", id, "--format", "dataset", "--out", refused)
	if !strings.Contains(stderr, "not allowed for role inspector") {
		t.Errorf("inspector's export: stderr %q", stderr)
	}
	if _, err := os.Stat(refused); !os.IsNotExist(err) {
		t.Errorf("a refused export left %s (%v)", refused, err)
	}
	srv.stop(t)
}
