package framework

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Which questions apply to a case is decided by the case's attributes, its
// answers to other questions and the questions' conditions (applies_when
// in docs/frameworks.md). This file is the one home of that rule: the
// conditions, a question's applicability to a case (applies, not yet
// decided, does not apply), a case's applicable questions (what the form
// asks, what submitting needs, what completeness counts) and which stored
// answers count in figures.

// Condition tests one case attribute, or the case's answer to one other
// question (exactly one of Attribute and Question is set): the value must
// be one of In, or none of NotIn (exactly one of the two is set).
type Condition struct {
	Attribute string   `json:"attribute,omitempty"`
	Question  string   `json:"question,omitempty"`
	In        []string `json:"in,omitempty"`
	NotIn     []string `json:"not_in,omitempty"`
}

func (c *Condition) holds(v string) bool {
	if len(c.In) > 0 {
		return slices.Contains(c.In, v)
	}
	return !slices.Contains(c.NotIn, v)
}

func (c *Condition) String() string {
	name := c.Attribute
	if c.Question != "" {
		name = c.Question
	}
	if len(c.In) > 0 {
		return fmt.Sprintf("%s is %s", name, strings.Join(c.In, " or "))
	}
	return fmt.Sprintf("%s is not %s", name, strings.Join(c.NotIn, " or "))
}

// Facts are what decide which questions apply to a case: its attributes
// and its answers. Answer returns the case's answer to a question as
// stored ("yes", "no", "na", a number) and whether it has one; nil means
// no answers. It is asked only of the questions that conditions name
// (and, by Missing and Completeness, of every applicable question).
type Facts struct {
	Attributes map[string]string
	Answer     func(questionID string) (value string, ok bool)
}

// CaseFacts returns the facts of a case with the given attributes and
// answers (question id → stored value).
func CaseFacts(attrs map[string]string, answers map[string]string) Facts {
	return Facts{Attributes: attrs, Answer: func(id string) (string, bool) {
		v, ok := answers[id]
		return v, ok
	}}
}

func (c Facts) answer(id string) (string, bool) {
	if c.Answer == nil {
		return "", false
	}
	return c.Answer(id)
}

// Applicability is whether a question applies to a case.
type Applicability int

// Applicabilities.
const (
	// Applies: every condition holds. The question is asked and required.
	Applies Applicability = iota
	// NotYet: no condition fails, but one names a question the case has
	// not answered yet. The question is not yet asked or required, and
	// takes only na until the answer it waits for is given.
	NotYet
	// DoesNotApply: a condition fails. Only na is accepted.
	DoesNotApply
)

// Applies decides whether q applies to a case, and if not, why not. A
// condition on another question is judged on that question's answer; a
// question that does not apply to the case counts as answered na there,
// and one that applies but is unanswered leaves the condition undecided
// (NotYet). Conditions on attributes are judged first, so a question
// outside the case's attributes does not apply whatever the answers.
func (f *Framework) Applies(q *Question, c Facts) (Applicability, string) {
	var memo map[string]effective
	for _, cond := range q.AppliesWhen {
		if cond.Question != "" {
			// Only a rule on answers reads the memo: the common question,
			// judged on attributes alone, allocates none.
			memo = map[string]effective{}
			break
		}
	}
	return f.applies(q, c, memo)
}

// effective is a question's answer as conditions see it (effectiveAnswer).
type effective struct {
	value string
	known bool
}

// applies is Applies with the effective answers already worked out for
// this case (memo): without it a question reached by two paths (a
// diamond of rules) would be judged once per path, exponentially often.
func (f *Framework) applies(q *Question, c Facts, memo map[string]effective) (Applicability, string) {
	for _, cond := range q.AppliesWhen {
		if cond.Question == "" && !cond.holds(c.Attributes[cond.Attribute]) {
			return DoesNotApply, fmt.Sprintf("%s is %q; it applies only where %s", cond.Attribute, c.Attributes[cond.Attribute], cond)
		}
	}
	state, why := Applies, ""
	for _, cond := range q.AppliesWhen {
		if cond.Question == "" {
			continue
		}
		v, known := f.effectiveAnswer(cond.Question, c, memo)
		switch {
		case !known:
			if state == Applies {
				state, why = NotYet, fmt.Sprintf("it applies only where %s, and %s is not answered yet", cond, cond.Question)
			}
		case !cond.holds(v):
			return DoesNotApply, fmt.Sprintf("%s is %s; it applies only where %s", cond.Question, v, cond)
		}
	}
	return state, why
}

// effectiveAnswer is the answer a condition on question id sees: na where
// the question does not apply to the case, its answer where it applies,
// and unknown (false) where it applies but is not answered, or waits
// itself. Load refuses cycles, so the recursion ends.
func (f *Framework) effectiveAnswer(id string, c Facts, memo map[string]effective) (string, bool) {
	if e, ok := memo[id]; ok {
		return e.value, e.known
	}
	v, known := f.judgeAnswer(id, c, memo)
	memo[id] = effective{v, known}
	return v, known
}

func (f *Framework) judgeAnswer(id string, c Facts, memo map[string]effective) (string, bool) {
	r, ok := f.questions[id]
	if !ok {
		return "", false
	}
	switch st, _ := f.applies(r, c, memo); st {
	case DoesNotApply:
		return "na", true
	case NotYet:
		return "", false
	}
	raw, ok := c.answer(id)
	if !ok {
		return "", false
	}
	v, err := ParseValue(raw)
	if err != nil {
		return "", false
	}
	return v.String(), true
}

// Applicable returns the questions that apply to a case, in framework
// order (see Questions): the questions its form asks and its submission
// needs answered.
func (f *Framework) Applicable(c Facts) []*Question {
	var out []*Question
	for _, q := range f.order {
		if st, _ := f.Applies(q, c); st == Applies {
			out = append(out, q)
		}
	}
	return out
}

// Missing lists the applicable questions a case has not answered, in
// framework order. A question waiting on an unanswered one is not yet
// missing: it joins the list once that answer makes it apply.
func (f *Framework) Missing(c Facts) []string {
	var out []string
	for _, q := range f.Applicable(c) {
		if _, ok := c.answer(q.ID); !ok {
			out = append(out, q.ID)
		}
	}
	return out
}

// Completeness is how far a case's recording has got: done of the
// required (applicable) questions are answered. An answer to a question
// that does not apply is not counted (it is na, or no longer applies).
func (f *Framework) Completeness(c Facts) (done, required int) {
	for _, q := range f.Applicable(c) {
		required++
		if _, ok := c.answer(q.ID); ok {
			done++
		}
	}
	return done, required
}

// Counts reports whether an answer with value v to q counts for a case:
// where q applies, any answer does; where it does not (or not yet), only
// na (which says so). This is the one rule of which answers make figures,
// and CheckAnswer refuses to record any other. An answer that does not
// count was given before the case changed — its attributes, or the answer
// a condition names — so that its question no longer applies. It is kept
// as it stands, history and all, but counted in no figure (reports, kept
// counts, breakdowns, recount) and listed for clearing, until it is
// changed to na or the case applies again.
func (f *Framework) Counts(q *Question, c Facts, v Value) bool {
	if v.NA {
		return true
	}
	st, _ := f.Applies(q, c)
	return st == Applies
}

// NoLongerApplies reports whether a stored answer (question id and value)
// to a case no longer applies: see Counts. An answer to a question the
// framework does not have, or with a value that is not one, is not judged
// here (false).
func (f *Framework) NoLongerApplies(c Facts, questionID, value string) bool {
	q, ok := f.questions[questionID]
	if !ok {
		return false
	}
	v, err := ParseValue(value)
	if err != nil {
		return false
	}
	return !f.Counts(q, c, v)
}

// AnswerConditions reports whether any question's applicability depends
// on answers: only then do the answers of a case (and not only its
// attributes) decide which of its answers count.
func (f *Framework) AnswerConditions() bool { return len(f.dependents) > 0 }

// Dependents lists the questions whose applicability may change when the
// answer to question id changes: those whose conditions name it, and
// theirs in turn, in framework order.
func (f *Framework) Dependents(id string) []string { return f.dependents[id] }

// InDependencyOrder returns the questions with each one after those its
// rules name, otherwise in framework order: the order in which answers
// made together (a saved form) are recorded, so that each is judged with
// the answers it waits on already in place.
func (f *Framework) InDependencyOrder() []*Question {
	if f.judging == nil {
		return f.order
	}
	return f.judging
}

// References lists the questions whose answers decide whether question id
// applies: those its conditions name, and theirs in turn.
func (f *Framework) References(id string) []string { return f.references[id] }

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

// checkCondition checks a condition on an attribute as the question is
// read; conditions on questions wait for checkAnswerConditions, once
// every question is known.
func (f *Framework) checkCondition(qid string, c *Condition, add func(string, ...any)) {
	if c.Question != "" {
		if c.Attribute != "" {
			add("question %s: a condition names both attribute %q and question %q; name one", qid, c.Attribute, c.Question)
		}
		return
	}
	if c.Attribute == "" {
		add("question %s: a condition names neither an attribute nor a question", qid)
		return
	}
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

// checkAnswerConditions checks the conditions that name questions, once
// every question is indexed: the question exists, the values are ones it
// can take, no question waits on itself through a cycle, and no question
// waits on one that applies to no case. It also indexes the dependencies
// (Dependents, References).
func (f *Framework) checkAnswerConditions(add func(string, ...any)) {
	f.dependents, f.references = map[string][]string{}, map[string][]string{}
	direct := map[string][]string{} // question → the questions its conditions name
	ok := true
	for _, q := range f.order {
		for _, c := range q.AppliesWhen {
			if c.Question == "" {
				continue
			}
			r, known := f.questions[c.Question]
			if !known {
				add("question %s: rule names unknown question %q", q.ID, c.Question)
				ok = false
				continue
			}
			if (len(c.In) == 0) == (len(c.NotIn) == 0) {
				add("question %s: rule on %s must set exactly one of in and not_in", q.ID, c.Question)
			}
			for _, v := range append(slices.Clone(c.In), c.NotIn...) {
				if !r.canTake(v) {
					add("question %s: rule names value %q that question %s cannot take (%s)", q.ID, v, r.ID, r.takes())
				}
			}
			if !slices.Contains(direct[q.ID], r.ID) {
				direct[q.ID] = append(direct[q.ID], r.ID)
			}
		}
	}
	// Cycles, each reported once, from its first question in framework
	// order: among the questions that exist, so that a file naming an
	// unknown one still has every cycle listed with it.
	const (
		unvisited = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(id string) bool
	visit = func(id string) bool {
		state[id] = onPath
		path = append(path, id)
		for _, r := range direct[id] {
			switch state[r] {
			case onPath:
				i := slices.Index(path, r)
				add("question %s: its rules form a cycle: %s → %s", r, strings.Join(path[i:], " → "), r)
				return false
			case unvisited:
				if !visit(r) {
					return false
				}
			}
		}
		path = path[:len(path)-1]
		state[id] = done
		return true
	}
	for _, q := range f.order {
		if state[q.ID] == unvisited && !visit(q.ID) {
			ok = false // Applies would not end: nothing below may ask it
			for _, id := range path {
				state[id] = done // look for the other cycles, each once
			}
			path = path[:0]
		}
	}
	if !ok {
		return
	}
	for _, q := range f.order {
		seen := map[string]bool{}
		var walk func(id string)
		walk = func(id string) {
			for _, r := range direct[id] {
				if !seen[r] {
					seen[r] = true
					walk(r)
				}
			}
		}
		walk(q.ID)
		for _, r := range f.order { // framework order, for stable lists
			if seen[r.ID] {
				f.references[q.ID] = append(f.references[q.ID], r.ID)
				f.dependents[r.ID] = append(f.dependents[r.ID], q.ID)
			}
		}
	}
	// Dependency order: each question after those its rules name, and
	// otherwise in framework order.
	placed := map[string]bool{}
	var place func(q *Question)
	place = func(q *Question) {
		if placed[q.ID] {
			return
		}
		placed[q.ID] = true
		for _, r := range direct[q.ID] {
			place(f.questions[r])
		}
		f.judging = append(f.judging, q)
	}
	f.judging = nil
	for _, q := range f.order {
		place(q)
	}
	for _, q := range f.order {
		if len(direct[q.ID]) == 0 {
			continue
		}
		for _, r := range direct[q.ID] {
			if !f.canApply(f.questions[r]) {
				add("question %s: rule names question %s, which applies to no case", q.ID, r)
			}
		}
		if !f.canApply(q) {
			add("question %s applies to no case: its rules never all hold", q.ID)
		}
	}
}

// canTake reports whether v is a value an answer to q can have, in the
// spelling stored and compared: yes, no or na; for counts, na or a whole
// number at or above the minimum.
func (q *Question) canTake(v string) bool {
	if v == "na" {
		return true
	}
	if q.Type == TypeCount {
		n, err := strconv.ParseInt(v, 10, 64)
		return err == nil && strconv.FormatInt(n, 10) == v && (q.Min == nil || n >= *q.Min)
	}
	return v == "yes" || v == "no"
}

func (q *Question) takes() string {
	if q.Type == TypeCount {
		return "a whole number or na"
	}
	return "yes, no or na"
}

// maxApplyTrials bounds the cases canApply tries; beyond it a question is
// assumed able to apply rather than checked.
const maxApplyTrials = 1 << 14

// canApply reports whether some case makes q apply: it tries every
// combination of the values that matter to q's rules — of each attribute
// they name (its allowed values, or for free text the values named plus
// one other), and of each question they name (the values its rules could
// tell apart, or unanswered).
func (f *Framework) canApply(q *Question) bool {
	attrs := map[string][]string{}
	answers := map[string][]string{}
	for _, id := range append([]string{q.ID}, f.references[q.ID]...) {
		for _, c := range f.questions[id].AppliesWhen {
			vals := append(slices.Clone(c.In), c.NotIn...)
			if c.Question != "" {
				answers[c.Question] = append(answers[c.Question], vals...)
				continue
			}
			if a := f.attrs[c.Attribute]; a != nil && len(a.Values) > 0 {
				attrs[c.Attribute] = a.Values
			} else {
				attrs[c.Attribute] = append(attrs[c.Attribute], vals...)
			}
		}
	}
	type dim struct {
		name   string
		answer bool
		vals   []string
	}
	var dims []dim
	trials := 1
	for _, name := range sortedKeys(attrs) {
		vals := attrs[name]
		if a := f.attrs[name]; a == nil || len(a.Values) == 0 {
			vals = append(vals, "\x00other")
		}
		dims = append(dims, dim{name, false, vals})
		trials = min(trials*len(vals), maxApplyTrials+1) // saturates: a product of many dimensions would overflow
	}
	for _, id := range sortedKeys(answers) {
		vals := append(answers[id], "na", "\x00unanswered")
		if f.questions[id].Type == TypeCount {
			vals = append(vals, "\x00other")
		} else {
			vals = append(vals, "yes", "no")
		}
		dims = append(dims, dim{id, true, vals})
		trials = min(trials*len(vals), maxApplyTrials+1) // saturates: a product of many dimensions would overflow
	}
	if trials > maxApplyTrials {
		return true
	}
	a, ans := map[string]string{}, map[string]string{}
	facts := CaseFacts(a, ans)
	var try func(i int) bool
	try = func(i int) bool {
		if i == len(dims) {
			st, _ := f.Applies(q, facts)
			return st == Applies
		}
		d := dims[i]
		for _, v := range d.vals {
			switch {
			case !d.answer:
				a[d.name] = v
			case v == "\x00unanswered":
				delete(ans, d.name)
			case v == "\x00other":
				ans[d.name] = otherNumber(answers[d.name])
			default:
				ans[d.name] = v
			}
			if try(i + 1) {
				return true
			}
		}
		return false
	}
	return try(0)
}

// otherNumber is a whole number none of vals names: the answers a rule on
// a count question does not list, all alike to it.
func otherNumber(vals []string) string {
	var top int64
	for _, v := range vals {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > top {
			top = n
		}
	}
	return strconv.FormatInt(top+1, 10)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
