package aggregate_test

import (
	"math"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
)

func TestWilson_TextbookValues(t *testing.T) {
	tests := []struct {
		yes, n int
		lo, hi float64
	}{
		{0, 10, 0, 27.75}, // Wilson (1927); Newcombe (1998) table I
		{5, 10, 23.66, 76.34},
		{10, 10, 72.25, 100},
	}
	for _, tt := range tests {
		lo, hi := aggregate.Wilson(tt.yes, tt.n)
		if math.Abs(lo-tt.lo) > 0.01 || math.Abs(hi-tt.hi) > 0.01 {
			t.Errorf("Wilson(%d, %d) = [%.2f, %.2f], want [%.2f, %.2f]", tt.yes, tt.n, lo, hi, tt.lo, tt.hi)
		}
	}
}

func TestCompute_GwentUncertaintyProfileAndBreakdown(t *testing.T) {
	fw, in := gwentInput(t)
	r := aggregate.ComputeWith(fw, in, aggregate.Options{By: []string{"sentence_type"}})

	// Cases that would have to change (counted by hand from expected.json):
	// P2.1 needs 2.1.3 from 16/57 to 29/57 (51%) for Requires improvement;
	// P2.4 needs 2.4.2 from 18/39 to 20/39 and 2.4.3 from 17/47 to 24/47.
	for _, tt := range []struct {
		id   string
		up   int
		upTo string
	}{{"P2.1", 13, "Requires improvement"}, {"P2.4", 9, "Requires improvement"}} {
		s, _ := r.Standard(tt.id)
		if s.CasesUp != tt.up || s.UpTo != tt.upTo || s.DownTo != "" {
			t.Errorf("%s: up %d to %q, down %d to %q; want up %d to %q and no lower band", tt.id, s.CasesUp, s.UpTo, s.CasesDown, s.DownTo, tt.up, tt.upTo)
		}
	}
	// 2.4.2 at 18/39 (46%): its interval reaches above 50%, across the band line.
	if q, _ := r.Question("2.4.2"); q.Interval == nil || !q.Interval.CrossesBand || q.Interval.Low > 46 || q.Interval.High < 50 {
		t.Errorf("2.4.2 interval = %+v, want one spanning 46%%..50%% and crossing a band", q.Interval)
	}
	// 2.1.3 at 16/57 (28%) is Inadequate whatever the interval: [18%, 41%].
	if q, _ := r.Question("2.1.3"); q.Interval == nil || q.Interval.CrossesBand {
		t.Errorf("2.1.3 interval = %+v, want one within Inadequate", q.Interval)
	}

	// The sample profile as published: 31 community orders, 26 licences.
	for _, p := range r.Profile {
		if p.Attribute != "sentence_type" {
			continue
		}
		got := map[string]int{}
		for _, v := range p.Values {
			got[v.Value] = v.Count
		}
		if got["community"] != 31 || got["licence"] != 26 {
			t.Errorf("sentence_type profile = %v, want 31 community, 26 licence", got)
		}
	}
	if len(r.Breakdowns) != 1 || len(r.Breakdowns[0].Values) != 2 {
		t.Fatalf("breakdowns = %+v, want sentence_type with 2 values", r.Breakdowns)
	}
	// Every figure is broken down, and each row's columns sum to the
	// figure itself: every question, every case-rated standard's share,
	// and the pooled share.
	want := map[string]aggregate.Share{}
	kinds := map[aggregate.RowKind]int{}
	for _, q := range r.Questions {
		want[q.ID] = q.Share
	}
	for _, s := range r.Standards {
		if s.Kind == framework.KindCaseRated {
			want[s.ID] = s.Share
		}
	}
	want[aggregate.PooledRowID] = r.Pooled
	for _, row := range r.Breakdowns[0].Rows {
		kinds[row.Kind]++
		var yes, rel int
		for _, c := range row.Cells {
			yes += c.Yes
			rel += c.Relevant
		}
		w, ok := want[row.ID]
		if !ok {
			t.Errorf("breakdown row %s (%s) is no figure of the report", row.ID, row.Kind)
		}
		delete(want, row.ID)
		if yes != w.Yes || rel != w.Relevant || row.All != w {
			t.Errorf("%s (%s) breakdown sums to %d/%d (all %+v), want the figure %d/%d", row.ID, row.Kind, yes, rel, row.All, w.Yes, w.Relevant)
		}
	}
	if len(want) > 0 || kinds[aggregate.RowPrompt] == 0 || kinds[aggregate.RowSupplementary] == 0 || kinds[aggregate.RowStandard] != 4 || kinds[aggregate.RowPooled] != 1 {
		t.Errorf("figures not broken down: %v; rows by kind %v", want, kinds)
	}
	// Completeness: every Gwent case answers all its applicable questions.
	for _, c := range r.CaseProgress {
		if c.Answered != c.Required || c.Required < 65 {
			t.Errorf("case %s answered %d of %d", c.Ref, c.Answered, c.Required)
		}
	}
	if len(r.InspectorProgress) != 5 {
		t.Errorf("inspectors = %d, want 5", len(r.InspectorProgress))
	}
}

func TestCompute_FromCountsEqualsFromAnswers(t *testing.T) {
	fw, in := gwentInput(t)
	full := aggregate.Compute(fw, in)
	counts := map[string]map[string]int{}
	for _, a := range in.Answers {
		if counts[a.QuestionID] == nil {
			counts[a.QuestionID] = map[string]int{}
		}
		counts[a.QuestionID][a.Value]++
	}
	fast := aggregate.Compute(fw, aggregate.Input{Counts: counts, CaseCount: len(in.Cases), Judgements: in.Judgements})
	if fast.Cases != full.Cases || fast.Score != full.Score || fast.Overall != full.Overall {
		t.Errorf("from counts: %d cases, %d, %q; from answers: %d, %d, %q", fast.Cases, fast.Score, fast.Overall, full.Cases, full.Score, full.Overall)
	}
	for i, q := range full.Questions {
		f := fast.Questions[i]
		if f.ID != q.ID || f.Share != q.Share || f.No != q.No || f.NotApplicable != q.NotApplicable {
			t.Errorf("%s: from counts %+v, from answers %+v", q.ID, f.Share, q.Share)
		}
	}
	for i, s := range full.Standards {
		if fast.Standards[i].Rating != s.Rating {
			t.Errorf("%s: from counts %q, from answers %q", s.ID, fast.Standards[i].Rating, s.Rating)
		}
	}
}
