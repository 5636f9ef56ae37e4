package sampling

import (
	"fmt"
	"slices"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

func TestQADraw_SeededAtLeastOnePerInspector(t *testing.T) {
	var cases []framework.Case
	for i := range 25 {
		cases = append(cases, framework.Case{Ref: fmt.Sprintf("C%02d", i), Inspector: "ann"})
	}
	cases = append(cases, framework.Case{Ref: "D01", Inspector: "bob"}, framework.Case{Ref: "D02", Inspector: "bob"})
	a := QADraw(cases, 10, 7)
	rev := slices.Clone(cases)
	slices.Reverse(rev)
	if b := QADraw(rev, 10, 7); !slices.Equal(a, b) {
		t.Fatalf("the same cases and seed drew %v and %v", a, b)
	}
	ann, bob := 0, 0
	for _, r := range a {
		if r[0] == 'C' {
			ann++
		} else {
			bob++
		}
	}
	if ann != 3 || bob != 1 {
		t.Fatalf("drew %v: %d of ann's 25 (want 3), %d of bob's 2 (want 1)", a, ann, bob)
	}
	other := QADraw(cases, 10, 8)
	differs := !slices.Equal(a, other)
	for s := uint64(9); !differs && s < 20; s++ {
		differs = !slices.Equal(a, QADraw(cases, 10, s))
	}
	if !differs {
		t.Fatal("every seed draws the same cases")
	}
}
