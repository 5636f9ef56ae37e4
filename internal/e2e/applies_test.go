package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A re-imported cases.csv makes an answered question stop applying (GW-004
// is MAPPA none after all, so prompt 2.3.3f does not apply): the import is
// accepted, the answer leaves every figure, and the lead's report and the
// inspector's answers list it until the inspector answers na.
func TestNoLongerApplies_ListedToInspectorAndLeadUntilCleared(t *testing.T) {
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

	type doc struct {
		Questions map[string]struct {
			Yes, Relevant int
			NA            int `json:"na"`
		} `json:"questions"`
		NoLongerApplies []struct {
			CaseRef    string `json:"case_ref"`
			QuestionID string `json:"question_id"`
			Value      string `json:"value"`
		} `json:"no_longer_applies"`
	}
	report := func(args ...string) doc {
		t.Helper()
		js, _ := cli(t, lead, false, append([]string{"report", "--format", "json"}, args...)...)
		var d doc
		if err := json.Unmarshal([]byte(js), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	check := func(when string, d doc, yes, relevant, na int, listed string) {
		t.Helper()
		f := d.Questions["2.3.3f"]
		var got []string
		for _, s := range d.NoLongerApplies {
			got = append(got, s.CaseRef+" "+s.QuestionID+" "+s.Value)
		}
		if f.Yes != yes || f.Relevant != relevant || f.NA != na || strings.Join(got, ", ") != listed {
			t.Errorf("%s: 2.3.3f = %d/%d (na %d), no_longer_applies %q; want %d/%d (na %d), %q", when, f.Yes, f.Relevant, f.NA, got, yes, relevant, na, listed)
		}
	}
	check("before", report("--inspection", id), 8, 13, 44, "")

	csv, err := os.ReadFile(gwent("cases.csv"))
	if err != nil {
		t.Fatal(err)
	}
	const was = "GW-004,licence,male,40-49,white,high,1,Gwent,false,insp.davies"
	if !strings.Contains(string(csv), was) {
		t.Fatalf("cases.csv has no line %q", was)
	}
	changed := filepath.Join(dir, "cases.csv")
	os.WriteFile(changed, []byte(strings.Replace(string(csv), was, "GW-004,licence,male,40-49,white,high,none,Gwent,false,insp.davies", 1)), 0o600)
	cli(t, lead, false, "import", "--inspection", id, "--cases", changed)

	check("after re-import", report("--inspection", id), 7, 12, 44, "GW-004 2.3.3f yes")
	check("after re-import, by sentence type", report("--inspection", id, "--by", "sentence_type"), 7, 12, 44, "GW-004 2.3.3f yes")
	check("after re-import, pooled from kept counts", report("--inspections", id+","+id2), 15, 25, 88, "")
	table, _ := cli(t, lead, false, "report", "--inspection", id)
	if !regexp.MustCompile(`No longer applies: 1 answer`).MatchString(table) || !regexp.MustCompile(`GW-004\s+2\.3\.3f\s+yes`).MatchString(table) {
		t.Errorf("report table does not list GW-004's 2.3.3f as no longer applying:\n%s", table)
	}

	// The inspector sees it on their device and clears it with na.
	token, _ := cli(t, lead, false, "token", "issue", "--user", "insp.davies")
	insp := filepath.Join(dir, "davies")
	cli(t, insp, false, "login", "--server", addr, "--token", strings.TrimSpace(token))
	cli(t, insp, false, "sync")
	answers, _ := cli(t, insp, false, "answers", "--inspection", id, "--case", "GW-004")
	if !regexp.MustCompile(`(?m)^2\.3\.3f\s+yes \(no longer applies\)`).MatchString(answers) || !strings.Contains(answers, "1 answer(s) no longer apply") {
		t.Errorf("answers of GW-004:\n%s\nwant 2.3.3f marked as no longer applying, and a line saying how to clear it", answers)
	}
	cli(t, insp, false, "answer", "--inspection", id, "--case", "GW-004", "--question", "2.3.3f", "--value", "na")
	if s, _ := cli(t, insp, false, "sync"); !strings.Contains(s, "1 applied") {
		t.Errorf("sync of the na: %s", s)
	}
	answers, _ = cli(t, insp, false, "answers", "--inspection", id, "--case", "GW-004")
	if strings.Contains(answers, "no longer appl") {
		t.Errorf("answers of GW-004 after na:\n%s\nwant nothing marked", answers)
	}
	check("after na", report("--inspection", id), 7, 12, 45, "")
	check("after na, pooled from kept counts", report("--inspections", id+","+id2), 15, 25, 89, "")

	srv.stop(t)
	rc, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "recount").CombinedOutput()
	if err != nil || !strings.Contains(string(rc), "kept counts equal a full recount") {
		t.Errorf("recount: %v\n%s", err, rc)
	}
}
