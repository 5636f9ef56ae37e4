package sampling

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Case is one eligible case of the caseload.
type Case struct {
	Ref        string
	Attributes map[string]string
}

// Stratum is one cell of the strata: the cases sharing a value of every
// stratification attribute, and how many of them the sample takes.
type Stratum struct {
	// Key holds the stratum's values, one per stratification attribute in
	// the order given; empty without strata (one stratum of every case).
	Key        []string
	Population int
	Quota      int
}

// Label is the stratum's values joined by " × ", or "all cases".
func (s Stratum) Label() string {
	if len(s.Key) == 0 {
		return "all cases"
	}
	return strings.Join(s.Key, " × ")
}

// Picked is one drawn case and the inspector it is allocated to.
type Picked struct {
	Case      Case
	Stratum   int // index into Result.Strata
	Inspector string
}

// Result is a drawn sample: its cases in case_ref order, and the strata
// (in key order) with their quotas.
type Result struct {
	Cases  []Picked
	Strata []Stratum
}

// Options are what a draw depends on, besides the caseload.
type Options struct {
	Size       int      // n: at most the population
	Strata     []string // stratification attributes; several are crossed
	Seed       uint64
	Inspectors []string // "" for every case when empty
}

// Stream is the PCG stream the draw uses beside the seed ("fieldwor" in
// ASCII): fixed, so the seed alone names the sample.
const Stream = 0x6669656c64776f72

// Draw draws a stratified random sample of opts.Size cases and allocates
// it to the inspectors (docs/sampling.md). The result depends only on the
// cases (not their order), the options and the seed:
//
//  1. the cases are grouped into strata by their values of opts.Strata,
//     and the strata sorted by those values (byte order, attribute by
//     attribute); within a stratum the cases are sorted by case_ref;
//  2. each stratum's quota is its proportional share of the size, rounded
//     by largest remainder (Allocate);
//  3. one PCG-DXSM generator (math/rand/v2's PCG, seeded with the seed and
//     Stream) draws each stratum's quota in stratum order by a partial
//     Fisher–Yates shuffle, each index uniform by rejection (uniform);
//  4. the drawn cases, stratum by stratum in the order drawn, are dealt
//     to the inspectors in turn, one turn continuing across strata: every
//     inspector gets the same number of cases to within one, and within
//     each stratum too.
func Draw(cases []Case, opts Options) (Result, error) {
	if opts.Size < 0 || opts.Size > len(cases) {
		return Result{}, framework.Errorf(framework.CodeInvalid, "sample size %d is more than the %d eligible cases", opts.Size, len(cases))
	}
	groups := map[string][]Case{}
	keys := map[string][]string{}
	for _, c := range cases {
		key := make([]string, len(opts.Strata))
		for i, a := range opts.Strata {
			key[i] = c.Attributes[a]
		}
		k := strings.Join(key, "\x00")
		groups[k] = append(groups[k], c)
		keys[k] = key
	}
	order := make([]string, 0, len(groups))
	for k := range groups {
		order = append(order, k)
	}
	slices.SortFunc(order, func(a, b string) int { return slices.Compare(keys[a], keys[b]) })
	var res Result
	sizes := make([]int, len(order))
	for i, k := range order {
		slices.SortFunc(groups[k], func(a, b Case) int { return cmp.Compare(a.Ref, b.Ref) })
		sizes[i] = len(groups[k])
	}
	quotas := Allocate(sizes, opts.Size)
	src := rand.NewPCG(opts.Seed, Stream)
	turn := 0
	for i, k := range order {
		res.Strata = append(res.Strata, Stratum{Key: keys[k], Population: sizes[i], Quota: quotas[i]})
		g := groups[k]
		for j := range quotas[i] {
			r := j + int(uniform(src, uint64(len(g)-j)))
			g[j], g[r] = g[r], g[j]
			p := Picked{Case: g[j], Stratum: i}
			if len(opts.Inspectors) > 0 {
				p.Inspector = opts.Inspectors[turn%len(opts.Inspectors)]
				turn++
			}
			res.Cases = append(res.Cases, p)
		}
	}
	slices.SortFunc(res.Cases, func(a, b Picked) int { return cmp.Compare(a.Case.Ref, b.Case.Ref) })
	return res, nil
}

// uniform returns a uniform integer in [0, n) from src by rejection: draws
// below 2^64 mod n are redrawn, so that every value is equally likely. It
// relies only on PCG's Uint64, whose output math/rand/v2 fixes, not on
// the helpers (IntN, Shuffle) whose method could change between releases.
func uniform(src *rand.PCG, n uint64) uint64 {
	threshold := -n % n // 2^64 mod n
	for {
		if x := src.Uint64(); x >= threshold {
			return x % n
		}
	}
}

// Allocate divides n among strata of the given sizes in proportion to
// them, by largest remainder (Hamilton): each stratum gets the whole part
// of n·size/total, and the cases left over go one each to the strata with
// the largest fractional parts. The fractions are compared exactly (as
// n·size mod total). Ties go to the larger stratum, then to the earlier
// one. No stratum gets more than its size (n ≤ total), and a stratum
// whose share is below one case may get none: the profile shows it.
func Allocate(sizes []int, n int) []int {
	total := 0
	for _, s := range sizes {
		total += s
	}
	out := make([]int, len(sizes))
	if total == 0 || n <= 0 {
		return out
	}
	rem := make([]int64, len(sizes))
	left := n
	for i, s := range sizes {
		num := int64(n) * int64(s)
		out[i] = int(num / int64(total))
		rem[i] = num % int64(total)
		left -= out[i]
	}
	idx := make([]int, len(sizes))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := cmp.Compare(rem[b], rem[a]); c != 0 {
			return c
		}
		return cmp.Compare(sizes[b], sizes[a]) // then the larger; stable: then the earlier
	})
	for _, i := range idx[:left] {
		out[i]++
	}
	return out
}
