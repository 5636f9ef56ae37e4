package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestMergePackedMatchesUnpacking holds the one-pass merge of a breakdown
// row to the plain way: unpack the row into a map, add the changes, pack
// it again. Rows and changes are random over a few questions and values,
// so that counts appear, move, cancel to zero and vanish; some rows are
// written out of order, which the merge must notice.
func TestMergePackedMatchesUnpacking(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	questions := []string{"1.1", "1.1.a", "1.2", "2.10", "2.3.S1", "PP.IE1"}
	values := []string{"yes", "no", "na", "0", "12"}
	pick := func() qv { return qv{questions[r.IntN(len(questions))], values[r.IntN(len(values))]} }
	for trial := range 2000 {
		row := map[[2]string]int{}
		for range r.IntN(12) {
			k := pick()
			row[[2]string{k.question, k.value}] = r.IntN(5) - 1
		}
		packed, err := packCounts(row)
		if err != nil {
			t.Fatal(err)
		}
		if trial%7 == 0 && packed != "" {
			packed = shuffledPacked(r, packed)
		}
		changes := map[qv]int{}
		for range r.IntN(8) {
			changes[pick()] += r.IntN(5) - 2
		}
		want, err := mergeUnordered(packed, changes)
		if err != nil {
			t.Fatal(err)
		}
		got, err := mergePacked(packed, changes)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("trial %d: row %q with %v:\n got %q\nwant %q", trial, packed, changes, got, want)
		}
	}
}

func shuffledPacked(r *rand.Rand, packed string) string {
	var items []string
	_ = eachPacked(packed, func(q, v string, n int) { items = append(items, fmt.Sprintf("%s\x1f%s\x1f%d", q, v, n)) })
	r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	out := ""
	for i, it := range items {
		if i > 0 {
			out += "\x1e"
		}
		out += it
	}
	return out
}

func TestMergePackedRefusesMalformedRow(t *testing.T) {
	if _, err := mergePacked("1.1\x1fyes", map[qv]int{{"1.1", "yes"}: 1}); err == nil {
		t.Fatal("a malformed row merged")
	}
	if _, err := mergePacked("1.1\x1fyes\x1fx", map[qv]int{{"1.1", "yes"}: 1}); err == nil {
		t.Fatal("a row with a bad count merged")
	}
}
