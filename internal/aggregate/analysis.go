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

// Breakdown is every key question's share by the values of one attribute.
type Breakdown struct {
	Attribute, Title string
	Values           []string
	Rows             []BreakdownRow
}

// BreakdownRow is one key question across the attribute's values.
type BreakdownRow struct {
	QuestionID string
	Cells      []Share // one per Values entry
	All        Share
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

// profile counts cases by every declared attribute, in declared value
// order (free-text attributes by frequency).
func profile(fw *framework.Framework, cases []framework.Case, extra []string) []AttributeProfile {
	var out []AttributeProfile
	attrs := slices.Clone(fw.Attributes)
	for _, name := range extra {
		attrs = append(attrs, &framework.Attribute{Name: name, Title: "Unit"})
	}
	for _, a := range attrs {
		counts := map[string]int{}
		for _, c := range cases {
			counts[c.Attributes[a.Name]]++
		}
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

// keyTally counts yes and relevant per key question per case.
type keyTally map[string]map[string]framework.Value // question → case → value

func breakdown(fw *framework.Framework, cases []framework.Case, values keyTally, attr string) Breakdown {
	a, ok := fw.Attribute(attr)
	if !ok {
		a = &framework.Attribute{Name: attr, Title: attr}
		if attr == UnitAttribute {
			a.Title = "Unit"
		}
	}
	counts := map[string]int{}
	for _, c := range cases {
		counts[c.Attributes[attr]]++
	}
	b := Breakdown{Attribute: attr, Title: a.Title}
	if b.Title == "" {
		b.Title = attr
	}
	for _, v := range orderedValues(a, counts) {
		if counts[v] > 0 {
			b.Values = append(b.Values, v)
		}
	}
	for _, q := range fw.Questions() {
		if q.Kind != framework.QuestionKey {
			continue
		}
		row := BreakdownRow{QuestionID: q.ID}
		yes, rel := map[string]int{}, map[string]int{}
		var allYes, allRel int
		for _, c := range cases {
			v, ok := values[q.ID][c.Ref]
			if !ok || !(v.Yes || v.No) {
				continue
			}
			key := c.Attributes[attr]
			rel[key]++
			allRel++
			if v.Yes {
				yes[key]++
				allYes++
			}
		}
		for _, v := range b.Values {
			row.Cells = append(row.Cells, share(yes[v], rel[v]))
		}
		row.All = share(allYes, allRel)
		b.Rows = append(b.Rows, row)
	}
	return b
}
