package sampling

import (
	"cmp"
	"math/rand/v2"
	"slices"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// QAStream is the PCG stream of the QA draw: another stream than the case
// sample's, so the same seed draws unrelated cases for the two.
const QAStream = 0x7161

// QADraw selects share percent of each inspector's cases for second
// marking (framework.QAShare: rounded up, at least one of an inspector who
// has any), by a seeded draw: the same cases and seed give the same
// selection. Cases are taken in reference order per inspector, inspectors
// in name order, so the draw does not depend on the order cases were read.
func QADraw(cases []framework.Case, share int, seed uint64) []string {
	by := map[string][]string{}
	for _, c := range cases {
		by[c.Inspector] = append(by[c.Inspector], c.Ref)
	}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	slices.Sort(names)
	src := rand.NewPCG(seed, QAStream)
	var out []string
	for _, n := range names {
		g := by[n]
		slices.SortFunc(g, cmp.Compare[string])
		k := framework.QAShare(len(g), share)
		for j := range k {
			r := j + int(uniform(src, uint64(len(g)-j)))
			g[j], g[r] = g[r], g[j]
			out = append(out, g[j])
		}
	}
	slices.Sort(out)
	return out
}
