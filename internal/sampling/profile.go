package sampling

import (
	"math"
	"slices"
)

// ProfileAttributes are the attributes whose shares a sample is compared
// on with its caseload, where the caseload has them: the inspection
// method's sentence type, sex, ethnicity, age band and risk of serious
// harm.
var ProfileAttributes = []string{"sentence_type", "sex", "ethnicity", "age_band", "rosh"}

// Share is one attribute value's count and share in the caseload and in
// the sample.
type Share struct {
	Attribute, Value string
	Caseload, Sample int
	// CaseloadPct and SamplePct are percentages of the eligible caseload
	// and of the sample; Diff is SamplePct − CaseloadPct in points.
	CaseloadPct, SamplePct, Diff float64
	// Warn is set when |Diff| is more than the warning margin.
	Warn bool
}

// Profile compares the sample's shares of each attribute's values with the
// caseload's. values gives an attribute's declared values, in the
// framework's order; values seen but not declared follow, sorted. A share
// differing by more than warnMargin points is flagged.
func Profile(caseload []Case, sample []Picked, attrs []string, values func(attr string) []string, warnMargin float64) []Share {
	var out []Share
	for _, a := range attrs {
		pop, got := map[string]int{}, map[string]int{}
		for _, c := range caseload {
			pop[c.Attributes[a]]++
		}
		for _, p := range sample {
			got[p.Case.Attributes[a]]++
		}
		order := slices.Clone(values(a))
		var extra []string
		for v := range pop {
			if !slices.Contains(order, v) {
				extra = append(extra, v)
			}
		}
		slices.Sort(extra)
		for _, v := range append(order, extra...) {
			s := Share{Attribute: a, Value: v, Caseload: pop[v], Sample: got[v],
				CaseloadPct: pct(pop[v], len(caseload)), SamplePct: pct(got[v], len(sample))}
			s.Diff = s.SamplePct - s.CaseloadPct
			s.Warn = math.Abs(s.Diff) > warnMargin
			out = append(out, s)
		}
	}
	return out
}

func pct(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return 100 * float64(k) / float64(n)
}
