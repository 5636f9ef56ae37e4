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

// A question that depends on another answer, end to end with the real
// binaries: the built-in public-protection framework's version 2 asks
// PP.IE4 (was the children's-services response sufficient?) only where
// PP.IE3 (was the information requested?) is yes. The inspector records
// offline; the refusal, the denominators, the "no longer applies" list,
// the kept counts and recount all follow the rule, and an inspection made
// on version 1 keeps version 1.
func TestDependentQuestions_OfflineToReport(t *testing.T) {
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

	show, _ := cli(t, lead, false, "frameworks", "show", "probation-public-protection-2025")
	if !strings.Contains(show, "PP.IE4") || !strings.Contains(show, "[applies where PP.IE3 is yes]") {
		t.Errorf("frameworks show (latest) does not state PP.IE4's rule:\n%s", show)
	}
	id, _ := cli(t, lead, false, "inspection", "create", "--name", "West Midlands PP", "--framework", "probation-public-protection-2025")
	id = strings.TrimSpace(id)
	old, _ := cli(t, lead, false, "inspection", "create", "--name", "Older", "--framework", "probation-public-protection-2025", "--version", "1")
	old = strings.TrimSpace(old)
	list, _ := cli(t, lead, false, "inspection", "list")
	if !regexp.MustCompile(`West Midlands PP.*probation-public-protection-2025@2`).MatchString(list) || !regexp.MustCompile(`Older.*probation-public-protection-2025@1`).MatchString(list) {
		t.Errorf("inspection list does not show each inspection's version:\n%s", list)
	}
	cases := filepath.Join(dir, "cases.csv")
	csv := "case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n" +
		"WM-1,community,male,26-39,white,high,none,Birmingham,false,insp.a\n" +
		"WM-2,licence,female,40-49,black,medium,1,Walsall,false,insp.a\n" +
		"WM-3,community,male,18-25,asian,high,none,Walsall,false,insp.a\n"
	if err := os.WriteFile(cases, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	cli(t, lead, false, "import", "--inspection", id, "--cases", cases)
	cli(t, lead, false, "import", "--inspection", old, "--cases", cases)
	token, _ := cli(t, lead, false, "token", "issue", "--user", "insp.a")
	insp := filepath.Join(dir, "insp")
	cli(t, insp, false, "login", "--server", addr, "--token", strings.TrimSpace(token))
	cli(t, insp, false, "sync")

	// Offline from here: the server is stopped.
	srv.stop(t)
	answer := func(fail bool, inspection, ref, q, v string) string {
		t.Helper()
		_, stderr := cli(t, insp, fail, "answer", "--inspection", inspection, "--case", ref, "--question", q, "--value", v)
		return stderr
	}
	if e := answer(true, id, "WM-1", "PP.IE4", "yes"); !strings.Contains(e, "not asked yet") || !strings.Contains(e, "PP.IE3 is not answered yet") {
		t.Errorf("PP.IE4 before PP.IE3, offline: stderr %q, want it refused as not asked yet", e)
	}
	answer(false, old, "WM-1", "PP.IE4", "yes") // version 1 has no rule
	answer(false, id, "WM-1", "PP.IE3", "yes")
	answer(false, id, "WM-1", "PP.IE4", "no")
	answer(false, id, "WM-2", "PP.IE3", "yes")
	answer(false, id, "WM-2", "PP.IE4", "yes")
	answer(false, id, "WM-3", "PP.IE3", "no")
	if e := answer(true, id, "WM-3", "PP.IE4", "no"); !strings.Contains(e, "PP.IE3 is no") {
		t.Errorf("PP.IE4 where PP.IE3 is no: stderr %q", e)
	}
	srv = startServer(t, db, addr)
	if s, _ := cli(t, insp, false, "sync"); !strings.Contains(s, "6 applied") {
		t.Errorf("sync: %s, want the 6 answers applied", s)
	}

	type doc struct {
		Questions map[string]struct {
			Yes, Relevant, Answered int
		} `json:"questions"`
		NoLongerApplies []struct {
			CaseRef    string `json:"case_ref"`
			QuestionID string `json:"question_id"`
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
	check := func(when string, d doc, yes, relevant int, listed string) {
		t.Helper()
		f := d.Questions["PP.IE4"]
		var got []string
		for _, s := range d.NoLongerApplies {
			got = append(got, s.CaseRef+" "+s.QuestionID)
		}
		if f.Yes != yes || f.Relevant != relevant || strings.Join(got, ", ") != listed {
			t.Errorf("%s: PP.IE4 = %d of %d, no longer applies %q; want %d of %d, %q", when, f.Yes, f.Relevant, got, yes, relevant, listed)
		}
	}
	// "Where requested, sufficient in 1 out of 2": WM-3 is in no denominator.
	check("synced", report("--inspection", id), 1, 2, "")
	check("synced, by pdu", report("--inspection", id, "--by", "pdu"), 1, 2, "")
	check("version 1", report("--inspection", old), 1, 1, "")

	// WM-2 turns out not to have been requested: its PP.IE4 is kept, out
	// of every figure, listed to lead and inspector.
	cli(t, insp, false, "answer", "--inspection", id, "--case", "WM-2", "--question", "PP.IE3", "--value", "no")
	cli(t, insp, false, "sync")
	check("after WM-2's PP.IE3 no", report("--inspection", id), 0, 1, "WM-2 PP.IE4")
	// The two versions count PP.IE4 differently: they are not pooled.
	if _, e := cli(t, lead, true, "report", "--inspections", id+","+old); !strings.Contains(e, "pooled inspections share one framework version") {
		t.Errorf("pooling versions 1 and 2: stderr %q, want it refused", e)
	}
	answers, _ := cli(t, insp, false, "answers", "--inspection", id, "--case", "WM-2")
	if !regexp.MustCompile(`(?m)^PP\.IE4\s+yes \(no longer applies\)`).MatchString(answers) {
		t.Errorf("answers of WM-2:\n%s\nwant PP.IE4 marked as no longer applying", answers)
	}
	srv.stop(t)
	rc, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "recount").CombinedOutput()
	if err != nil || !strings.Contains(string(rc), "kept counts equal a full recount") {
		t.Errorf("recount: %v\n%s", err, rc)
	}
}
