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
	r := builtin(t, "probation-pdu-2023").Rating
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

func TestRoundHalfUp(t *testing.T) {
	for _, tt := range []struct {
		x    float64
		want int
	}{{0, 0}, {0.49, 0}, {0.5, 1}, {64.4999, 64}, {64.5, 65}, {79.5, 80}, {79.49, 79}, {99.5, 100}, {100, 100}} {
		if got := framework.RoundHalfUp(tt.x); got != tt.want {
			t.Errorf("RoundHalfUp(%v) = %d, want %d", tt.x, got, tt.want)
		}
	}
}

// Percent is RoundHalfUp of the exact ratio, worked in integers: the two
// spellings of the one rounding rule agree on every share up to 400 cases.
func TestPercent_IsRoundHalfUp(t *testing.T) {
	for rel := 1; rel <= 400; rel++ {
		for yes := 0; yes <= rel; yes++ {
			p, _ := framework.Percent(yes, rel)
			if r := framework.RoundHalfUp(100 * float64(yes) / float64(rel)); p != r {
				t.Fatalf("Percent(%d, %d) = %d but RoundHalfUp(%v) = %d", yes, rel, p, 100*float64(yes)/float64(rel), r)
			}
		}
	}
}

// kf is a key figure with a narrow interval around its share, so that no
// sensitivity is reported unless a test asks for it.
func kf(id string, yes, rel int) framework.KeyFigure {
	f := framework.KeyFigure{QuestionID: id, Yes: yes, Relevant: rel}
	if p, ok := framework.Percent(yes, rel); ok {
		f.Low, f.High = float64(p), float64(p)
	}
	return f
}

func TestRatingRule_RateStandard(t *testing.T) {
	r := builtin(t, "probation-pdu-2023").Rating // 80 / 65 / 50 / 0
	wide := kf("b", 70, 100)
	wide.Low, wide.High = 60.2, 79.6 // shows 60–80: Requires improvement to Outstanding
	tests := []struct {
		name                 string
		figs                 []framework.KeyFigure
		rating, lowest       string
		lowestPct            int
		hasLowest, sensitive bool
		up                   int
		upTo                 string
		down                 int
		downTo               string
	}{
		{"79.5% shows 80: Outstanding", []framework.KeyFigure{kf("a", 159, 200), kf("b", 200, 200)}, "Outstanding", "a", 80, true, false, 0, "", 1, "Good"},
		{"79.4% shows 79: Good", []framework.KeyFigure{kf("a", 397, 500), kf("b", 500, 500)}, "Good", "a", 79, true, false, 1, "Outstanding", 75, "Requires improvement"},
		{"80%: Outstanding", []framework.KeyFigure{kf("a", 160, 200)}, "Outstanding", "a", 80, true, false, 0, "", 2, "Good"},
		{"64.5% shows 65: Good", []framework.KeyFigure{kf("a", 129, 200)}, "Good", "a", 65, true, false, 30, "Outstanding", 1, "Requires improvement"},
		{"64.4% shows 64: Requires improvement", []framework.KeyFigure{kf("a", 322, 500)}, "Requires improvement", "a", 64, true, false, 1, "Good", 75, "Inadequate"},
		{"49.5% shows 50", []framework.KeyFigure{kf("a", 99, 200)}, "Requires improvement", "a", 50, true, false, 30, "Good", 1, "Inadequate"},
		{"0%: no band below", []framework.KeyFigure{kf("a", 0, 10)}, "Inadequate", "a", 0, true, false, 5, "Requires improvement", 0, ""},
		{"the lowest key question sets the rating", []framework.KeyFigure{kf("a", 90, 100), kf("b", 64, 100), kf("c", 70, 100)}, "Requires improvement", "b", 64, true, false, 1, "Good", 15, "Inadequate"},
		{"a tie goes to the first in framework order", []framework.KeyFigure{kf("a", 90, 100), kf("b", 13, 20), kf("c", 65, 100)}, "Good", "b", 65, true, false, 0 + 3 + 15, "Outstanding", 1, "Requires improvement"},
		{"a key question with no relevant cases: no rating", []framework.KeyFigure{kf("a", 90, 100), kf("b", 0, 0)}, "", "a", 90, true, false, 0, "", 0, ""},
		{"no relevant cases at all: no rating, no lowest", []framework.KeyFigure{kf("a", 0, 0), kf("b", 0, 0)}, "", "", 0, false, false, 0, "", 0, ""},
		{"no key questions: no rating", nil, "", "", 0, false, false, 0, "", 0, ""},
		{"the lowest interval reaching another band is sensitive", []framework.KeyFigure{kf("a", 90, 100), wide}, "Good", "b", 70, true, true, 10, "Outstanding", 6, "Requires improvement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.RateStandard(tt.figs)
			want := framework.StandardRating{Rating: tt.rating, Lowest: tt.lowest, LowestPercent: tt.lowestPct, HasLowest: tt.hasLowest,
				Sensitive: tt.sensitive, CasesUp: tt.up, UpTo: tt.upTo, CasesDown: tt.down, DownTo: tt.downTo}
			if got != want {
				t.Errorf("RateStandard = %+v\nwant           %+v", got, want)
			}
		})
	}
}

// A wide interval on a key question that is not the lowest, and could not
// become it, does not make the rating sensitive.
func TestRatingRule_RateStandard_OnlyTheLowestIntervalMatters(t *testing.T) {
	r := builtin(t, "probation-pdu-2023").Rating
	high := kf("a", 90, 100)
	high.Low, high.High = 81, 99
	low := kf("b", 70, 100)
	if got := r.RateStandard([]framework.KeyFigure{high, low}); got.Sensitive || got.Rating != "Good" {
		t.Errorf("RateStandard = %+v, want Good and not sensitive", got)
	}
}

func TestRatingRule_RateStandard_DispatchesOnRule(t *testing.T) {
	pdu := *builtin(t, "probation-pdu-2023").Rating
	figs := []framework.KeyFigure{kf("a", 70, 100)}
	if got := pdu.RateStandard(figs); got.Rating != "Good" {
		t.Fatalf("lowest_key_question: %+v, want Good", got)
	}
	other := pdu
	other.Rule = "average_key_question"
	if got := other.RateStandard(figs); got.Rating != "" || got.Lowest != "a" {
		t.Errorf("an unknown rule rated %+v; want no rating (and the lowest key question still shown)", got)
	}
	var unrated *framework.RatingRule
	if got := unrated.RateStandard(figs); got.Rating != "" || got.Lowest != "a" || got.LowestPercent != 70 {
		t.Errorf("no rule (an unrated framework): %+v, want the lowest key question and no rating", got)
	}
}

func TestRatingRule_Crosses(t *testing.T) {
	r := builtin(t, "probation-pdu-2023").Rating
	for _, tt := range []struct {
		low, high float64
		want      bool
	}{
		{65, 79.4, false}, {64.5, 79.4, false}, {64.4, 70, true}, {70, 79.5, true}, {0, 49.4, false}, {49.4, 49.6, true},
	} {
		if got := r.Crosses(tt.low, tt.high); got != tt.want {
			t.Errorf("Crosses(%v, %v) = %v, want %v", tt.low, tt.high, got, tt.want)
		}
	}
}
