package framework_test

import (
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

func TestPercent_RoundsHalfUp(t *testing.T) {
	tests := []struct {
		yes, relevant, want int
		ok                  bool
	}{
		{41, 57, 72, true},   // 71.93 → 72
		{129, 200, 65, true}, // 64.5 → 65
		{128, 200, 64, true}, // 64.0
		{1, 8, 13, true},     // 12.5 → 13
		{0, 5, 0, true},
		{5, 5, 100, true},
		{0, 0, 0, false}, // no relevant cases: no figure
	}
	for _, tt := range tests {
		got, ok := framework.Percent(tt.yes, tt.relevant)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Percent(%d, %d) = %d, %v; want %d, %v", tt.yes, tt.relevant, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBand_Boundaries(t *testing.T) {
	fws, _, _ := framework.Builtin()
	r := fws[0].Rating
	tests := []struct {
		percent int
		want    string
		points  int
	}{
		{0, "Inadequate", 0}, {49, "Inadequate", 0}, {50, "Requires improvement", 1},
		{64, "Requires improvement", 1}, {65, "Good", 2}, {79, "Good", 2},
		{80, "Outstanding", 3}, {100, "Outstanding", 3},
	}
	for _, tt := range tests {
		b := r.Band(tt.percent)
		if b.Rating != tt.want || b.Points != tt.points {
			t.Errorf("Band(%d) = %s (%d pts), want %s (%d pts)", tt.percent, b.Rating, b.Points, tt.want, tt.points)
		}
	}
	for score, want := range map[int]string{0: "Inadequate", 3: "Inadequate", 4: "Requires improvement", 10: "Requires improvement",
		11: "Good", 17: "Good", 18: "Outstanding", 21: "Outstanding"} {
		if got, _ := r.OverallRating(score); got != want {
			t.Errorf("OverallRating(%d) = %q, want %q", score, got, want)
		}
	}
}
