package agreement

import (
	"math"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

func pdu(t *testing.T) *framework.Framework {
	t.Helper()
	fw, _, err := framework.BuiltinByID("probation-pdu-2023")
	if err != nil {
		t.Fatal(err)
	}
	return fw
}

func pair(ref, q, first, firstV, secondV string) framework.MarkingPair {
	return framework.MarkingPair{CaseRef: ref, QuestionID: q, FirstMarker: first, First: firstV, SecondMarker: "qa.quinn", Second: secondV}
}

// A hand-computed example: insp.ahmed's cases A1–A3 and insp.bell's B1–B2
// double-marked by QA on key questions 2.1.1 and 2.1.2 (first / second):
//
//	        A1     A2     A3     B1     B2
//	2.1.1   y/y    y/n    n/n    y/y    na/na
//	2.1.2   y/y    y/y    y/y    n/y    y/y
//
// 2.1.1: 4 of 5 agree, pa = .8. First marker yes 3, no 1, na 1; second
// yes 2, no 2, na 1. Kappa: pe = .6·.4 + .2·.4 + .2·.2 = .36, κ = .44/.64
// = .6875. AC1: π = (.5, .3, .2), Σπ(1−π) = .25 + .21 + .16 = .62, pe =
// .31, γ = .49/.69 = .710145.
//
// 2.1.2: 4 of 5 agree, pa = .8; first yes 4, no 1; second yes 5. Kappa:
// pe = .8·1 + .2·0 = .8, κ = 0/.2 = 0 — the paradox: 80% agreement and
// kappa 0. AC1: π = (.9, .1, 0), Σ = .09 + .09 = .18, pe = .09, γ =
// .71/.91 = .780220.
//
// Both key questions together (10 pairs): 8 agree; first yes 7, no 2,
// na 1, and so is the second. Kappa: pe = .49 + .04 + .01 = .54, κ =
// .26/.46 = .565217. AC1: π = (.7, .2, .1), Σ = .21 + .16 + .09 = .46,
// pe = .23, γ = .57/.77 = .740260.
//
// insp.ahmed (6 pairs, 3 cases): 5 agree; first yes 5, no 1; second yes
// 4, no 2. pe = (5·4 + 1·2)/36 = 22/36, κ = (30/36 − 22/36)/(14/36) = 8/14
// = .571429. π = (.75, .25, 0), Σ = .375, pe = .1875, γ = (5/6 − .1875) /
// .8125 = .794872.
//
// insp.bell (4 pairs, 2 cases): 3 agree; first yes 2, no 1, na 1; second
// yes 3, na 1. pe = .5·.75 + .25·0 + .25·.25 = .4375, κ = .3125/.5625 =
// .555556. π = (.625, .125, .25), Σ = .234375 + .109375 + .1875 = .53125,
// pe = .265625, γ = .484375/.734375 = .659574.
//
// The prompt 2.1.1a (A1: y/n) has its own figure: pa = 0, π = (.5, .5, 0),
// pe = .25, γ = −.25/.75 = −1/3; it is not in the key-question figures.
func TestCompute_HandExample(t *testing.T) {
	pairs := []framework.MarkingPair{
		pair("A1", "2.1.1", "insp.ahmed", "yes", "yes"),
		pair("A2", "2.1.1", "insp.ahmed", "yes", "no"),
		pair("A3", "2.1.1", "insp.ahmed", "no", "no"),
		pair("B1", "2.1.1", "insp.bell", "yes", "yes"),
		pair("B2", "2.1.1", "insp.bell", "na", "na"),
		pair("A1", "2.1.2", "insp.ahmed", "yes", "yes"),
		pair("A2", "2.1.2", "insp.ahmed", "yes", "yes"),
		pair("A3", "2.1.2", "insp.ahmed", "yes", "yes"),
		pair("B1", "2.1.2", "insp.bell", "no", "yes"),
		pair("B2", "2.1.2", "insp.bell", "yes", "yes"),
		pair("A1", "2.1.1a", "insp.ahmed", "yes", "no"),
		// Left out: a second copy of a pair, a supplementary question, a
		// question the framework does not have, a value that is no category.
		pair("A2", "2.1.1", "insp.ahmed", "no", "no"),
		pair("A1", "2.1.S1", "insp.ahmed", "yes", "no"),
		pair("A1", "9.9.9", "insp.ahmed", "yes", "no"),
		pair("A3", "2.1.3", "insp.ahmed", "3", "yes"),
	}
	r := Compute(pdu(t), pairs, Options{Threshold: 0.7, Amendments: map[string]Amendments{
		"insp.ahmed": {Submitted: 20, Amended: 2}, "insp.cole": {Submitted: 10, Amended: 1}}})

	check := func(what string, f Figure, cases, n, agree int, kappa, ac1 float64, flagged bool) {
		t.Helper()
		if f.Cases != cases || f.Pairs != n || f.Agree != agree {
			t.Errorf("%s: cases %d pairs %d agree %d, want %d %d %d", what, f.Cases, f.Pairs, f.Agree, cases, n, agree)
		}
		if math.IsNaN(kappa) {
			if f.Kappa.Defined {
				t.Errorf("%s: kappa %v, want not defined", what, f.Kappa.Value)
			}
		} else if !f.Kappa.Defined || math.Abs(f.Kappa.Value-kappa) > 5e-7 {
			t.Errorf("%s: kappa %+v, want %.6f", what, f.Kappa, kappa)
		}
		if !f.AC1.Defined || math.Abs(f.AC1.Value-ac1) > 5e-7 {
			t.Errorf("%s: AC1 %+v, want %.6f", what, f.AC1, ac1)
		}
		if f.Flagged != flagged {
			t.Errorf("%s: flagged %v, want %v", what, f.Flagged, flagged)
		}
	}
	check("key questions", r.KeyQuestions, 5, 10, 8, .26/.46, .57/.77, false)
	qs := map[string]Question{}
	for _, q := range r.Questions {
		qs[q.ID] = q
	}
	check("2.1.1", qs["2.1.1"].Figure, 5, 5, 4, .6875, .49/.69, false)
	check("2.1.2", qs["2.1.2"].Figure, 5, 5, 4, 0, .71/.91, false)
	check("2.1.1a", qs["2.1.1a"].Figure, 1, 1, 0, 0, -1.0/3, true)
	if p, ok := qs["2.1.1"].Percent(); !ok || p != 80 {
		t.Errorf("2.1.1 percent %d %v, want 80", p, ok)
	}
	if _, ok := qs["2.1.S1"]; ok {
		t.Error("a supplementary question has an agreement figure")
	}
	if r.Questions[0].ID != "2.1.1" || r.Questions[1].ID != "2.1.1a" || r.Questions[0].Kind != framework.QuestionKey {
		t.Errorf("questions not in framework order: %s %s", r.Questions[0].ID, r.Questions[1].ID)
	}
	// A key question nobody double-marked: no figure, said so, no flag.
	none := qs["2.1.3"]
	if none.Pairs != 0 || none.Kappa.Defined || none.AC1.Defined || none.AC1.Undefined != NoPairs || none.Flagged {
		t.Errorf("2.1.3 without pairs = %+v", none)
	}
	if _, ok := none.Percent(); ok {
		t.Error("2.1.3 without pairs has a percent agreement")
	}

	if len(r.Inspectors) != 3 {
		t.Fatalf("inspectors %+v, want ahmed, bell, cole", r.Inspectors)
	}
	a, b, c := r.Inspectors[0], r.Inspectors[1], r.Inspectors[2]
	if a.Name != "insp.ahmed" || b.Name != "insp.bell" || c.Name != "insp.cole" {
		t.Fatalf("inspectors %s %s %s", a.Name, b.Name, c.Name)
	}
	check("insp.ahmed", a.Figure, 3, 6, 5, 8.0/14, (5.0/6-.1875)/.8125, false)
	check("insp.bell", b.Figure, 2, 4, 3, .3125/.5625, .484375/.734375, true)
	if p, ok := a.Amendments.Percent(); !ok || p != 10 || a.Submitted != 20 {
		t.Errorf("insp.ahmed amended %d%% (%v) of %d, want 10%% of 20", p, ok, a.Submitted)
	}
	if _, ok := b.Amendments.Percent(); ok {
		t.Error("insp.bell has an amendment rate with nothing submitted")
	}
	if c.Pairs != 0 || c.AC1.Defined || c.Flagged || c.Amended != 1 {
		t.Errorf("insp.cole (amendments only) = %+v", c)
	}
}

// The shown percentages and intervals never carry NaN or leave [-1, 1],
// whatever the pairs.
func TestCompute_NoNaN(t *testing.T) {
	vals := []string{"yes", "no", "na"}
	fw := pdu(t)
	for seed := 0; seed < 200; seed++ {
		var pairs []framework.MarkingPair
		n := seed % 7
		for i := 0; i < n; i++ {
			pairs = append(pairs, pair(string(rune('A'+i)), "2.1.1", "insp.a", vals[(seed+i)%3], vals[(seed/3+i*i)%3]))
		}
		f := Compute(fw, pairs, Options{Threshold: DefaultThreshold}).KeyQuestions
		for _, c := range []Coefficient{f.Kappa, f.AC1} {
			for _, x := range []float64{c.Value, c.SE, c.Low, c.High} {
				if math.IsNaN(x) || math.IsInf(x, 0) || x < -1 || x > 1 && x != c.SE {
					t.Fatalf("seed %d: %+v", seed, c)
				}
			}
			if !c.Defined && c.Undefined == "" {
				t.Fatalf("seed %d: undefined without a reason", seed)
			}
		}
	}
}
