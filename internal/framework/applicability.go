package framework

import (
	"fmt"
	"slices"
	"strings"
)

// Which questions apply to a case is decided by the case's attributes and
// the questions' conditions (applies_when in docs/frameworks.md). This file
// is the one home of that rule: the conditions, a case's applicable
// questions (what the form asks, what submitting needs, what completeness
// counts) and which stored answers count in figures.

// Condition tests one case attribute: its value must be one of In, or none
// of NotIn (exactly one of the two is set).
type Condition struct {
	Attribute string   `json:"attribute"`
	In        []string `json:"in,omitempty"`
	NotIn     []string `json:"not_in,omitempty"`
}

func (c *Condition) holds(attrs map[string]string) bool {
	v := attrs[c.Attribute]
	if len(c.In) > 0 {
		return slices.Contains(c.In, v)
	}
	return !slices.Contains(c.NotIn, v)
}

func (c *Condition) String() string {
	if len(c.In) > 0 {
		return fmt.Sprintf("%s is %s", c.Attribute, strings.Join(c.In, " or "))
	}
	return fmt.Sprintf("%s is not %s", c.Attribute, strings.Join(c.NotIn, " or "))
}

// AppliesTo reports whether q applies to a case with the given attributes,
// and if not, why not.
func (q *Question) AppliesTo(attrs map[string]string) (bool, string) {
	for _, c := range q.AppliesWhen {
		if !c.holds(attrs) {
			return false, fmt.Sprintf("%s is %q; it applies only where %s", c.Attribute, attrs[c.Attribute], c)
		}
	}
	return true, ""
}

// Applicable returns the questions that apply to a case with the given
// attributes, in framework order (see Questions): the questions its form
// asks and its submission needs answered.
func (f *Framework) Applicable(attrs map[string]string) []*Question {
	var out []*Question
	for _, q := range f.order {
		if ok, _ := q.AppliesTo(attrs); ok {
			out = append(out, q)
		}
	}
	return out
}

// Missing lists the applicable questions a case has not answered, in
// framework order.
func (f *Framework) Missing(attrs map[string]string, answered map[string]bool) []string {
	var out []string
	for _, q := range f.order {
		if ok, _ := q.AppliesTo(attrs); ok && !answered[q.ID] {
			out = append(out, q.ID)
		}
	}
	return out
}

// Completeness is how far a case's recording has got: done of the
// required (applicable) questions are answered. An answer to a question
// that does not apply is not counted (it is na, or no longer applies).
func (f *Framework) Completeness(attrs map[string]string, answered map[string]bool) (done, required int) {
	for _, q := range f.order {
		if ok, _ := q.AppliesTo(attrs); ok {
			required++
			if answered[q.ID] {
				done++
			}
		}
	}
	return done, required
}

// Counts reports whether an answer with value v to q counts for a case with
// the given attributes: where q applies, any answer does; where it does not,
// only na (which says so). This is the one rule of which answers make
// figures, and CheckAnswer refuses to record any other. An answer that does
// not count was given before the case's attributes changed: it "no longer
// applies". It is kept as it stands, history and all, but counted in no
// figure (reports, kept counts, breakdowns, recount) and listed for
// clearing, until it is changed to na or the case applies again.
func (q *Question) Counts(attrs map[string]string, v Value) bool {
	if v.NA {
		return true
	}
	ok, _ := q.AppliesTo(attrs)
	return ok
}

// NoLongerApplies reports whether a stored answer (question id and value)
// to a case with the given attributes no longer applies: see
// Question.Counts. An answer to a question the framework does not have, or
// with a value that is not one, is not judged here (false).
func (f *Framework) NoLongerApplies(attrs map[string]string, questionID, value string) bool {
	q, ok := f.questions[questionID]
	if !ok {
		return false
	}
	v, err := ParseValue(value)
	if err != nil {
		return false
	}
	return !q.Counts(attrs, v)
}

// CheckAttributes checks a case's attributes against the framework's
// declarations: every declared attribute present with an allowed value, and
// nothing undeclared. It returns every problem found.
func (f *Framework) CheckAttributes(attrs map[string]string) []string {
	var problems []string
	for _, a := range f.Attributes {
		v, ok := attrs[a.Name]
		switch {
		case !ok || v == "":
			problems = append(problems, fmt.Sprintf("%s is missing", a.Name))
		case len(a.Values) > 0 && !slices.Contains(a.Values, v):
			problems = append(problems, fmt.Sprintf("%s %q is not one of %s", a.Name, v, strings.Join(a.Values, ", ")))
		}
	}
	for name := range attrs {
		if _, ok := f.attrs[name]; !ok {
			problems = append(problems, fmt.Sprintf("unknown attribute %q", name))
		}
	}
	slices.Sort(problems)
	return problems
}

func (f *Framework) checkCondition(qid string, c *Condition, add func(string, ...any)) {
	a, ok := f.attrs[c.Attribute]
	if !ok {
		add("question %s: rule names unknown attribute %q", qid, c.Attribute)
		return
	}
	if (len(c.In) == 0) == (len(c.NotIn) == 0) {
		add("question %s: rule on %s must set exactly one of in and not_in", qid, c.Attribute)
	}
	if len(a.Values) > 0 {
		for _, v := range append(slices.Clone(c.In), c.NotIn...) {
			if !slices.Contains(a.Values, v) {
				add("question %s: rule names value %q that attribute %s does not allow", qid, v, c.Attribute)
			}
		}
	}
}
