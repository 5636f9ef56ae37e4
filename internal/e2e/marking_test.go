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

// qaMini is a framework of four questions, so that both markings of a
// case can be given answer by answer.
const qaMini = `{"id": "qa-mini", "version": 1, "title": "QA mini framework",
 "attributes": [{"name": "sentence_type", "title": "Sentence type", "values": ["community", "licence"]}],
 "rating": {"rule": "lowest_key_question", "rounding": "half_up",
  "bands": [{"rating": "Outstanding", "min_percent": 80, "points": 3}, {"rating": "Good", "min_percent": 65, "points": 2},
            {"rating": "Requires improvement", "min_percent": 50, "points": 1}, {"rating": "Inadequate", "min_percent": 0, "points": 0}],
  "overall": [{"rating": "Inadequate", "min_score": 0, "max_score": 0}, {"rating": "Requires improvement", "min_score": 1, "max_score": 1},
              {"rating": "Good", "min_score": 2, "max_score": 2}, {"rating": "Outstanding", "min_score": 3, "max_score": 3}]},
 "domains": [{"id": "D1", "title": "Case supervision", "standards": [{"id": "S1", "title": "Assessment", "kind": "case_rated",
  "key_questions": [{"id": "1.1", "text": "Is the assessment sound?", "prompts": [{"id": "1.1a", "text": "Is the service user involved?"}]},
                    {"id": "1.2", "text": "Does it keep others safe?", "prompts": [{"id": "1.2a", "text": "Are other agencies asked?"}]}]}]}]}`

// stableReport is a report's JSON without what any write anywhere moves
// (the pull log's position, the clock).
func stableReport(t *testing.T, js string) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatalf("report json: %v\n%s", err, js)
	}
	delete(doc, "as_of_seq")
	delete(doc, "generated_at")
	b, _ := json.Marshal(doc)
	return string(b)
}

// A lead selects cases for QA; the inspector and the QA marker mark one
// offline on their own laptops; sync; each is blind to the other's marking
// until both are submitted, then sees it; the second marking moves no
// figure; moderation makes the agreed answer the case's, with history.
func TestSecondMarkingOfflineBlindThenModeration(t *testing.T) {
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
	admin := filepath.Join(dir, "admin")
	cli(t, admin, false, "login", "--server", addr, "--token", strings.TrimSpace(string(out)))
	id, _ := cli(t, admin, false, "inspection", "create", "--name", "QA unit", "--framework", "qa-mini")
	id = strings.TrimSpace(id)
	homes := map[string]string{}
	for _, u := range []struct{ name, role string }{{"lead.l", "lead"}, {"qa.q", "qa"}, {"insp.a", "inspector"}, {"insp.b", "inspector"}} {
		cli(t, admin, false, "user", "create", "--name", u.name)
		cli(t, admin, false, "team", "add", "--inspection", id, "--user", u.name, "--role", u.role)
		tok, _ := cli(t, admin, false, "token", "issue", "--user", u.name)
		homes[u.name] = filepath.Join(dir, u.name)
		cli(t, homes[u.name], false, "login", "--server", addr, "--token", strings.TrimSpace(tok))
	}
	lead, qa, insp := homes["lead.l"], homes["qa.q"], homes["insp.a"]
	cases := filepath.Join(dir, "cases.csv")
	os.WriteFile(cases, []byte("case_ref,sentence_type,inspector\nC-1,community,insp.a\nC-2,licence,insp.a\nC-3,community,insp.b\n"), 0o600)
	cli(t, lead, false, "import", "--inspection", id, "--cases", cases)

	// Selection: a seeded share, at least one per inspector, reproducible.
	sel, _ := cli(t, lead, false, "qa", "select", "--inspection", id, "--share", "10", "--seed", "42", "--qa", "qa.q")
	m := regexp.MustCompile(`2 case\(s\) selected for second marking by qa\.q \(2 new\): (C-[12]) C-3`).FindStringSubmatch(sel)
	if m == nil {
		t.Fatalf("qa select --share 10: %s", sel)
	}
	x := m[1]
	if again, _ := cli(t, lead, false, "qa", "select", "--inspection", id, "--share", "10", "--seed", "42", "--qa", "qa.q"); !strings.Contains(again, "(0 new): "+x+" C-3") {
		t.Errorf("the same draw again: %s", again)
	}
	if _, stderr := cli(t, lead, true, "qa", "select", "--inspection", id, "--case", "NOPE-9", "--qa", "qa.q"); !strings.Contains(stderr, `"NOPE-9"`) {
		t.Errorf("unknown case: %s", stderr)
	}
	if _, stderr := cli(t, lead, true, "qa", "select", "--inspection", id, "--case", x, "--qa", "insp.b"); !strings.Contains(stderr, `"insp.b" is on the team as inspector`) {
		t.Errorf("not QA: %s", stderr)
	}
	if _, stderr := cli(t, qa, true, "qa", "select", "--inspection", id, "--case", x, "--qa", "qa.q"); stderr == "" {
		t.Error("QA may not select")
	}
	for _, h := range []string{lead, qa, insp} {
		cli(t, h, false, "sync")
	}

	// Offline, on two laptops: the first marking and the second.
	srv.stop(t)
	first := map[string]string{"1.1": "yes", "1.1a": "yes", "1.2": "no", "1.2a": "yes"}
	second := map[string]string{"1.1": "yes", "1.1a": "no", "1.2": "no", "1.2a": "yes"}
	for _, q := range []string{"1.1", "1.1a", "1.2", "1.2a"} {
		cli(t, insp, false, "answer", "--inspection", id, "--case", x, "--question", q, "--value", first[q], "--note", "first says "+first[q])
		cli(t, qa, false, "answer", "--second", "--inspection", id, "--case", x, "--question", q, "--value", second[q], "--note", "second says "+second[q])
	}
	if _, stderr := cli(t, qa, true, "answer", "--inspection", id, "--case", x, "--question", "1.1", "--value", "no"); !strings.Contains(stderr, "first marking is hidden") {
		t.Errorf("QA marker writing the first marking: %s", stderr)
	}
	if _, stderr := cli(t, insp, true, "answer", "--second", "--inspection", id, "--case", x, "--question", "1.1", "--value", "no"); !strings.Contains(stderr, "not selected for your second marking") {
		t.Errorf("inspector writing the second marking: %s", stderr)
	}
	if out, _ := cli(t, qa, false, "submit", "--second", "--inspection", id, "--case", x); !strings.Contains(out, "queued") {
		t.Errorf("submit --second offline: %s", out)
	}

	startServer(t, db, addr, "--framework", fwFile) // stopped with the test
	cli(t, insp, false, "sync")
	cli(t, lead, false, "sync")
	before, _ := cli(t, lead, false, "report", "--inspection", id, "--format", "json")
	cli(t, qa, false, "sync")
	after, _ := cli(t, lead, false, "report", "--inspection", id, "--format", "json")
	if stableReport(t, before) != stableReport(t, after) {
		t.Errorf("the second marking moved the report:\nbefore %s\nafter  %s", before, after)
	}
	cli(t, insp, false, "sync")
	cli(t, lead, false, "sync")

	// Blind both ways (the case is not submitted yet); the lead sees both.
	noValues := func(who, out string, notes ...string) {
		t.Helper()
		for _, n := range notes {
			if strings.Contains(out, n) {
				t.Errorf("%s sees %q while blind:\n%s", who, n, out)
			}
		}
	}
	qaFirst, _ := cli(t, qa, false, "answers", "--inspection", id, "--case", x)
	noValues("the QA marker", qaFirst, "first says")
	inspSecond, _ := cli(t, insp, false, "answers", "--second", "--inspection", id, "--case", x)
	noValues("the inspector", inspSecond, "second says")
	if l1, _ := cli(t, lead, false, "answers", "--inspection", id, "--case", x); !strings.Contains(l1, "first says yes") {
		t.Errorf("the lead does not see the first marking:\n%s", l1)
	}
	if l2, _ := cli(t, lead, false, "answers", "--second", "--inspection", id, "--case", x); !strings.Contains(l2, "second says no") {
		t.Errorf("the lead does not see the second marking:\n%s", l2)
	}
	if _, stderr := cli(t, qa, true, "moderate", "--inspection", id, "--case", x); !strings.Contains(stderr, "both markings must be submitted") {
		t.Errorf("moderate before both are in: %s", stderr)
	}
	if list, _ := cli(t, lead, false, "qa", "list", "--inspection", id); !regexp.MustCompile(x + `\s+qa\.q\s+submitted\s+4\s+no`).MatchString(list) {
		t.Errorf("qa list:\n%s", list)
	}

	// The case is submitted: the blind lifts, and both laptops converge.
	cli(t, insp, false, "submit", "--inspection", id, "--case", x)
	cli(t, qa, false, "sync")
	cli(t, insp, false, "sync")
	if out, _ := cli(t, qa, false, "answers", "--inspection", id, "--case", x); !strings.Contains(out, "first says yes") {
		t.Errorf("after both are submitted the QA marker does not see the first marking:\n%s", out)
	}
	if out, _ := cli(t, insp, false, "answers", "--second", "--inspection", id, "--case", x); !strings.Contains(out, "second says no") {
		t.Errorf("after both are submitted the inspector does not see the second marking:\n%s", out)
	}

	// Moderation.
	list, _ := cli(t, qa, false, "moderate", "--inspection", id, "--case", x)
	if !strings.Contains(list, "1 disagreement(s)") || !regexp.MustCompile(`1\.1a\s+yes\s+insp\.a.*first says yes\s+no\s+qa\.q.*second says no`).MatchString(list) {
		t.Errorf("moderate list:\n%s", list)
	}
	if out, _ := cli(t, qa, false, "moderate", "--inspection", id, "--case", x, "--question", "1.1a", "--take", "second", "--note", "agreed: not involved"); !strings.Contains(out, "agreed no (second; first yes, second no)") {
		t.Errorf("moderate --take second: %s", out)
	}
	if out, _ := cli(t, qa, false, "moderate", "--inspection", id, "--case", x); !strings.Contains(out, "is agreed") {
		t.Errorf("moderate with nothing left: %s", out)
	}
	cli(t, lead, false, "sync")
	if out, _ := cli(t, lead, false, "answers", "--inspection", id, "--case", x); !regexp.MustCompile(`1\.1a\s+no\s+2\s+qa\.q\s+agreed: not involved`).MatchString(out) {
		t.Errorf("the case's answer after moderation:\n%s", out)
	}
	if out, _ := cli(t, lead, false, "answers", "--second", "--inspection", id, "--case", x); !strings.Contains(out, "second says no") {
		t.Errorf("the second marking after moderation:\n%s", out)
	}
	agreementFromMarkings(t, lead, insp, id)
	audit, _ := cli(t, lead, false, "audit", "--inspection", id, "--case", x, "--format", "json")
	for _, want := range []string{"qa.select", "marking.answer", "marking.submit", "marking.moderate", "answer"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
}

// agreementFromMarkings checks the agreement figures of the one
// double-marked case above against a hand computation. The pairs (first,
// second): 1.1 yes/yes, 1.1a yes/no, 1.2 no/no, 1.2a yes/yes.
//
// Key questions together: 2 pairs, both agree, p_o = 1. Cohen: the
// markers' shares are yes 1/2, no 1/2 each, p_e = 1/4 + 1/4 = 1/2, kappa =
// (1 − 1/2)/(1 − 1/2) = 1. Gwet (q = 3 categories): π_yes = π_no = 1/2,
// p_e = (1/2·1/2 + 1/2·1/2 + 0)/(3 − 1) = 1/4, AC1 = (1 − 1/4)/(1 − 1/4) = 1.
// Prompt 1.1a alone: 1 pair, disagreeing, p_o = 0; Cohen p_e = 1·0 + 0·1 =
// 0, kappa = 0; π_yes = π_no = 1/2, Gwet p_e = 1/4, AC1 = (0 − 1/4)/(3/4) =
// −1/3. insp.a: 4 answers submitted, 1 later changed by QA (moderation of
// 1.1a): 25%. The inspector's own view names them and holds no other
// inspector's figures.
func agreementFromMarkings(t *testing.T, lead, insp, id string) {
	t.Helper()
	type coef struct {
		Cases, Pairs, Agree int
		Percent             *int
		Kappa, AC1          *float64
		QuestionID          string `json:"question_id"`
		Inspector           string
		Submitted           int  `json:"submitted_answers"`
		Amended             int  `json:"amended_answers"`
		AmendedPercent      *int `json:"amended_percent"`
	}
	var rep struct {
		Agreement struct {
			OnlyInspector *string `json:"only_inspector"`
			KeyQuestions  coef    `json:"key_questions"`
			Questions     []coef
			Inspectors    []coef
		}
	}
	read := func(home string) {
		t.Helper()
		out, _ := cli(t, home, false, "report", "--inspection", id, "--agreement", "--format", "json")
		rep.Agreement.Questions, rep.Agreement.Inspectors = nil, nil
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("report --agreement json: %v\n%s", err, out)
		}
	}
	near := func(p *float64, want float64) bool { return p != nil && *p > want-0.0001 && *p < want+0.0001 }
	read(lead)
	k := rep.Agreement.KeyQuestions
	if k.Cases != 1 || k.Pairs != 2 || k.Agree != 2 || k.Percent == nil || *k.Percent != 100 || !near(k.Kappa, 1) || !near(k.AC1, 1) {
		t.Errorf("key questions together: %+v", k)
	}
	var p11a *coef
	for i := range rep.Agreement.Questions {
		if rep.Agreement.Questions[i].QuestionID == "1.1a" {
			p11a = &rep.Agreement.Questions[i]
		}
	}
	if p11a == nil || p11a.Pairs != 1 || p11a.Agree != 0 || !near(p11a.Kappa, 0) || !near(p11a.AC1, -1.0/3) {
		t.Errorf("prompt 1.1a: %+v", p11a)
	}
	if len(rep.Agreement.Inspectors) != 1 || rep.Agreement.Inspectors[0].Inspector != "insp.a" || rep.Agreement.Inspectors[0].Submitted != 4 ||
		rep.Agreement.Inspectors[0].Amended != 1 || rep.Agreement.Inspectors[0].AmendedPercent == nil || *rep.Agreement.Inspectors[0].AmendedPercent != 25 {
		t.Errorf("per inspector: %+v", rep.Agreement.Inspectors)
	}
	read(insp)
	if o := rep.Agreement.OnlyInspector; o == nil || *o != "insp.a" || len(rep.Agreement.Inspectors) != 1 || rep.Agreement.Inspectors[0].Inspector != "insp.a" {
		t.Errorf("the inspector's own agreement figures: only %v, inspectors %+v", o, rep.Agreement.Inspectors)
	}
}
