package aggregate_test

import (
	"fmt"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// sample builds an input where every key question of P2.1–P2.4 has the
// given yes count out of n cases, except overrides by question id; judged
// standards get the judgements given.
func sample(t *testing.T, n int, yes int, overrides map[string]int, judged map[string]string) aggregate.Input {
	pdu := mustBuiltin(t, "probation-pdu-2023")
	var in aggregate.Input
	for i := 0; i < n; i++ {
		in.Cases = append(in.Cases, framework.Case{Ref: fmt.Sprintf("C-%03d", i), Attributes: map[string]string{"mappa": "none"}})
	}
	for _, q := range pdu.Questions() {
		if q.Kind != framework.QuestionKey {
			continue
		}
		y, ok := overrides[q.ID]
		if !ok {
			y = yes
		}
		for i := 0; i < n; i++ {
			v := "no"
			switch {
			case y < 0: // every case not applicable
				v = "na"
			case i < y:
				v = "yes"
			}
			in.Answers = append(in.Answers, framework.Answer{CaseRef: in.Cases[i].Ref, QuestionID: q.ID, Value: v})
		}
	}
	for s, r := range judged {
		in.Judgements = append(in.Judgements, framework.Judgement{StandardID: s, Rating: r})
	}
	return in
}

var allJudged = map[string]string{"P1.1": "Good", "P1.2": "Good", "P1.3": "Good"}

func TestCompute_StandardRatingAtBandBoundaries(t *testing.T) {
	pdu := mustBuiltin(t, "probation-pdu-2023")
	tests := []struct {
		name       string
		lowestYes  int // out of 200, on 2.1.3; the other key questions are all yes
		wantPct    int
		wantRating string
	}{
		{"49%", 98, 49, "Inadequate"},
		{"50%", 100, 50, "Requires improvement"},
		{"64%", 128, 64, "Requires improvement"},
		{"64.5% shows 65", 129, 65, "Good"},
		{"65%", 130, 65, "Good"},
		{"79%", 158, 79, "Good"},
		{"79.5% shows 80", 159, 80, "Outstanding"},
		{"80%", 160, 80, "Outstanding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := aggregate.Compute(pdu, sample(t, 200, 200, map[string]int{"2.1.3": tt.lowestYes}, allJudged))
			s, _ := r.Standard("P2.1")
			if s.Rating != tt.wantRating || s.Lowest != "2.1.3" || s.LowestPercent != tt.wantPct {
				t.Errorf("P2.1 = %s from %s at %d%%, want %s from 2.1.3 at %d%%", s.Rating, s.Lowest, s.LowestPercent, tt.wantRating, tt.wantPct)
			}
			q, _ := r.Question("2.1.3")
			if q.Band != tt.wantRating {
				t.Errorf("2.1.3 band = %q, want %q (bands apply to the shown percent)", q.Band, tt.wantRating)
			}
		})
	}
}

func TestCompute_NoRelevantCasesMeansNoFigureAndNoRating(t *testing.T) {
	r := aggregate.Compute(mustBuiltin(t, "probation-pdu-2023"), sample(t, 10, 10, map[string]int{"2.4.2": -1}, allJudged))
	q, _ := r.Question("2.4.2")
	if q.HasPercent || q.Relevant != 0 || q.NotApplicable != 10 {
		t.Errorf("2.4.2 = %+v, want no figure over 0 relevant", q)
	}
	s, _ := r.Standard("P2.4")
	if s.Rating != "" || s.Points != 0 {
		t.Errorf("P2.4 = %q (%d pts), want no rating", s.Rating, s.Points)
	}
	if r.Overall != "" {
		t.Errorf("overall = %q, want none while a standard is unrated", r.Overall)
	}
	// The other standards are still rated and scored.
	if p1, _ := r.Standard("P2.1"); p1.Rating != "Outstanding" || r.Score != 2*3+3*3 {
		t.Errorf("P2.1 = %q, score = %d; want Outstanding and 15 (3 judged Good + 3 Outstanding)", p1.Rating, r.Score)
	}
}

func TestCompute_OverallWaitsForJudgedStandards(t *testing.T) {
	r := aggregate.Compute(mustBuiltin(t, "probation-pdu-2023"), sample(t, 10, 10, nil, map[string]string{"P1.1": "Good", "P1.2": "Good"}))
	if r.Overall != "" {
		t.Errorf("overall = %q with P1.3 not judged, want none", r.Overall)
	}
	r = aggregate.Compute(mustBuiltin(t, "probation-pdu-2023"), sample(t, 10, 10, nil, allJudged))
	if r.Overall != "Outstanding" || r.Score != 18 || r.MaxScore != 21 {
		t.Errorf("overall = %q %d/%d, want Outstanding 18/21", r.Overall, r.Score, r.MaxScore)
	}
}

func TestCompute_UnratedFrameworkGivesSharesOnly(t *testing.T) {
	pp := mustBuiltin(t, "probation-public-protection-2025")
	if pp.Rated() {
		t.Fatal("public-protection framework must be unrated")
	}
	in := aggregate.Input{Cases: []framework.Case{
		{Ref: "A", Attributes: map[string]string{"contact_suspended": "false"}},
		{Ref: "B", Attributes: map[string]string{"contact_suspended": "false"}},
		{Ref: "C", Attributes: map[string]string{"contact_suspended": "true"}},
	}}
	add := func(ref, q, v string) {
		in.Answers = append(in.Answers, framework.Answer{CaseRef: ref, QuestionID: q, Value: v})
	}
	add("A", "C1", "yes")
	add("B", "C1", "no")
	add("C", "A1", "yes")
	add("A", "C2", "no")
	r := aggregate.Compute(pp, in)
	s, _ := r.Standard("PP1")
	if s.Rating != "" || s.Yes != 2 || s.Relevant != 3 || s.Percent != 67 {
		t.Errorf("PP1 = %+v, want no rating and 2 of 3 (67%%), pooled over core and adjusted", s)
	}
	if r.Pooled.Yes != 2 || r.Pooled.Relevant != 4 || r.Pooled.Percent != 50 {
		t.Errorf("pooled = %+v, want 2 of 4 (50%%)", r.Pooled)
	}
	if r.Overall != "" || r.Score != 0 || r.MaxScore != 0 {
		t.Errorf("unrated report has overall %q score %d/%d", r.Overall, r.Score, r.MaxScore)
	}
}
