package agreement

import "testing"

// A table drawn at random (Python's random.seed(17), three categories,
// cells 0–30), its figures computed independently in Python from the
// textbook forms rather than the one-sum forms stats.go uses: kappa's
// standard error as Fleiss, Levin & Paik's √((A + B − C)/n)/(1 − pe)
// term by term, AC1's variance as Gwet's (2008) expanded
// pa(1−pa) − 4(1−γ)(pe1 − pa·pe) + 4(1−γ)²(pe2 − pe²). A slip in either
// rewriting (a marginal the wrong way round, a missing factor) fails here.
func TestRandomTable_AgainstIndependentComputation(t *testing.T) {
	tb := table([][]int{
		{16, 13, 25},
		{9, 30, 11},
		{9, 5, 24},
	})
	if tb.N() != 142 || tb.Agree() != 70 {
		t.Fatalf("n %d agree %d, want 142 and 70", tb.N(), tb.Agree())
	}
	k, a := tb.Kappa(), tb.AC1()
	near(t, "kappa", k.Value, 0.25087924970691683, 1e-12)
	near(t, "kappa SE", k.SE, 0.0599030450205527, 1e-12)
	near(t, "AC1", a.Value, 0.23990781354546137, 1e-12)
	near(t, "AC1 SE", a.SE, 0.06317299227468139, 1e-12)
}
