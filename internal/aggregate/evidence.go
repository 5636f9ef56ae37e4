package aggregate

import (
	"sort"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// EvidenceFilter selects the cases behind one figure.
type EvidenceFilter struct {
	// Value keeps the answers with this value (yes, no, na or a number),
	// or with RelevantValue those in the figure's Relevant (yes or no; any
	// number for a count question); "" keeps every answer that counts.
	Value string
	// Where keeps the cases whose attributes have these values (all of them).
	Where map[string]string
	// Grep keeps the answers whose evidence note holds this text (any case).
	Grep string
}

// MaxEvidenceRows is the most cases one evidence list holds: with notes of
// up to 8000 bytes it stays within a message (docs/limits.md).
const MaxEvidenceRows = 1000

// Values that select a figure's cases rather than one answer: those in its
// Relevant, and (count questions) those at or above its threshold — its
// Yes.
const (
	RelevantValue = "relevant"
	AtLeastValue  = "at_least"
)

// EvidenceRow is one case behind a figure: its answer to the question.
type EvidenceRow struct {
	CaseRef, Inspector, Value, Note string
}

// Evidence lists the answers to question qid behind its figures: the
// answers that count (framework.Counts, as every figure does, judged on
// the answers given to the questions its rules name, which answers must
// hold),
// in case order, kept by f. So "yes out of relevant" is the rows with
// value yes out of those with yes or no, case by case. The caller passes
// only the cases its user may see.
func Evidence(fw *framework.Framework, cases []framework.Case, answers []framework.Answer, qid string, f EvidenceFilter) ([]EvidenceRow, error) {
	// Bounded before anything is echoed in an error (docs/limits.md).
	checks := []error{framework.FieldID.CheckAs("question", qid), framework.FieldAttributeValue.CheckAs("grep", f.Grep)}
	if f.Value != "" {
		checks = append(checks, framework.FieldValue.CheckAs("value", f.Value))
	}
	for k, v := range f.Where {
		checks = append(checks, framework.FieldAttributeName.CheckAs("by", k), framework.FieldAttributeValue.CheckAs("by "+k, v))
	}
	for _, err := range checks {
		if err != nil {
			return nil, err
		}
	}
	q, ok := fw.Question(qid)
	if !ok {
		return nil, framework.Errorf(framework.CodeInvalid, "question: %q is not a question of framework %s", qid, fw.ID)
	}
	var want string
	relevantOnly, atLeastOnly := f.Value == RelevantValue, f.Value == AtLeastValue
	if atLeastOnly && (q.Type != framework.TypeCount || q.Threshold == 0) {
		return nil, framework.Errorf(framework.CodeInvalid, "value: %s is for count questions with a threshold; %s is not one", AtLeastValue, qid)
	}
	if f.Value != "" && !relevantOnly && !atLeastOnly {
		v, err := framework.ParseValue(f.Value)
		if err != nil {
			return nil, framework.Errorf(framework.CodeInvalid, "value: %v", err)
		}
		want = v.String()
	}
	for attr := range f.Where {
		if _, ok := fw.Attribute(attr); !ok && attr != UnitAttribute {
			return nil, framework.Errorf(framework.CodeInvalid, "by: %q is not a case attribute of framework %s", attr, fw.ID)
		}
	}
	byRef := make(map[string]framework.Case, len(cases))
	attrsOf := make(map[string]map[string]string, len(cases))
	for _, c := range cases {
		byRef[c.Ref] = c
		attrsOf[c.Ref] = c.Attributes
	}
	factsOf := sampleFacts(fw, attrsOf, answers)
	grep := strings.ToLower(f.Grep)
	var out []EvidenceRow
	for _, a := range answers {
		c, visible := byRef[a.CaseRef]
		if !visible || a.QuestionID != qid {
			continue
		}
		v, err := framework.ParseValue(a.Value)
		if err != nil || !fw.Counts(q, factsOf[c.Ref], v) || want != "" && v.String() != want {
			continue
		}
		if yes, rel := contributes(q, v); relevantOnly && !rel || atLeastOnly && !yes {
			continue
		}
		if !matches(c.Attributes, f.Where) || grep != "" && !strings.Contains(strings.ToLower(a.Note), grep) {
			continue
		}
		out = append(out, EvidenceRow{CaseRef: c.Ref, Inspector: c.Inspector, Value: v.String(), Note: a.Note})
	}
	if len(out) > MaxEvidenceRows {
		return nil, framework.Errorf(framework.CodeInvalid, "%d cases, more than the %d listed at once: narrow the list by value, attribute or note text", len(out), MaxEvidenceRows)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CaseRef < out[j].CaseRef })
	return out, nil
}

func matches(attrs, where map[string]string) bool {
	for k, v := range where {
		if attrs[k] != v {
			return false
		}
	}
	return true
}
