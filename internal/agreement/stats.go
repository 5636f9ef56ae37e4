// Package agreement turns double-marked answers into agreement figures:
// percent agreement, Cohen's kappa and Gwet's AC1, each with a standard
// error and a 95% interval, per question, over every key question together
// and per inspector (docs/agreement.md). It is pure: marking pairs in,
// figures out.
package agreement

import "math"

// z95 is the normal quantile of a two-sided 95% interval. The intervals
// are large-sample ones (docs/agreement.md says what that means with few
// cases).
const z95 = 1.959963984540054

// Table is a q×q contingency table of two markings: Cells[i][j] counts
// the subjects the first marker put in category i and the second in j.
type Table struct {
	Cells [][]int
}

// NewTable is an empty table of q categories.
func NewTable(q int) Table {
	t := Table{Cells: make([][]int, q)}
	for i := range t.Cells {
		t.Cells[i] = make([]int, q)
	}
	return t
}

// Add counts one subject marked i by the first marker and j by the second.
func (t Table) Add(i, j int) { t.Cells[i][j]++ }

// N is the number of subjects in the table.
func (t Table) N() int {
	n := 0
	for _, row := range t.Cells {
		for _, c := range row {
			n += c
		}
	}
	return n
}

// Agree is the number of subjects both markers put in one category.
func (t Table) Agree() int {
	a := 0
	for i := range t.Cells {
		a += t.Cells[i][i]
	}
	return a
}

// Coefficient is a chance-corrected agreement coefficient with its
// standard error and 95% interval, or the reason it is not defined.
type Coefficient struct {
	// Defined is false when the coefficient cannot be computed; Undefined
	// then says why, in words a reader can act on. Value, SE, Low and High
	// are then 0 and mean nothing.
	Defined   bool
	Undefined string
	Value     float64
	SE        float64
	// Low and High are Value ∓ 1.96 SE, kept within [-1, 1].
	Low, High float64
}

// Reasons a coefficient is not defined.
const (
	NoPairs      = "not defined: no double-marked answers"
	OneSameValue = "not defined: both markers gave one and the same answer every time (chance agreement is 1)"
)

// marginals are the first marker's (rows) and second marker's (columns)
// shares of each category.
func (t Table) marginals() (n float64, p [][]float64, rows, cols []float64) {
	q := len(t.Cells)
	n = float64(t.N())
	p = make([][]float64, q)
	rows, cols = make([]float64, q), make([]float64, q)
	for i := range t.Cells {
		p[i] = make([]float64, q)
		for j, c := range t.Cells[i] {
			p[i][j] = float64(c) / n
			rows[i] += p[i][j]
			cols[j] += p[i][j]
		}
	}
	return n, p, rows, cols
}

// Kappa is Cohen's (1960) kappa, (pa - pe) / (1 - pe) with pe = Σ r_k c_k,
// and its large-sample standard error by Fleiss, Cohen & Everitt (1969),
// which holds whatever the true kappa (Cohen's own 1960 formula does not:
// it is the standard error under no agreement beyond chance):
//
//	var = [Σ_ij p_ij (δ_ij − (1−κ)(c_i + r_j))² − (pa − 2(1−κ)pe)²] / (n (1−pe)²)
//
// which is Fleiss, Levin & Paik's A + B − C written as one sum.
func (t Table) Kappa() Coefficient {
	if t.N() == 0 {
		return Coefficient{Undefined: NoPairs}
	}
	if t.chanceIsOne() {
		return Coefficient{Undefined: OneSameValue}
	}
	n, p, rows, cols := t.marginals()
	pa, pe := 0.0, 0.0
	for i := range p {
		pa += p[i][i]
		pe += rows[i] * cols[i]
	}
	k := (pa - pe) / (1 - pe)
	sum := 0.0
	for i := range p {
		for j := range p[i] {
			d := -(1 - k) * (cols[i] + rows[j])
			if i == j {
				d++
			}
			sum += p[i][j] * d * d
		}
	}
	c := pa - 2*(1-k)*pe
	return withSE(k, (sum-c*c)/(n*(1-pe)*(1-pe)))
}

// chanceIsOne says whether kappa's chance agreement is exactly 1: both
// markers used one category, the same, for every subject. Counted in
// whole numbers, so that rounding cannot hide or invent it.
func (t Table) chanceIsOne() bool {
	n := t.N()
	for i := range t.Cells {
		r, c := 0, 0
		for j := range t.Cells {
			r += t.Cells[i][j]
			c += t.Cells[j][i]
		}
		if r == n && c == n {
			return true
		}
	}
	return false
}

// AC1 is Gwet's (2008) AC1 over the table's q categories, (pa − pe) /
// (1 − pe) with pe = Σ π_k (1 − π_k) / (q − 1), π_k the two markers'
// average share of category k, and its variance (Gwet 2008, for two
// raters, with no finite-population correction):
//
//	var = [Σ_kl p_kl (δ_kl − 2(1−γ)(1 − (π_k+π_l)/2)/(q−1))² − (pa − 2(1−γ)pe)²] / (n (1−pe)²)
//
// pe is at most 1/q, so AC1 is defined whenever there is a subject.
func (t Table) AC1() Coefficient {
	q := len(t.Cells)
	if t.N() == 0 {
		return Coefficient{Undefined: NoPairs}
	}
	n, p, rows, cols := t.marginals()
	pi := make([]float64, q)
	pa, pe := 0.0, 0.0
	for k := range p {
		pa += p[k][k]
		pi[k] = (rows[k] + cols[k]) / 2
		pe += pi[k] * (1 - pi[k])
	}
	pe /= float64(q - 1)
	g := (pa - pe) / (1 - pe)
	sum := 0.0
	for k := range p {
		for l := range p[k] {
			d := -2 * (1 - g) * (1 - (pi[k]+pi[l])/2) / float64(q-1)
			if k == l {
				d++
			}
			sum += p[k][l] * d * d
		}
	}
	c := pa - 2*(1-g)*pe
	return withSE(g, (sum-c*c)/(n*(1-pe)*(1-pe)))
}

// withSE is a defined coefficient with the standard error of variance v
// (a variance a rounding error took below zero is zero) and its interval.
func withSE(value, v float64) Coefficient {
	se := math.Sqrt(math.Max(v, 0))
	return Coefficient{
		Defined: true,
		Value:   value,
		SE:      se,
		Low:     math.Max(-1, value-z95*se),
		High:    math.Min(1, value+z95*se),
	}
}
