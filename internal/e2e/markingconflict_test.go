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

// The QA marker's two laptops mark the same question offline: the second
// to sync holds a second-marking conflict, which fieldwork status counts,
// fieldwork conflicts lists (marked second marking, both values, notes,
// who, when, a short reference) and fieldwork resolve settles by that
// reference; both laptops converge. A marking edit the server refuses
// (the marking submitted from the other laptop meanwhile) is counted and
// listed by status with what to do. No first-marking value shows to the QA
// marker in any of these, and the inspector's laptop shows none of the
// second marking's conflicts.
func TestSecondMarkingConflictListedResolvedByRef(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "fieldwork.db")
	fwFile := filepath.Join(dir, "qa-mini.json")
	os.WriteFile(fwFile, []byte(qaMini), 0o600)
	addr := freeAddr(t)
	out, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatalf("admin-token: %v", err)
	}
	srv := startServer(t, db, addr, "--framework", fwFile)
	defer srv.stop(t)
	admin := filepath.Join(dir, "admin")
	cli(t, admin, false, "login", "--server", addr, "--token", strings.TrimSpace(string(out)))
	id, _ := cli(t, admin, false, "inspection", "create", "--name", "QA conflicts", "--framework", "qa-mini")
	id = strings.TrimSpace(id)
	login := func(home, user string) {
		tok, _ := cli(t, admin, false, "token", "issue", "--user", user)
		cli(t, home, false, "login", "--server", addr, "--token", strings.TrimSpace(tok))
	}
	for _, u := range []struct{ name, role string }{{"lead.l", "lead"}, {"qa.q", "qa"}, {"insp.a", "inspector"}} {
		cli(t, admin, false, "user", "create", "--name", u.name)
		cli(t, admin, false, "team", "add", "--inspection", id, "--user", u.name, "--role", u.role)
	}
	lead, insp, qa1, qa2 := filepath.Join(dir, "lead"), filepath.Join(dir, "insp"), filepath.Join(dir, "qa1"), filepath.Join(dir, "qa2")
	login(lead, "lead.l")
	login(insp, "insp.a")
	login(qa1, "qa.q")
	login(qa2, "qa.q")
	cases := filepath.Join(dir, "cases.csv")
	os.WriteFile(cases, []byte("case_ref,sentence_type,inspector\nC-1,community,insp.a\n"), 0o600)
	cli(t, lead, false, "import", "--inspection", id, "--cases", cases)
	cli(t, lead, false, "qa", "select", "--inspection", id, "--case", "C-1", "--qa", "qa.q")
	// The first marking, on the server before the QA laptops sync.
	cli(t, insp, false, "sync")
	cli(t, insp, false, "answer", "--inspection", id, "--case", "C-1", "--question", "1.1", "--value", "no", "--note", "FIRSTNOTE")
	cli(t, insp, false, "sync")
	for _, h := range []string{qa1, qa2} {
		cli(t, h, false, "sync")
	}

	// Both QA laptops, offline, the same question.
	cli(t, qa1, false, "answer", "--second", "--inspection", id, "--case", "C-1", "--question", "1.1", "--value", "yes", "--note", "laptop one")
	cli(t, qa2, false, "answer", "--second", "--inspection", id, "--case", "C-1", "--question", "1.1", "--value", "no", "--note", "laptop two")
	cli(t, qa1, false, "sync")
	if out, _ := cli(t, qa2, false, "sync"); !strings.Contains(out, "1 conflict(s)") {
		t.Fatalf("the second QA laptop's sync: %q, want a conflict", out)
	}
	cli(t, qa1, false, "sync")
	hidden := func(who, out string) {
		t.Helper()
		if strings.Contains(out, "FIRSTNOTE") {
			t.Errorf("%s shows the first marking while blind:\n%s", who, out)
		}
	}

	st, _ := cli(t, qa2, false, "status")
	hidden("status", st)
	if !strings.Contains(st, "second-marking conflicts: 1 open (fieldwork conflicts lists them; fieldwork resolve --conflict REF") {
		t.Errorf("status on the QA laptop with a marking conflict:\n%s", st)
	}
	for _, h := range []string{qa1, qa2} {
		list, _ := cli(t, h, false, "conflicts")
		hidden("conflicts", list)
		for _, want := range []string{
			"second marking, case C-1, question 1.1 (open)",
			"kept by the server (--theirs), revision 1: yes",
			"note: laptop one",
			"the edit it refused (--mine), made on revision 0: no",
			"note: laptop two",
			"by qa.q on device ",
			"reached the server 20",
		} {
			if !strings.Contains(list, want) {
				t.Errorf("conflicts (%s):\n%s\nwant %q", filepath.Base(h), list, want)
			}
		}
		if strings.Contains(list, "author not known") || strings.Contains(list, "time not known") {
			t.Errorf("conflicts (%s) lacks who wrote the server's side:\n%s", filepath.Base(h), list)
		}
	}
	js, _ := cli(t, qa2, false, "conflicts", "--format", "json")
	var jc []struct {
		Ref           string
		SecondMarking bool
	}
	if err := json.Unmarshal([]byte(js), &jc); err != nil || len(jc) != 1 || !jc[0].SecondMarking || jc[0].Ref == "" {
		t.Errorf("conflicts --format json: %v\n%s", err, js)
	}
	// The inspector's laptop holds none of the second marking's conflicts.
	if out, _ := cli(t, insp, false, "conflicts"); !strings.Contains(out, "no open conflicts") {
		t.Errorf("the inspector's conflicts while blind:\n%s", out)
	}
	if out, _ := cli(t, insp, false, "status"); strings.Contains(out, "second-marking") {
		t.Errorf("the inspector's status while blind:\n%s", out)
	}

	list, _ := cli(t, qa2, false, "conflicts")
	m := regexp.MustCompile(`conflict ([0-9a-f]{4,8}): second marking, case C-1`).FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("conflicts shows no short reference:\n%s", list)
	}
	if out, _ := cli(t, qa2, false, "resolve", "--conflict", m[1], "--mine"); !strings.Contains(out, "resolution queued: second marking C-1 1.1 = no (mine)") {
		t.Errorf("resolve --conflict %s --mine: %q", m[1], out)
	}
	cli(t, qa2, false, "sync")
	cli(t, qa1, false, "sync")
	for _, h := range []string{qa1, qa2} {
		if out, _ := cli(t, h, false, "conflicts"); !strings.Contains(out, "no open conflicts") {
			t.Errorf("conflicts on %s after resolving:\n%s", filepath.Base(h), out)
		}
		ans, _ := cli(t, h, false, "answers", "--second", "--inspection", id, "--case", "C-1")
		if !regexp.MustCompile(`1\.1\s+no\s+2\s+qa\.q\s+laptop two`).MatchString(ans) {
			t.Errorf("second marking on %s after resolving (want 1.1 = no at revision 2):\n%s", filepath.Base(h), ans)
		}
	}

	// qa1 completes and submits the marking; qa2, not synced, edits it:
	// the server refuses the edit, and status says so and what to do.
	for _, q := range []string{"1.1a", "1.2", "1.2a"} {
		cli(t, qa1, false, "answer", "--second", "--inspection", id, "--case", "C-1", "--question", q, "--value", "yes")
	}
	cli(t, qa1, false, "submit", "--second", "--inspection", id, "--case", "C-1")
	cli(t, qa1, false, "sync")
	cli(t, qa2, false, "answer", "--second", "--inspection", id, "--case", "C-1", "--question", "1.2", "--value", "no", "--note", "late edit")
	if out, _ := cli(t, qa2, false, "sync"); !strings.Contains(out, "1 rejected") {
		t.Errorf("the late marking edit's sync: %q, want it rejected", out)
	}
	st, _ = cli(t, qa2, false, "status")
	hidden("status", st)
	for _, want := range []string{
		"refused second-marking edits: 1",
		"C-1 1.2 = no (note: late edit)",
		"refused by the server ",
		"record one again: fieldwork answer --second",
	} {
		if !strings.Contains(st, want) {
			t.Errorf("status after a refused marking edit:\n%s\nwant %q", st, want)
		}
	}
	var sj struct {
		Conflicts int `json:"open_second_marking_conflicts"`
		Refused   []struct {
			QuestionID string `json:"question_id"`
			Reason     string `json:"reason"`
		} `json:"refused_second_marking_edits"`
	}
	js, _ = cli(t, qa2, false, "status", "--format", "json")
	if err := json.Unmarshal([]byte(js), &sj); err != nil || sj.Conflicts != 0 || len(sj.Refused) != 1 || sj.Refused[0].QuestionID != "1.2" || sj.Refused[0].Reason == "" {
		t.Errorf("status --format json: %v\n%s", err, js)
	}
}
