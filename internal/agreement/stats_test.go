package agreement

import (
	"math"
	"testing"
)

func table(cells [][]int) Table { return Table{Cells: cells} }

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.5f, want %.5f (±%g)", what, got, want, tol)
	}
}

// The published worked example: Gwet, K. L. (2014), Handbook of
// Inter-Rater Reliability, 4th ed., Advanced Analytics — 100 pregnant women
// classified by two abstractors as ectopic, abnormal intrauterine (AIU) or
// normal intrauterine (NIU) pregnancy (rows: abstractor 1, columns:
// abstractor 2). Its figures, as Gwet's own software gives them (irrCAC's
// kappa2.table and gwet.ac1.table; the Python port irrCAC documents
// AC1 = 0.84933, SE 0.04322, pe 0.26992, and kappa 0.796 with the
// t-based interval 0.680–0.913).
//
// By hand: pa = (13 + 20 + 56) / 100 = 0.89. Rows 13, 27, 60; columns
// 13, 24, 63.
//
//	kappa: pe = .13·.13 + .27·.24 + .60·.63 = .0169 + .0648 + .3780 = .4597
//	       κ  = (.89 − .4597) / (1 − .4597) = .4303 / .5403 = 0.79641
//	AC1:   π  = (.13, .255, .615); Σ π(1−π) = .1131 + .189975 + .236775 = .53985
//	       pe = .53985 / (3 − 1) = .269925
//	       γ  = (.89 − .269925) / (1 − .269925) = .620075 / .730075 = 0.84933
//
// The kappa interval there is κ ± t(0.975, 99 df)·SE = ± 1.98422·SE, so
// its SE is (0.913 − 0.680) / (2 · 1.98422) = 0.0587 (to the rounding of
// the published ends).
func TestPublishedExample_Gwet2014Abstractors(t *testing.T) {
	tb := table([][]int{
		{13, 0, 0},
		{0, 20, 7},
		{0, 4, 56},
	})
	if tb.N() != 100 || tb.Agree() != 89 {
		t.Fatalf("n %d agree %d, want 100 and 89", tb.N(), tb.Agree())
	}
	k := tb.Kappa()
	if !k.Defined {
		t.Fatalf("kappa not defined: %s", k.Undefined)
	}
	near(t, "kappa", k.Value, 0.79641, 0.000005)
	near(t, "kappa SE", k.SE, (0.913-0.680)/(2*1.98422), 0.0005)
	near(t, "kappa low", k.Low, k.Value-1.959964*k.SE, 1e-9)
	a := tb.AC1()
	if !a.Defined {
		t.Fatalf("AC1 not defined: %s", a.Undefined)
	}
	near(t, "AC1", a.Value, 0.84933, 0.000005)
	near(t, "AC1 SE", a.SE, 0.04322, 0.000005)
	near(t, "AC1 high", a.High, 0.84933+1.959964*0.04322, 0.00002)
}

// The second table of Gwet's irrCAC: 223 psychiatric patients by clinical
// and research diagnosis (schizophrenia, bipolar disorder, depression,
// other); published kappa 0.432 (SE 0.046) and AC1 0.456 (SE 0.043).
func TestPublishedExample_Diagnosis4x4(t *testing.T) {
	tb := table([][]int{
		{40, 4, 4, 17},
		{6, 25, 2, 13},
		{4, 1, 21, 12},
		{15, 5, 9, 45},
	})
	k, a := tb.Kappa(), tb.AC1()
	near(t, "kappa", k.Value, 0.432, 0.0005)
	near(t, "kappa SE", k.SE, 0.046, 0.0005)
	near(t, "AC1", a.Value, 0.456, 0.0005)
	near(t, "AC1 SE", a.SE, 0.043, 0.0005)
	// Kappa and its standard error do not depend on which marker is which.
	tr := NewTable(4)
	for i := range tb.Cells {
		for j, c := range tb.Cells[i] {
			tr.Cells[j][i] = c
		}
	}
	kt := tr.Kappa()
	near(t, "transposed kappa", kt.Value, k.Value, 1e-12)
	near(t, "transposed kappa SE", kt.SE, k.SE, 1e-12)
}

func TestDegenerateTables(t *testing.T) {
	empty := NewTable(3)
	if c := empty.Kappa(); c.Defined || c.Undefined != NoPairs {
		t.Errorf("kappa of no pairs = %+v, want %q", c, NoPairs)
	}
	if c := empty.AC1(); c.Defined || c.Undefined != NoPairs {
		t.Errorf("AC1 of no pairs = %+v, want %q", c, NoPairs)
	}
	// Every answer yes from both: kappa's chance agreement is 1 and kappa
	// is 0/0; AC1 is 1 (pe = π(1−π)·… = 0), with no spread.
	same := table([][]int{{7, 0, 0}, {0, 0, 0}, {0, 0, 0}})
	if c := same.Kappa(); c.Defined || c.Undefined != OneSameValue {
		t.Errorf("kappa of one same value = %+v, want %q", c, OneSameValue)
	}
	a := same.AC1()
	if !a.Defined || a.Value != 1 || a.SE != 0 || a.Low != 1 || a.High != 1 {
		t.Errorf("AC1 of one same value = %+v, want 1 with SE 0", a)
	}
	// One marker always yes, the other always no: pa = 0 and
	// pe = r_yes·c_yes + r_no·c_no = 1·0 + 0·1 = 0, so kappa = 0.
	opposite := table([][]int{{0, 5, 0}, {0, 0, 0}, {0, 0, 0}})
	k := opposite.Kappa()
	if !k.Defined || k.Value != 0 {
		t.Errorf("kappa of always opposite = %+v, want 0", k)
	}
	for _, c := range []Coefficient{k, opposite.AC1(), same.AC1()} {
		if math.IsNaN(c.Value) || math.IsNaN(c.SE) || math.IsNaN(c.Low) || math.IsNaN(c.High) {
			t.Errorf("NaN in %+v", c)
		}
		if c.Low < -1 || c.High > 1 {
			t.Errorf("interval %v–%v leaves [-1, 1]", c.Low, c.High)
		}
	}
}

// A kappa whose standard error is printed to four places: SAS PROC FREQ's
// AGREE output for this 3×3 table (as statsmodels' test_inter_rater.py
// records it): kappa 0.4842, ASE 0.1380, 95% limits 0.2137–0.7547. SAS's
// ASE is Fleiss, Cohen & Everitt's (1969) and its limits κ ± 1.96·ASE, as
// here. The table is far from symmetric, so a standard error that took the
// two markers' marginals the wrong way round fails here (in the tables
// above it would still round to the published three places).
func TestPublishedExample_SASKappa(t *testing.T) {
	tb := table([][]int{
		{0, 4, 1},
		{0, 8, 0},
		{0, 1, 5},
	})
	k := tb.Kappa()
	near(t, "kappa", k.Value, 0.4842, 0.00005)
	near(t, "kappa ASE", k.SE, 0.1380, 0.00005)
	near(t, "kappa low", k.Low, 0.2137, 0.00005)
	near(t, "kappa high", k.High, 0.7547, 0.00005)
}
