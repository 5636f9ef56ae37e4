package framework_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// dependentFW has the published shape "information was present in X of Y
// cases, and, where present, sufficiently analysed in N of M": PRESENT is
// asked of every case; ANALYSED only where PRESENT is yes; DEEPER only
// where ANALYSED is no (a chain); LATER names a question after it in the
// framework (forward); CUSTODY applies only to custody cases and SEEN
// names it (a question that does not apply counts as na); COUNTED waits
// on a count.
const dependentFW = `{"id":"dep","version":1,
	"attributes":[{"name":"sentence","values":["community","custody"]}],
	"domains":[{"id":"D","title":"d","standards":[{"id":"S","title":"s","kind":"case_rated","key_questions":[
		{"id":"K","text":"k","prompts":[
			{"id":"PRESENT","text":"was the information present?"},
			{"id":"ANALYSED","text":"where present, was it analysed?","applies_when":[{"question":"PRESENT","in":["yes"]}]},
			{"id":"DEEPER","text":"where not analysed, was it escalated?","applies_when":[{"question":"ANALYSED","in":["no"]}]},
			{"id":"LATER","text":"names a later question","applies_when":[{"question":"VISITS","not_in":["0"]}]}]}]}]}],
	"supplementary":[
		{"id":"CUSTODY","text":"custody only","applies_when":[{"attribute":"sentence","in":["custody"]}]},
		{"id":"SEEN","text":"where custody was not no","applies_when":[{"question":"CUSTODY","not_in":["no"]}]},
		{"id":"VISITS","text":"how many visits","type":"count","min":0}]}`

func loadDependent(t *testing.T) *framework.Framework {
	t.Helper()
	fw, err := framework.Load([]byte(dependentFW))
	if err != nil {
		t.Fatal(err)
	}
	return fw
}

func TestApplies_AnswerConditions(t *testing.T) {
	fw := loadDependent(t)
	community := map[string]string{"sentence": "community"}
	custody := map[string]string{"sentence": "custody"}
	tests := []struct {
		name    string
		attrs   map[string]string
		answers map[string]string
		q       string
		want    framework.Applicability
		why     string // a part of the reason, when it does not apply
	}{
		{"unanswered reference: not yet", community, nil, "ANALYSED", framework.NotYet, "PRESENT is not answered yet"},
		{"condition holds", community, map[string]string{"PRESENT": "yes"}, "ANALYSED", framework.Applies, ""},
		{"condition fails", community, map[string]string{"PRESENT": "no"}, "ANALYSED", framework.DoesNotApply, "PRESENT is no"},
		{"na is a value like any other", community, map[string]string{"PRESENT": "na"}, "ANALYSED", framework.DoesNotApply, "PRESENT is na"},
		{"a chain waits on its first link", community, nil, "DEEPER", framework.NotYet, "ANALYSED is not answered yet"},
		{"a chain broken at its first link", community, map[string]string{"PRESENT": "no", "ANALYSED": "no"}, "DEEPER", framework.DoesNotApply, "ANALYSED is na"},
		{"a chain that holds", community, map[string]string{"PRESENT": "yes", "ANALYSED": "no"}, "DEEPER", framework.Applies, ""},
		{"a reference outside the case's attributes is na: not_in holds", community, nil, "SEEN", framework.Applies, ""},
		{"a reference inside them waits", custody, nil, "SEEN", framework.NotYet, "CUSTODY is not answered yet"},
		{"and is judged on its answer", custody, map[string]string{"CUSTODY": "no"}, "SEEN", framework.DoesNotApply, "CUSTODY is no"},
		{"a count: not_in 0 fails on 0", community, map[string]string{"VISITS": "0"}, "LATER", framework.DoesNotApply, "VISITS is 0"},
		{"a count: holds on 3", community, map[string]string{"VISITS": "3"}, "LATER", framework.Applies, ""},
		{"attributes come first", custody, map[string]string{"CUSTODY": "yes"}, "CUSTODY", framework.Applies, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := fw.Question(tt.q)
			got, why := fw.Applies(q, framework.CaseFacts(tt.attrs, tt.answers))
			if got != tt.want || !strings.Contains(why, tt.why) {
				t.Errorf("Applies(%s) = %v (%q), want %v (%q)", tt.q, got, why, tt.want, tt.why)
			}
		})
	}
}

// A question waiting on an unanswered one is neither asked nor missing;
// once the answer makes it apply it is both; an answer given before the
// answer it depends on changed no longer counts.
func TestApplicable_FollowsTheAnswers(t *testing.T) {
	fw := loadDependent(t)
	attrs := map[string]string{"sentence": "community"}
	ids := func(qs []*framework.Question) []string {
		var out []string
		for _, q := range qs {
			out = append(out, q.ID)
		}
		return out
	}
	answers := map[string]string{}
	facts := framework.CaseFacts(attrs, answers)
	if got := ids(fw.Applicable(facts)); !slices.Equal(got, []string{"K", "PRESENT", "SEEN", "VISITS"}) {
		t.Errorf("nothing answered: asked %v", got)
	}
	answers["PRESENT"], answers["VISITS"] = "yes", "2"
	if got := ids(fw.Applicable(facts)); !slices.Equal(got, []string{"K", "PRESENT", "ANALYSED", "LATER", "SEEN", "VISITS"}) {
		t.Errorf("present, 2 visits: asked %v", got)
	}
	if m := fw.Missing(facts); !slices.Equal(m, []string{"K", "ANALYSED", "LATER", "SEEN"}) {
		t.Errorf("missing %v", m)
	}
	answers["ANALYSED"] = "yes"
	yes, _ := framework.ParseValue("yes")
	analysed, _ := fw.Question("ANALYSED")
	if !fw.Counts(analysed, facts, yes) {
		t.Error("ANALYSED yes where PRESENT is yes does not count")
	}
	answers["PRESENT"] = "no"
	if fw.Counts(analysed, facts, yes) || !fw.NoLongerApplies(facts, "ANALYSED", "yes") || fw.NoLongerApplies(facts, "ANALYSED", "na") {
		t.Error("ANALYSED yes after PRESENT changed to no: it must no longer apply (and na always counts)")
	}
	if done, required := fw.Completeness(facts); done != 2 || required != 5 {
		t.Errorf("completeness %d of %d, want 2 of 5 (PRESENT, VISITS of K, PRESENT, LATER, SEEN, VISITS)", done, required)
	}
}

func TestCheckAnswer_AnswerConditions(t *testing.T) {
	fw := loadDependent(t)
	attrs := map[string]string{"sentence": "community"}
	for _, tt := range []struct {
		answers map[string]string
		q, v    string
		want    string // "" accepted, else part of the error
	}{
		{nil, "ANALYSED", "yes", "not asked yet (it applies only where PRESENT is yes, and PRESENT is not answered yet)"},
		{nil, "ANALYSED", "na", ""},
		{map[string]string{"PRESENT": "no"}, "ANALYSED", "no", "does not apply to this case (PRESENT is no; it applies only where PRESENT is yes)"},
		{map[string]string{"PRESENT": "yes"}, "ANALYSED", "no", ""},
		// The reference itself is never refused for what it does to others.
		{map[string]string{"PRESENT": "yes", "ANALYSED": "yes"}, "PRESENT", "no", ""},
	} {
		_, err := fw.CheckAnswer("C-1", framework.CaseFacts(attrs, tt.answers), tt.q, tt.v)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "case C-1 question "+tt.q)) {
			t.Errorf("CheckAnswer(%s=%s with %v) = %v, want %q", tt.q, tt.v, tt.answers, err, tt.want)
		}
	}
}

func TestDependencies_Indexed(t *testing.T) {
	fw := loadDependent(t)
	if !fw.AnswerConditions() {
		t.Fatal("AnswerConditions false")
	}
	if d := fw.Dependents("PRESENT"); !slices.Equal(d, []string{"ANALYSED", "DEEPER"}) {
		t.Errorf("Dependents(PRESENT) = %v", d)
	}
	if r := fw.References("DEEPER"); !slices.Equal(r, []string{"PRESENT", "ANALYSED"}) {
		t.Errorf("References(DEEPER) = %v", r)
	}
	var order []string
	for _, q := range fw.InDependencyOrder() {
		order = append(order, q.ID)
	}
	pos := func(id string) int { return slices.Index(order, id) }
	if len(order) != len(fw.Questions()) || pos("VISITS") > pos("LATER") || pos("PRESENT") > pos("ANALYSED") || pos("ANALYSED") > pos("DEEPER") {
		t.Errorf("InDependencyOrder = %v: each question must come after those its rules name", order)
	}
	if builtin(t, "probation-pdu-2023").AnswerConditions() {
		t.Error("the PDU framework has no rules on answers (docs/frameworks.md says why)")
	}
}

func TestLoad_AnswerConditionsRejectedListingEveryProblem(t *testing.T) {
	bad := `{"id":"bad","version":1,
	"attributes":[{"name":"sentence","values":["community","custody"]}],
	"domains":[{"id":"D","title":"d","standards":[{"id":"S","title":"s","kind":"case_rated","key_questions":[
		{"id":"K","text":"k","prompts":[
			{"id":"A","text":"a","applies_when":[{"question":"B","in":["yes"]}]},
			{"id":"B","text":"b","applies_when":[{"question":"A","in":["yes"]}]},
			{"id":"C","text":"c","applies_when":[{"question":"NOPE","in":["yes"]}]},
			{"id":"D1","text":"d","applies_when":[{"question":"K","in":["maybe"]}]},
			{"id":"E","text":"e","applies_when":[{"question":"N","in":["1"]}]},
			{"id":"F","text":"f","applies_when":[{"question":"K","in":["yes"],"not_in":["no"]}]},
			{"id":"G","text":"g","applies_when":[{"attribute":"sentence","question":"K","in":["yes"]}]},
			{"id":"H","text":"h","applies_when":[]}]}]}]}],
	"supplementary":[{"id":"N","text":"n","type":"count","min":2}]}`
	_, err := framework.Load([]byte(bad))
	if framework.ErrorCode(err) != framework.CodeInvalid {
		t.Fatalf("Load = %v, want invalid", err)
	}
	for _, want := range []string{
		`question C: rule names unknown question "NOPE"`,
		`question D1: rule names value "maybe" that question K cannot take (yes, no or na)`,
		`question E: rule names value "1" that question N cannot take (a whole number or na)`,
		`question F: rule on K must set exactly one of in and not_in`,
		`question G: a condition names both attribute "sentence" and question "K"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not list %q:\n%v", want, err)
		}
	}
	// Once every question named exists, cycles are found.
	cycle := strings.Replace(bad, `"NOPE"`, `"K"`, 1)
	_, err = framework.Load([]byte(cycle))
	if err == nil || !strings.Contains(err.Error(), "question A: its rules form a cycle: A → B → A") {
		t.Errorf("cycle: %v", err)
	}
	never := `{"id":"never","version":1,
	"attributes":[{"name":"sentence","values":["community","custody"]},{"name":"note"}],
	"domains":[{"id":"D","title":"d","standards":[{"id":"S","title":"s","kind":"case_rated","key_questions":[
		{"id":"K","text":"k","prompts":[
			{"id":"CUST","text":"custody only","applies_when":[{"attribute":"sentence","in":["custody"]}]},
			{"id":"COMM","text":"community, where CUST is yes","applies_when":[{"attribute":"sentence","in":["community"]},{"question":"CUST","in":["yes"]}]},
			{"id":"NONE","text":"contradictory","applies_when":[{"attribute":"note","in":["x"]},{"attribute":"note","not_in":["x"]}]},
			{"id":"AFTER","text":"names NONE","applies_when":[{"question":"NONE","in":["no"]}]},
			{"id":"FINE","text":"community or not, where CUST is not yes","applies_when":[{"question":"CUST","not_in":["yes"]}]}]}]}]}]}`
	_, err = framework.Load([]byte(never))
	for _, want := range []string{
		"question COMM applies to no case: its rules never all hold",
		"question AFTER: rule names question NONE, which applies to no case",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("never applies: error does not list %q:\n%v", want, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), "question FINE") {
		t.Errorf("FINE can apply (a community case: CUST is na), but was refused:\n%v", err)
	}
}
