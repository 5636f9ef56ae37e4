package sampling

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestSizeFor(t *testing.T) {
	// By hand, p = 0.5 so p(1−p) = 0.25:
	//   80%: z = 1.2816, z² = 1.64249856; ±10 points: e² = 0.01
	//        n0 = 1.64249856 × 0.25 / 0.01 = 41.062464
	//   N = 400:  n = 41.062464 / (1 + 40.062464/400) = 41.062464 / 1.10015616 = 37.324 → 38
	//   N = 30:   n = 41.062464 / (1 + 40.062464/30)  = 41.062464 / 2.33541547 = 17.583 → 18
	//   N = 10⁶:  n = 41.062464 / 1.0000400625 = 41.061 → 42
	//   N = 1:    n = 41.062464 / 41.062464 = 1 exactly → 1 (not 2)
	//   95%: z = 1.96, z² = 3.8416; ±5 points: e² = 0.0025; n0 = 3.8416 × 0.25 / 0.0025 = 384.16
	//   N = 300:  n = 384.16 / (1 + 383.16/300) = 384.16 / 2.2772 = 168.698 → 169
	//   99%: z = 2.5758, z² = 6.63474564; ±10: n0 = 6.63474564 × 0.25 / 0.01 = 165.868641
	//   N = 100:  n = 165.868641 / (1 + 164.868641/100) = 165.868641 / 2.64868641 = 62.623 → 63
	for _, c := range []struct {
		pop, conf int
		margin    float64
		n0        float64
		n         int
	}{
		{400, 80, 10, 41.062464, 38},
		{30, 80, 10, 41.062464, 18},
		{1000000, 80, 10, 41.062464, 42},
		{1, 80, 10, 41.062464, 1},
		{300, 95, 5, 384.16, 169},
		{100, 99, 10, 165.868641, 63},
	} {
		s, err := SizeFor(c.pop, c.conf, c.margin)
		if err != nil {
			t.Fatalf("N=%d %d%% ±%v: %v", c.pop, c.conf, c.margin, err)
		}
		if math.Abs(s.N0-c.n0) > 1e-6 || s.N != c.n {
			t.Errorf("N=%d %d%% ±%v: n0 = %.6f, n = %d; want %.6f, %d", c.pop, c.conf, c.margin, s.N0, s.N, c.n0, c.n)
		}
	}
	for _, c := range []struct {
		pop, conf int
		margin    float64
		want      string
	}{
		{400, 70, 10, "confidence 70% is not supported (use one of 80, 85, 90, 95, 99)"},
		{400, 100, 10, "not supported"},
		{400, 80, 0, "margin 0 is not above 0"},
		{400, 80, 51, "margin 51"},
		{400, 80, math.NaN(), "margin NaN"},
		{0, 80, 10, "no eligible case"},
	} {
		if _, err := SizeFor(c.pop, c.conf, c.margin); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("N=%d %d%% ±%v: err %v, want %q", c.pop, c.conf, c.margin, err, c.want)
		}
	}
}

func TestAllocate(t *testing.T) {
	for _, c := range []struct {
		name  string
		sizes []int
		n     int
		want  []int
	}{
		{"even", []int{200, 200}, 38, []int{19, 19}},
		// 38·1/400 = 0.095 and 38·399/400 = 37.905: the one case left goes
		// to the larger fraction; the stratum of one gets none.
		{"stratum smaller than its share", []int{1, 399}, 38, []int{0, 38}},
		// 10·{5,3,2}/10 exactly: nothing left over.
		{"exact", []int{5, 3, 2}, 10, []int{5, 3, 2}},
		// 7·{5,3,2}/10 = 3.5, 2.1, 1.4 → 3, 2, 1 + one to the .5
		{"largest remainder", []int{5, 3, 2}, 7, []int{4, 2, 1}},
		// 1·1/3 each: equal fractions and sizes, so the earliest wins.
		{"tie: earliest", []int{1, 1, 1}, 1, []int{1, 0, 0}},
		// 2·1/4 = 0.5 and 2·3/4 = 1.5: equal fractions, the larger wins.
		{"tie: larger", []int{1, 3}, 2, []int{0, 2}},
		// 2·{3,3,1}/7 = 0.857, 0.857, 0.286: the two equal fractions win.
		{"tie on top", []int{3, 3, 1}, 2, []int{1, 1, 0}},
		{"all", []int{4, 1, 2}, 7, []int{4, 1, 2}},
		{"none", []int{4, 1}, 0, []int{0, 0}},
		{"no strata", nil, 0, []int{}},
	} {
		if got := Allocate(c.sizes, c.n); !slices.Equal(got, c.want) {
			t.Errorf("%s: Allocate(%v, %d) = %v, want %v", c.name, c.sizes, c.n, got, c.want)
		}
	}
	// Whatever the sizes: the quotas add up to n, none over its stratum,
	// each within one of its exact share.
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		sizes := make([]int, 1+r.IntN(8))
		total := 0
		for i := range sizes {
			sizes[i] = r.IntN(50)
			total += sizes[i]
		}
		n := r.IntN(total + 1)
		got, sum := Allocate(sizes, n), 0
		for i, q := range got {
			sum += q
			exact := float64(n) * float64(sizes[i]) / float64(max(total, 1))
			if q > sizes[i] || math.Abs(float64(q)-exact) >= 1 {
				t.Fatalf("Allocate(%v, %d) = %v: stratum %d", sizes, n, got, i)
			}
		}
		if sum != n {
			t.Fatalf("Allocate(%v, %d) = %v: adds to %d", sizes, n, got, sum)
		}
	}
}

// The draw's expected cases come from an independent implementation of
// PCG-DXSM and the draw in Python (docs/sampling.md lists it), not from
// this code: they hold the algorithm stable across Go releases.
func TestDrawKnownAnswer(t *testing.T) {
	if got := rand.NewPCG(1, 2).Uint64(); got != 0xc4f5a58656eef510 {
		t.Fatalf("PCG(1,2) first output %#x, the Python PCG-DXSM gives 0xc4f5a58656eef510", got)
	}
	var flat []Case
	for i := 10; i >= 1; i-- { // input order must not matter
		flat = append(flat, Case{Ref: fmt.Sprintf("R%02d", i)})
	}
	res, err := Draw(flat, Options{Size: 3, Seed: 42, Inspectors: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := picks(res); got != "R06:a R08:a R10:b" {
		t.Errorf("seed 42: %s, want R06:a R08:a R10:b", got)
	}
	var strat []Case
	for _, r := range []string{"B2", "A3", "A1", "B1", "A4", "A2"} {
		strat = append(strat, Case{Ref: r, Attributes: map[string]string{"sentence_type": map[byte]string{'A': "community", 'B': "licence"}[r[0]]}})
	}
	res, err = Draw(strat, Options{Size: 3, Seed: 7, Strata: []string{"sentence_type"}, Inspectors: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := picks(res); got != "A2:a A4:b B1:a" {
		t.Errorf("seed 7 stratified: %s, want A2:a A4:b B1:a", got)
	}
}

func picks(r Result) string {
	var s []string
	for _, p := range r.Cases {
		s = append(s, p.Case.Ref+":"+p.Inspector)
	}
	return strings.Join(s, " ")
}

// caseload makes n cases over two crossed attributes, unevenly.
func caseload(n int) []Case {
	var out []Case
	for i := range n {
		st := "community"
		if i%3 == 0 {
			st = "licence"
		}
		sex := "male"
		if i%5 == 0 {
			sex = "female"
		}
		out = append(out, Case{Ref: fmt.Sprintf("C%04d", i), Attributes: map[string]string{"sentence_type": st, "sex": sex}})
	}
	return out
}

func TestDrawStratifiedAndBalanced(t *testing.T) {
	pop := caseload(300)
	opts := Options{Size: 40, Seed: 99, Strata: []string{"sentence_type", "sex"}, Inspectors: []string{"ann", "bo", "cy"}}
	res, err := Draw(pop, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Cases) != 40 || len(res.Strata) != 4 {
		t.Fatalf("%d cases in %d strata, want 40 in 4", len(res.Cases), len(res.Strata))
	}
	var labels []string
	for _, s := range res.Strata {
		labels = append(labels, s.Label())
	}
	// Sorted by value, attribute by attribute.
	if got := strings.Join(labels, ", "); got != "community × female, community × male, licence × female, licence × male" {
		t.Errorf("strata %s", got)
	}
	seen := map[string]bool{}
	perInspector := map[string]int{}
	perStratum := map[int]map[string]int{}
	inStratum := map[int]int{}
	for _, p := range res.Cases {
		if seen[p.Case.Ref] {
			t.Fatalf("%s drawn twice", p.Case.Ref)
		}
		seen[p.Case.Ref] = true
		key := res.Strata[p.Stratum].Key
		if p.Case.Attributes["sentence_type"] != key[0] || p.Case.Attributes["sex"] != key[1] {
			t.Errorf("%s in stratum %v", p.Case.Ref, key)
		}
		perInspector[p.Inspector]++
		if perStratum[p.Stratum] == nil {
			perStratum[p.Stratum] = map[string]int{}
		}
		perStratum[p.Stratum][p.Inspector]++
		inStratum[p.Stratum]++
	}
	sizes := []int{}
	for _, s := range res.Strata {
		sizes = append(sizes, s.Population)
	}
	for i, q := range Allocate(sizes, 40) {
		if inStratum[i] != q || res.Strata[i].Quota != q {
			t.Errorf("stratum %s: %d drawn, quota %d, want %d", res.Strata[i].Label(), inStratum[i], res.Strata[i].Quota, q)
		}
	}
	spread := func(m map[string]int) int {
		lo, hi := math.MaxInt, 0
		for _, u := range opts.Inspectors {
			lo, hi = min(lo, m[u]), max(hi, m[u])
		}
		return hi - lo
	}
	if spread(perInspector) > 1 {
		t.Errorf("inspectors unbalanced: %v", perInspector)
	}
	for i, m := range perStratum {
		if spread(m) > 1 {
			t.Errorf("stratum %s unbalanced: %v", res.Strata[i].Label(), m)
		}
	}

	again, _ := Draw(slices.Clone(pop), opts)
	rev := slices.Clone(pop)
	slices.Reverse(rev)
	reordered, _ := Draw(rev, opts)
	if picks(again) != picks(res) || picks(reordered) != picks(res) {
		t.Error("the same caseload and seed gave another sample")
	}
	opts.Seed = 100
	other, _ := Draw(pop, opts)
	if picks(other) == picks(res) {
		t.Error("another seed gave the same sample")
	}
}

func TestDrawEdges(t *testing.T) {
	pop := caseload(10)
	if _, err := Draw(pop, Options{Size: 11}); err == nil || !strings.Contains(err.Error(), "sample size 11 is more than the 10 eligible cases") {
		t.Errorf("n > N: %v", err)
	}
	all, err := Draw(pop, Options{Size: 10, Strata: []string{"sex"}})
	if err != nil || len(all.Cases) != 10 {
		t.Errorf("n = N: %d cases, %v", len(all.Cases), err)
	}
	none, err := Draw(nil, Options{Size: 0})
	if err != nil || len(none.Cases) != 0 || len(none.Strata) != 0 {
		t.Errorf("empty window: %+v, %v", none, err)
	}
	// A case without the stratum's attribute is its own stratum (""), first.
	pop = append(pop, Case{Ref: "X", Attributes: map[string]string{}})
	res, _ := Draw(pop, Options{Size: 11, Strata: []string{"sex"}})
	if res.Strata[0].Key[0] != "" || res.Strata[0].Quota != 1 {
		t.Errorf("strata %+v", res.Strata)
	}
}

func TestProfile(t *testing.T) {
	pop := caseload(300) // licence: i%3 == 0 → 100 of 300; female: i%5 == 0 → 60
	var sample []Picked
	for _, c := range pop[:30] { // 10 licence of 30 (33.3%), 6 female (20%)
		sample = append(sample, Picked{Case: c})
	}
	sample = append(sample, Picked{Case: pop[3]}, Picked{Case: pop[6]}) // 12 licence of 32 = 37.5%
	declared := func(a string) []string {
		if a == "sex" {
			return []string{"male", "female", "other"}
		}
		return nil
	}
	got := Profile(pop, sample, []string{"sentence_type", "sex"}, declared, 4)
	var lines []string
	for _, s := range got {
		lines = append(lines, fmt.Sprintf("%s=%s %d %.2f %d %.2f %v", s.Attribute, s.Value, s.Caseload, s.CaseloadPct, s.Sample, s.SamplePct, s.Warn))
	}
	want := []string{
		// undeclared values sorted; 37.5 − 33.33 = 4.17 > 4
		"sentence_type=community 200 66.67 20 62.50 true",
		"sentence_type=licence 100 33.33 12 37.50 true",
		// declared order, a declared value nobody has shown as 0
		"sex=male 240 80.00 26 81.25 false",
		"sex=female 60 20.00 6 18.75 false",
		"sex=other 0 0.00 0 0.00 false",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("profile:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
