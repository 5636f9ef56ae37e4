// Package sampling draws an inspection's case sample from a unit's
// caseload (fieldwork sample, docs/sampling.md): the sample size, the
// stratified random draw, the allocation to inspectors and the profile of
// the sample beside the caseload. It is pure: the caseload comes in as
// rows, the sample goes out as values; reading and writing the files is
// internal/interchange's.
package sampling

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// P is the assumed proportion behind the size rule: 0.5 gives the largest
// variance p(1−p), so the size is enough whatever the true share is.
const P = 0.5

// zScores are the two-sided standard normal quantiles for the supported
// confidence levels, to four decimals.
var zScores = map[int]float64{80: 1.2816, 85: 1.4395, 90: 1.6449, 95: 1.9600, 99: 2.5758}

// Confidences lists the supported confidence levels, ascending.
func Confidences() []int {
	var out []int
	for c := range zScores {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Z returns the z value of a supported confidence level; any other level is
// refused, naming the supported ones.
func Z(confidence int) (float64, error) {
	z, ok := zScores[confidence]
	if !ok {
		var cs []string
		for _, c := range Confidences() {
			cs = append(cs, strconv.Itoa(c))
		}
		return 0, framework.Errorf(framework.CodeInvalid, "confidence %d%% is not supported (use one of %s)", confidence, strings.Join(cs, ", "))
	}
	return z, nil
}

// Size is the sample size for a confidence and margin, and the steps to it.
type Size struct {
	Z  float64
	N0 float64 // the size for an infinite population: z²·p(1−p)/e²
	FP float64 // with the finite-population correction: n0 / (1 + (n0−1)/N)
	N  int     // FP rounded up, at most the population
}

// SizeFor computes the sample size of a population of population cases
// for a confidence level (percent) and margin of error (percentage points,
// above 0 and at most 50).
func SizeFor(population, confidence int, margin float64) (Size, error) {
	z, err := Z(confidence)
	if err != nil {
		return Size{}, err
	}
	if math.IsNaN(margin) || margin <= 0 || margin > 50 {
		return Size{}, framework.Errorf(framework.CodeInvalid, "margin %v is not above 0 and at most 50 percentage points", margin)
	}
	if population < 1 {
		return Size{}, framework.Errorf(framework.CodeInvalid, "no eligible case: the sample size needs a population of at least 1")
	}
	e := margin / 100
	s := Size{Z: z, N0: z * z * P * (1 - P) / (e * e)}
	s.FP = s.N0 / (1 + (s.N0-1)/float64(population))
	// Rounded up; the tolerance keeps a value computed as 37.0000000001
	// from becoming 38 (and N = 1 from needing 2 cases).
	s.N = min(int(math.Ceil(s.FP-1e-9)), population)
	return s, nil
}
