package aggregate

import (
	"math"
	"slices"
	"sort"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// UnitAttribute is the pseudo-attribute a pooled report gives each case
// (framework.UnitAttribute).
const UnitAttribute = framework.UnitAttribute

// Options says what a report includes beyond its fixed tables.
type Options struct {
	// By lists case attributes to break every key question down by.
	By []string
}

// Interval is a 95% Wilson score interval for a share, in percent.
type Interval struct {
	Low, High float64
	// CrossesBand is true when the interval spans a rating band boundary:
	// the band could differ with a few cases' answers.
	CrossesBand bool
}

// Wilson returns the 95% Wilson score interval of yes out of n, in percent.
func Wilson(yes, n int) (low, high float64) {
	if n <= 0 {
		return 0, 0
	}
	const z = 1.959963984540054
	p := float64(yes) / float64(n)
	nn := float64(n)
	denom := 1 + z*z/nn
	centre := (p + z*z/(2*nn)) / denom
	half := z * math.Sqrt(p*(1-p)/nn+z*z/(4*nn*nn)) / denom
	return math.Max(0, centre-half) * 100, math.Min(1, centre+half) * 100
}

// ValueCount is how many cases of the sample have one attribute value.
type ValueCount struct {
	Value string
	Count int
}

// AttributeProfile is the sample's distribution over one attribute.
type AttributeProfile struct {
	Attribute, Title string
	Values           []ValueCount
}

// Breakdown is every figure's share by the values of one attribute: each
// question (key questions, prompts, supplementary questions), each
// case-rated standard's (stage's) share, and the pooled share.
type Breakdown struct {
	Attribute, Title string
	Values           []string
	Rows             []BreakdownRow
}

// RowKind says which figure a breakdown row is.
type RowKind string

// Breakdown row kinds: a question's (its framework.QuestionKind), a
// standard's share pooled over its key questions, or the pooled share.
const (
	RowKey           RowKind = RowKind(framework.QuestionKey)
	RowPrompt        RowKind = RowKind(framework.QuestionPrompt)
	RowSupplementary RowKind = RowKind(framework.QuestionSupplementary)
	RowStandard      RowKind = "standard"
	RowPooled        RowKind = "pooled"
)

// PooledRowID is the pooled share's row id: no framework id can be it (an
// id starts with a letter or digit), so it never collides with a
// question's or a standard's in the JSON breakdowns.
const PooledRowID = "_pooled"

// BreakdownRow is one figure across the attribute's values. ID is the
// question's or the standard's id, or PooledRowID.
type BreakdownRow struct {
	ID    string
	Kind  RowKind
	Cells []Share // one per Values entry
	All   Share
}

// CaseProgress is how far one case's recording has got.
type CaseProgress struct {
	Ref       string
	Unit      string
	Inspector string
	Status    framework.CaseStatus
	Answered  int
	Required  int
}

// InspectorProgress sums CaseProgress over an inspector's cases.
type InspectorProgress struct {
	Inspector     string
	Cases         int
	Submitted     int
	Answered      int
	Required      int
	CasesComplete int
}

// attributeOf is the attribute a profile or breakdown is of: the pooled
// unit (whose values are the units in pooled order), else the declared
// attribute.
func attributeOf(fw *framework.Framework, units []string, name string) *framework.Attribute {
	if name == UnitAttribute && len(units) > 0 {
		return &framework.Attribute{Name: UnitAttribute, Title: "Unit", Values: units}
	}
	if a, ok := fw.Attribute(name); ok {
		return a
	}
	return &framework.Attribute{Name: name, Title: name}
}

// casesByValue counts the cases by their value of attr ("" when absent).
func casesByValue(cases []framework.Case, attr string) map[string]int {
	n := map[string]int{}
	for _, c := range cases {
		n[c.Attributes[attr]]++
	}
	return n
}

// profile counts cases by every declared attribute (and the extra ones),
// in declared value order (free-text attributes by frequency), from the
// number of cases with each value of an attribute.
func profile(fw *framework.Framework, units, extra []string, casesOf func(attr string) map[string]int) []AttributeProfile {
	var out []AttributeProfile
	var attrs []*framework.Attribute
	for _, a := range fw.Attributes {
		attrs = append(attrs, attributeOf(fw, nil, a.Name))
	}
	for _, name := range extra {
		attrs = append(attrs, attributeOf(fw, units, name))
	}
	for _, a := range attrs {
		counts := casesOf(a.Name)
		p := AttributeProfile{Attribute: a.Name, Title: a.Title}
		if p.Title == "" {
			p.Title = a.Name
		}
		for _, v := range orderedValues(a, counts) {
			p.Values = append(p.Values, ValueCount{Value: v, Count: counts[v]})
		}
		out = append(out, p)
	}
	return out
}

// orderedValues lists the values of an attribute seen in counts: declared
// values first in their order (even with a count of zero), then others by
// frequency.
func orderedValues(a *framework.Attribute, counts map[string]int) []string {
	vals := slices.Clone(a.Values)
	var rest []string
	for v := range counts {
		if !slices.Contains(a.Values, v) {
			rest = append(rest, v)
		}
	}
	sort.Slice(rest, func(i, j int) bool {
		if counts[rest[i]] != counts[rest[j]] {
			return counts[rest[i]] > counts[rest[j]]
		}
		return rest[i] < rest[j]
	})
	return append(vals, rest...)
}

// caseValues holds every counted answer, question by question: appended
// rather than keyed by case, which was most of a report's time (each
// case answers a question once).
type caseValues map[string][]caseValue

type caseValue struct {
	ref string
	v   framework.Value
}

// contributes says what an answer adds to its question's share: relevant, and
// yes among them. Yes/no questions: yes or no is relevant; count
// questions with a threshold: any number is, and yes is at or above the
// threshold (without one there is no share at all) — the rule of every
// QuestionFigure.Share.
func contributes(q *framework.Question, v framework.Value) (yes, relevant bool) {
	if q.Type == framework.TypeCount {
		has := v.IsCount && q.Threshold > 0
		return has && v.Count >= q.Threshold, has
	}
	return v.Yes, v.Yes || v.No
}

// breakdownColumns is a breakdown of attr without its rows: its columns
// are the attribute's values that some case has (n: cases by value), in
// declared order, then by frequency; col gives each value's column.
func breakdownColumns(fw *framework.Framework, units []string, attr string, n map[string]int) (Breakdown, map[string]int) {
	a := attributeOf(fw, units, attr)
	b := Breakdown{Attribute: attr, Title: a.Title}
	if b.Title == "" {
		b.Title = attr
	}
	col := map[string]int{}
	for _, v := range orderedValues(a, n) {
		if n[v] > 0 {
			col[v] = len(b.Values)
			b.Values = append(b.Values, v)
		}
	}
	return b, col
}

// breakdown is every figure by the values of attr, from the counted
// answers of each case.
func breakdown(fw *framework.Framework, units []string, cases []framework.Case, values caseValues, attr string) Breakdown {
	b, col := breakdownColumns(fw, units, attr, casesByValue(cases, attr))
	// Each case's column once; then each question walks only the cases
	// that answered it.
	caseCol := make(map[string]int, len(cases))
	for _, c := range cases {
		caseCol[c.Ref] = col[c.Attributes[attr]]
	}
	b.Rows = breakdownRows(fw, len(b.Values), func(q *framework.Question, add func(c, yes, rel int)) {
		for _, cv := range values[q.ID] {
			if c, ok := caseCol[cv.ref]; ok {
				y, r := contributes(q, cv.v)
				add(c, b2i(y), b2i(r))
			}
		}
	})
	return b
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// breakdownRows builds a breakdown's rows over n columns: tally calls add
// with each answer's column, yes and relevant. All is the whole sample's
// figure (also counting answers of cases in no column); a standard's row
// and the pooled row sum their key questions.
func breakdownRows(fw *framework.Framework, n int, tally func(q *framework.Question, add func(c, yes, rel int))) []BreakdownRow {
	type sums struct {
		yes, rel       []int
		allYes, allRel int
	}
	key := map[string]*sums{}
	var rows []BreakdownRow
	row := func(id string, kind RowKind, s *sums) BreakdownRow {
		r := BreakdownRow{ID: id, Kind: kind, All: share(s.allYes, s.allRel)}
		for c := 0; c < n; c++ {
			r.Cells = append(r.Cells, share(s.yes[c], s.rel[c]))
		}
		return r
	}
	for _, q := range fw.Questions() {
		s := &sums{yes: make([]int, n), rel: make([]int, n)}
		tally(q, func(c, yes, rel int) {
			if c >= 0 && c < n {
				s.yes[c] += yes
				s.rel[c] += rel
			}
			s.allYes += yes
			s.allRel += rel
		})
		if q.Kind == framework.QuestionKey {
			key[q.ID] = s
		}
		rows = append(rows, row(q.ID, RowKind(q.Kind), s))
	}
	pooled := &sums{yes: make([]int, n), rel: make([]int, n)}
	for _, st := range fw.Standards() {
		if st.Kind != framework.KindCaseRated {
			continue
		}
		s := &sums{yes: make([]int, n), rel: make([]int, n)}
		for _, kq := range st.KeyQuestions {
			k := key[kq.ID]
			for c := 0; c < n; c++ {
				s.yes[c] += k.yes[c]
				s.rel[c] += k.rel[c]
				pooled.yes[c] += k.yes[c]
				pooled.rel[c] += k.rel[c]
			}
			s.allYes += k.allYes
			s.allRel += k.allRel
			pooled.allYes += k.allYes
			pooled.allRel += k.allRel
		}
		rows = append(rows, row(st.ID, RowStandard, s))
	}
	return append(rows, row(PooledRowID, RowPooled, pooled))
}
