package framework

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// The rating rules a framework file may name (docs/frameworks.md).
const (
	RuleLowestKeyQuestion = "lowest_key_question"
	RoundingHalfUp        = "half_up"
)

// RatingRule is how a rated framework turns key-question figures into
// ratings, points, a score and an overall rating (docs/frameworks.md, the
// "rating" block). Every number here is data so an inspectorate can change it.
type RatingRule struct {
	// Rule is the standard rule; RuleLowestKeyQuestion is the one defined:
	// a case-rated standard takes the band of its lowest key question
	// (RateStandard dispatches on it).
	Rule string `json:"rule"`
	// Rounding of the shown percentage; RoundingHalfUp is the one defined
	// (Percent, RoundHalfUp). Bands are applied to the shown whole number.
	Rounding string `json:"rounding"`
	// Bands from best to worst; a shown percent falls in the first band whose
	// MinPercent it reaches. The last band must start at 0.
	Bands []Band `json:"bands"`
	// Overall maps the score to the overall rating; the ranges must cover 0
	// to the maximum score without gaps or overlaps.
	Overall []OverallBand `json:"overall"`
}

// Band is one rating band.
type Band struct {
	Rating     string `json:"rating"`
	MinPercent int    `json:"min_percent"`
	Points     int    `json:"points"`
	// Words is how reports describe the band ("a reasonable majority").
	Words string `json:"words,omitempty"`
}

// OverallBand is one range of the score.
type OverallBand struct {
	Rating   string `json:"rating"`
	MinScore int    `json:"min_score"`
	MaxScore int    `json:"max_score"`
}

func (r *RatingRule) check(standards int) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if r.Rule != RuleLowestKeyQuestion {
		add("rating rule %q is not known (want lowest_key_question)", r.Rule)
	}
	if r.Rounding != RoundingHalfUp {
		add("rounding %q is not known (want half_up)", r.Rounding)
	}
	if len(r.Bands) == 0 {
		add("rating has no bands")
		return problems
	}
	names := map[string]bool{}
	for i, b := range r.Bands {
		if p := FieldRating.problem(b.Rating); p != "" {
			add("band %d: rating %s", i+1, p)
		}
		if p := FieldTitle.problem(b.Words); p != "" {
			add("band %q: words %s", b.Rating, p)
		}
		if names[b.Rating] {
			add("band %q is declared twice", b.Rating)
		}
		names[b.Rating] = true
		if b.MinPercent < 0 || b.MinPercent > 100 {
			add("band %q: min_percent %d is outside 0–100", b.Rating, b.MinPercent)
		}
		if i > 0 {
			prev := r.Bands[i-1]
			if b.MinPercent >= prev.MinPercent {
				add("bands %q (from %d%%) and %q (from %d%%) overlap: list bands from best to worst with falling min_percent",
					prev.Rating, prev.MinPercent, b.Rating, b.MinPercent)
			}
			if b.Points > prev.Points {
				add("band %q earns more points than the better band %q", b.Rating, prev.Rating)
			}
		}
	}
	if last := r.Bands[len(r.Bands)-1]; last.MinPercent != 0 {
		add("bands leave a gap: percentages below %d%% fall in no band", last.MinPercent)
	}
	max := r.MaxScore(standards)
	ranges := slices.Clone(r.Overall)
	slices.SortFunc(ranges, func(a, b OverallBand) int { return a.MinScore - b.MinScore })
	next := 0
	for _, o := range ranges {
		if !names[o.Rating] {
			add("overall band %q is not one of the rating bands", o.Rating)
		}
		if o.MaxScore < o.MinScore {
			add("overall band %q: max_score %d is below min_score %d", o.Rating, o.MaxScore, o.MinScore)
			continue
		}
		switch {
		case o.MinScore > next:
			add("overall bands leave a gap: scores %d–%d have no rating", next, o.MinScore-1)
		case o.MinScore < next:
			add("overall band %q (%d–%d) overlaps the band below it", o.Rating, o.MinScore, o.MaxScore)
		}
		next = o.MaxScore + 1
	}
	if len(ranges) == 0 {
		add("rating has no overall bands")
	} else if next-1 != max {
		add("overall bands end at %d but the maximum score is %d (%d standards × %d points)", next-1, max, standards, r.Bands[0].Points)
	}
	return problems
}

// Percent returns yes/relevant as a whole percent rounded half up (64.5 →
// 65), computed in integers so no float rounding can move a band boundary.
// It returns false when relevant is zero (there is then no figure at all).
// It is RoundHalfUp of the exact ratio; TestPercent_IsRoundHalfUp holds
// the two together.
func Percent(yes, relevant int) (int, bool) {
	if relevant <= 0 {
		return 0, false
	}
	return (200*yes + relevant) / (2 * relevant), true
}

// RoundHalfUp is the framework's rounding (RoundingHalfUp) of a percentage
// that is not a ratio of counts, such as an interval's end, to the shown
// whole number whose band it falls in.
func RoundHalfUp(x float64) int { return int(math.Floor(x + 0.5)) }

// Band returns the band a shown percent falls in.
func (r *RatingRule) Band(percent int) Band {
	for _, b := range r.Bands {
		if percent >= b.MinPercent {
			return b
		}
	}
	return r.Bands[len(r.Bands)-1]
}

// Points returns the points a rating earns, and false for an unknown rating.
func (r *RatingRule) Points(rating string) (int, bool) {
	for _, b := range r.Bands {
		if b.Rating == rating {
			return b.Points, true
		}
	}
	return 0, false
}

// MaxScore is the best possible score over n rated standards.
func (r *RatingRule) MaxScore(n int) int {
	if len(r.Bands) == 0 {
		return 0
	}
	return n * r.Bands[0].Points
}

// OverallRating returns the overall rating for a score.
func (r *RatingRule) OverallRating(score int) (string, bool) {
	for _, o := range r.Overall {
		if score >= o.MinScore && score <= o.MaxScore {
			return o.Rating, true
		}
	}
	return "", false
}

// IsRating reports whether name is one of the framework's rating bands.
func (f *Framework) IsRating(name string) bool {
	if f.Rating == nil {
		return false
	}
	for _, b := range f.Rating.Bands {
		if b.Rating == name {
			return true
		}
	}
	return false
}

// CheckJudgement validates a judged rating for a standard.
func (f *Framework) CheckJudgement(standardID, rating string) error {
	s, ok := f.standards[standardID]
	if !ok {
		return Errorf(CodeInvalid, "standard %s: unknown standard in framework %s", standardID, f.ID)
	}
	if s.Kind != KindJudged {
		return Errorf(CodeInvalid, "standard %s: is rated from case answers, not judged", standardID)
	}
	if !f.IsRating(rating) {
		var names []string
		for _, b := range f.Rating.Bands {
			names = append(names, b.Rating)
		}
		return Errorf(CodeInvalid, "standard %s: rating %q is not one of %s", standardID, rating, strings.Join(names, ", "))
	}
	return nil
}

// Crosses reports whether an interval (in percent) reaches another band:
// the bands of its shown (rounded) ends differ, so the band could change
// with a few cases' answers.
func (r *RatingRule) Crosses(low, high float64) bool {
	return r.Band(RoundHalfUp(low)).Rating != r.Band(RoundHalfUp(high)).Rating
}

// KeyFigure is one key question's figure as a standard's rating rule reads
// it: yes out of relevant, and the share's 95% interval in percent (Low and
// High, read only when Relevant > 0).
type KeyFigure struct {
	QuestionID    string
	Yes, Relevant int
	Low, High     float64
}

// StandardRating is what the rating rule makes of a case-rated standard's
// key-question figures.
type StandardRating struct {
	// Rating is "" when the standard has no rating (yet).
	Rating string
	// Lowest is the key question with the lowest shown percent (the first
	// in framework order on a tie); HasLowest is false when no key question
	// has a figure.
	Lowest        string
	LowestPercent int
	HasLowest     bool
	// Sensitive: the lowest key question could plausibly sit in another
	// band (Crosses over the lowest interval ends).
	Sensitive bool
	// CasesUp key-question answers changing No → Yes would raise the rating
	// to UpTo; CasesDown changing Yes → No would lower it to DownTo ("" when
	// there is no band that way).
	CasesUp, CasesDown int
	UpTo, DownTo       string
}

// LowestKeyQuestion returns the key question with the lowest shown
// percent among those with a figure (the first in the order given on a
// tie), and whether every key question has a figure.
func LowestKeyQuestion(figs []KeyFigure) (id string, percent int, ok, complete bool) {
	complete = true
	for _, f := range figs {
		p, has := Percent(f.Yes, f.Relevant)
		if !has {
			complete = false
			continue
		}
		if !ok || p < percent {
			id, percent, ok = f.QuestionID, p, true
		}
	}
	return id, percent, ok, complete
}

// RateStandard applies the rule to a case-rated standard's key-question
// figures, in framework order. A key question with no relevant cases has
// no figure, so the standard then has no rating (never a rating from the
// others alone). A nil rule (a framework that awards no ratings) gives the
// lowest key question and no rating.
func (r *RatingRule) RateStandard(figs []KeyFigure) StandardRating {
	var sr StandardRating
	var complete bool
	sr.Lowest, sr.LowestPercent, sr.HasLowest, complete = LowestKeyQuestion(figs)
	if r == nil || !complete || !sr.HasLowest {
		return sr
	}
	switch r.Rule {
	case RuleLowestKeyQuestion:
		sr.Rating = r.Band(sr.LowestPercent).Rating
		// The rating is sensitive when the band of the lowest interval ends
		// differs: the lowest key question could plausibly sit in another
		// band (another key question's wide interval matters only if it
		// could become the lowest).
		minLow, minHigh := 100.0, 100.0
		for _, f := range figs {
			minLow, minHigh = math.Min(minLow, f.Low), math.Min(minHigh, f.High)
		}
		sr.Sensitive = r.Crosses(minLow, minHigh)
		sr.CasesUp, sr.UpTo, sr.CasesDown, sr.DownTo = r.casesToMove(figs, sr.Rating)
	}
	// Load refuses any other rule: a hand-made one rates nothing rather
	// than something wrong.
	return sr
}

// casesToMove says how many cases' key-question answers would have to
// change to move a case-rated standard one band up (No → Yes on every key
// question below the next band) or one band down (Yes → No on the key
// question nearest to falling).
func (r *RatingRule) casesToMove(figs []KeyFigure, current string) (up int, upTo string, down int, downTo string) {
	idx := -1
	for i, b := range r.Bands {
		if b.Rating == current {
			idx = i
		}
	}
	if idx < 0 {
		return 0, "", 0, ""
	}
	if idx > 0 {
		next := r.Bands[idx-1]
		upTo = next.Rating
		for _, f := range figs {
			k := 0
			for p, _ := Percent(f.Yes+k, f.Relevant); p < next.MinPercent && k <= f.Relevant-f.Yes; p, _ = Percent(f.Yes+k, f.Relevant) {
				k++
			}
			up += k
		}
	}
	if idx < len(r.Bands)-1 {
		floor := r.Bands[idx].MinPercent
		downTo = r.Bands[idx+1].Rating
		down = math.MaxInt
		for _, f := range figs {
			k := 0
			for p, _ := Percent(f.Yes-k, f.Relevant); p >= floor && k < f.Yes; p, _ = Percent(f.Yes-k, f.Relevant) {
				k++
			}
			if p, _ := Percent(f.Yes-k, f.Relevant); p < floor && k < down {
				down = k
			}
		}
		if down == math.MaxInt {
			down, downTo = 0, ""
		}
	}
	return up, upTo, down, downTo
}
