// Package framework is the inspection domain: frameworks (standards, key
// questions, prompts, applicability and rating rules) held as data, the case
// and answer types they judge, and the error vocabulary every layer shares.
// It does no I/O and imports neither SQLite nor gRPC.
package framework

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// StandardKind is how a standard is rated.
type StandardKind string

// Standard kinds.
const (
	KindCaseRated StandardKind = "case_rated" // rated from case answers to its key questions
	KindJudged    StandardKind = "judged"     // rated by the lead inspector from other evidence
)

// QuestionKind is where a question sits in the framework.
type QuestionKind string

// Question kinds, derived from where a question sits in the file.
const (
	QuestionKey           QuestionKind = "key"
	QuestionPrompt        QuestionKind = "prompt"
	QuestionSupplementary QuestionKind = "supplementary"
)

// Answer types.
const (
	TypeYesNo = "yn"    // yes / no / na
	TypeCount = "count" // a whole number (or na)
)

// Framework is one version of an inspection framework. Load builds it from
// its file; the exported fields mirror the file format (docs/frameworks.md).
type Framework struct {
	// Format is the version of the file format (FormatVersion): absent or
	// 1 for every framework so far. A file of a higher format uses what
	// this build cannot read and is refused with "update fieldwork".
	Format      int          `json:"format,omitempty"`
	ID          string       `json:"id"`
	Version     int          `json:"version"`
	Title       string       `json:"title"`
	Description string       `json:"description,omitempty"`
	Attributes  []*Attribute `json:"attributes"`
	// Rating is nil for a framework that awards no ratings.
	Rating        *RatingRule `json:"rating,omitempty"`
	Domains       []*Domain   `json:"domains"`
	Supplementary []*Question `json:"supplementary,omitempty"`

	checksum  string
	questions map[string]*Question
	order     []*Question
	standards map[string]*Standard
	attrs     map[string]*Attribute
	// dependents and references index the rules on answers
	// (applicability.go): question → the questions it may make apply or
	// not, and → the questions whose answers decide it.
	dependents, references map[string][]string
	judging                []*Question // InDependencyOrder; nil until Load has checked the rules
}

// Attribute is a case attribute the framework's rules and breakdowns use.
// Values lists the allowed values; empty means free text.
type Attribute struct {
	Name   string   `json:"name"`
	Title  string   `json:"title,omitempty"`
	Values []string `json:"values,omitempty"`
}

// Domain groups standards.
type Domain struct {
	ID        string      `json:"id"`
	Title     string      `json:"title"`
	Standards []*Standard `json:"standards"`
}

// Standard is either case-rated from its key questions or judged.
type Standard struct {
	ID            string       `json:"id"`
	Title         string       `json:"title"`
	Text          string       `json:"text,omitempty"`
	Kind          StandardKind `json:"kind"`
	KeyQuestions  []*Question  `json:"key_questions,omitempty"`
	Supplementary []*Question  `json:"supplementary,omitempty"`
}

// Question is a key question, a prompt or a supplementary question.
type Question struct {
	ID   string `json:"id"`
	Text string `json:"text"`
	// Type is "yn" (the default) or "count".
	Type string `json:"type,omitempty"`
	// Min is the smallest count allowed (count questions).
	Min *int64 `json:"min,omitempty"`
	// Threshold, for count questions, makes reports give the number of cases
	// at or above it (e.g. 3 or more practitioners).
	Threshold int64 `json:"threshold,omitempty"`
	// AppliesWhen lists conditions on case attributes and on the case's
	// answers to other questions, all of which must hold for the question
	// to apply; empty means it applies to every case.
	AppliesWhen []*Condition `json:"applies_when,omitempty"`
	Prompts     []*Question  `json:"prompts,omitempty"`

	Kind          QuestionKind `json:"-"`
	StandardID    string       `json:"-"`
	KeyQuestionID string       `json:"-"`

	position int // index in Questions()
}

// FormatVersion is the highest framework file format this build reads
// (Framework.Format; docs/frameworks.md, docs/releases.md).
const FormatVersion = 1

// Load parses and checks a framework file. An inconsistent file is rejected
// with an error listing every problem found, not just the first; a file of
// a format above FormatVersion is refused with "update fieldwork".
func Load(data []byte) (*Framework, error) {
	if i := InvalidUTF8(data); i >= 0 {
		// The JSON decoder would turn it into U+FFFD without a word.
		line, col := LineColumn(data, i)
		return nil, Errorf(CodeInvalid, "framework file: line %d, column %d: not valid UTF-8", line, col)
	}
	// The format first, read leniently: a newer format's new fields would
	// otherwise be refused one by one as unknown, hiding that this build
	// is simply too old for the file.
	var head struct {
		Format json.RawMessage `json:"format"`
		ID     string          `json:"id"`
	}
	if json.Unmarshal(data, &head) == nil && len(head.Format) > 0 {
		var n int
		if err := json.Unmarshal(head.Format, &n); err != nil || n < 1 {
			return nil, Errorf(CodeInvalid, "framework file: format must be a whole number from 1, got %q", shortText(string(head.Format)))
		}
		if n > FormatVersion {
			return nil, Errorf(CodePrecondition, "update fieldwork: framework %q is written in format %d; this fieldwork reads formats up to %d",
				shortText(head.ID), n, FormatVersion)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f Framework
	if err := dec.Decode(&f); err != nil {
		return nil, Errorf(CodeInvalid, "framework file: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, Errorf(CodeInvalid, "framework file: unexpected data after the framework object")
	}
	if problems := f.index(); len(problems) > 0 {
		name := f.ID
		if FieldFrameworkID.problem(name) != "" {
			name = "(no valid id)"
		}
		return nil, Errorf(CodeInvalid, "framework %s has %d problem(s):\n  %s",
			name, len(problems), strings.Join(problems, "\n  "))
	}
	sum := sha256.Sum256(data)
	f.checksum = hex.EncodeToString(sum[:])
	return &f, nil
}

// index checks the framework and builds its lookup tables, returning every
// problem found.
func (f *Framework) index() []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	// check adds the problem of a text or id field (see limits.go).
	check := func(field Field, name, s string) {
		if p := field.problem(s); p != "" {
			add("%s %s", name, p)
		}
	}
	if f.ID == "" {
		add("id is missing")
	} else {
		check(FieldFrameworkID, "id", f.ID)
	}
	if f.Version < 1 {
		add("version must be 1 or more, got %d", f.Version)
	}
	check(FieldTitle, "title", f.Title)
	check(FieldDescription, "description", f.Description)
	if len(f.Attributes) > MaxAttributes {
		add("%d attributes declared, over the limit of %d", len(f.Attributes), MaxAttributes)
	}
	f.attrs = map[string]*Attribute{}
	for _, a := range f.Attributes {
		if a.Name == "" {
			add("an attribute has no name")
			continue
		}
		if p := FieldAttributeName.problem(a.Name); p != "" {
			add("attribute name %s", p)
			continue
		}
		if _, dup := f.attrs[a.Name]; dup {
			add("attribute %q is declared twice", a.Name)
		}
		f.attrs[a.Name] = a
		check(FieldTitle, "attribute "+a.Name+" title", a.Title)
		if len(a.Values) > MaxAttributeValues {
			add("attribute %s allows %d values, over the limit of %d", a.Name, len(a.Values), MaxAttributeValues)
		}
		for _, v := range a.Values {
			check(FieldAttributeValue, "attribute "+a.Name+" value", v)
		}
	}
	f.questions = map[string]*Question{}
	f.standards = map[string]*Standard{}
	f.order = nil
	seen := map[string]string{} // id → what it is, across standards and questions
	// claim records an id and returns how later problems name its owner:
	// the id itself, or a stand-in for an id refused here, so that no
	// message repeats a long or unsafe id.
	invalid := 0
	claim := func(id, what string) string {
		if id == "" {
			add("a %s has no id", what)
			return "(no id)"
		}
		if p := FieldID.problem(id); p != "" {
			invalid++
			shown := fmt.Sprintf("(invalid id %d)", invalid)
			add("%s %s: id %s", what, shown, p)
			return shown
		}
		if prev, dup := seen[id]; dup {
			add("duplicate id %q (%s and %s)", id, prev, what)
			return id
		}
		seen[id] = what
		return id
	}
	var addQuestion func(q *Question, kind QuestionKind, standard, key string)
	addQuestion = func(q *Question, kind QuestionKind, standard, key string) {
		qid := claim(q.ID, string(kind)+" question")
		q.Kind, q.StandardID, q.KeyQuestionID = kind, standard, key
		if q.Type == "" {
			q.Type = TypeYesNo
		}
		if q.Text == "" {
			add("question %s has no text", qid)
		}
		check(FieldQuestionText, "question "+qid+" text", q.Text)
		switch q.Type {
		case TypeYesNo:
			if q.Min != nil || q.Threshold != 0 {
				add("question %s: min and threshold apply only to count questions", qid)
			}
		case TypeCount:
			if kind == QuestionKey {
				add("key question %s must be a yes/no question, not a count", qid)
			}
		default:
			add("question %s: unknown type %q (want yn or count)", qid, q.Type)
		}
		for _, c := range q.AppliesWhen {
			f.checkCondition(qid, c, add)
		}
		if kind != QuestionKey && len(q.Prompts) > 0 {
			add("question %s: only key questions have prompts", qid)
		}
		if q.ID != "" {
			if _, dup := f.questions[q.ID]; !dup {
				f.questions[q.ID] = q
				q.position = len(f.order)
				f.order = append(f.order, q)
			}
		}
		for _, p := range q.Prompts {
			addQuestion(p, QuestionPrompt, standard, q.ID)
		}
	}
	for _, d := range f.Domains {
		did := claim(d.ID, "domain")
		check(FieldTitle, "domain "+did+" title", d.Title)
		if len(d.Standards) == 0 {
			add("domain %s has no standards", did)
		}
		for _, s := range d.Standards {
			sid := claim(s.ID, "standard")
			check(FieldTitle, "standard "+sid+" title", s.Title)
			check(FieldDescription, "standard "+sid+" text", s.Text)
			if s.ID != "" {
				f.standards[s.ID] = s
			}
			switch s.Kind {
			case KindCaseRated:
				if len(s.KeyQuestions) == 0 {
					add("case-rated standard %s has no key questions", sid)
				}
			case KindJudged:
				if len(s.KeyQuestions) > 0 {
					add("judged standard %s must not have key questions", sid)
				}
				if f.Rating == nil {
					add("judged standard %s in a framework that awards no ratings", sid)
				}
			default:
				add("standard %s: unknown kind %q (want case_rated or judged)", sid, s.Kind)
			}
			for _, q := range s.KeyQuestions {
				addQuestion(q, QuestionKey, s.ID, "")
			}
			for _, q := range s.Supplementary {
				addQuestion(q, QuestionSupplementary, s.ID, "")
			}
		}
	}
	for _, q := range f.Supplementary {
		addQuestion(q, QuestionSupplementary, "", "")
	}
	f.checkAnswerConditions(add)
	if len(f.standards) == 0 {
		add("framework has no standards")
	}
	if f.Rating != nil {
		problems = append(problems, f.Rating.check(len(f.standards))...)
	}
	return problems
}

// Checksum is the hex SHA-256 of the file the framework was loaded from.
func (f *Framework) Checksum() string { return f.checksum }

// Rated reports whether the framework awards ratings.
func (f *Framework) Rated() bool { return f.Rating != nil }

// Question returns the question with the given id.
func (f *Framework) Question(id string) (*Question, bool) {
	q, ok := f.questions[id]
	return q, ok
}

// Position returns the index of a question in Questions(): fixed for a
// framework version, as its file is once an inspection uses it, so kept
// counts may be stored by position (store's packed breakdown rows).
func (f *Framework) Position(id string) (int, bool) {
	q, ok := f.questions[id]
	if !ok {
		return 0, false
	}
	return q.position, true
}

// Questions returns every question in framework order: standard by
// standard, each key question followed by its prompts, then the standard's
// supplementary questions; framework-wide supplementary questions last.
func (f *Framework) Questions() []*Question { return f.order }

// Standard returns the standard with the given id.
func (f *Framework) Standard(id string) (*Standard, bool) {
	s, ok := f.standards[id]
	return s, ok
}

// Standards returns every standard in framework order.
func (f *Framework) Standards() []*Standard {
	var out []*Standard
	for _, d := range f.Domains {
		out = append(out, d.Standards...)
	}
	return out
}

// Attribute returns the declared case attribute with the given name.
func (f *Framework) Attribute(name string) (*Attribute, bool) {
	a, ok := f.attrs[name]
	return a, ok
}

// Summary describes a stored framework version, for listings.
type Summary struct {
	ID        string
	Version   int
	Title     string
	Checksum  string
	Rated     bool
	Questions int
}

// shortText cuts text from a file that is quoted in an error to 64 runes.
func shortText(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return s
}
