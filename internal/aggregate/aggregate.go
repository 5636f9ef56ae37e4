// Package aggregate turns a sample's answers into the report's figures:
// yes out of relevant per question, each standard's rating from the
// framework's rating rule, the score and the overall rating. It is pure:
// the same function serves the server and an offline client.
package aggregate

import (
	"slices"
	"sort"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/agreement"
	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Input is everything a report is computed from (framework.Sample: the
// stores read it, this package computes from it).
type Input = framework.Sample

// Share is yes out of relevant (yes + no) with the shown whole percent.
// HasPercent is false when no case is relevant: there is then no figure.
type Share struct {
	Yes        int
	Relevant   int
	Percent    int
	HasPercent bool
}

func share(yes, relevant int) Share {
	p, ok := framework.Percent(yes, relevant)
	return Share{Yes: yes, Relevant: relevant, Percent: p, HasPercent: ok}
}

// QuestionFigure is one question's figures.
type QuestionFigure struct {
	ID, Text                  string
	Kind                      framework.QuestionKind
	Type                      string
	StandardID, KeyQuestionID string
	Share
	No, NotApplicable, Answered int
	// Count questions: the distribution of values, and how many cases are
	// at or above the framework's threshold (Share then counts those).
	Distribution map[int64]int
	Threshold    int64
	// Band is the rating band of the shown percent (key questions, rated frameworks).
	Band string
	// Interval is the 95% Wilson interval of the share (key questions with a figure).
	Interval *Interval
}

// StandardResult is one row of the ratings grid.
type StandardResult struct {
	ID, Title string
	Kind      framework.StandardKind
	// Rating is "" when the standard has no rating yet.
	Rating string
	Points int
	// HasPoints: Points is the rating's points (rated framework, rating
	// given); otherwise there are none, which is not 0.
	HasPoints bool
	// Lowest is the key question that set a case-rated standard's rating.
	Lowest        string
	LowestPercent int
	HasLowest     bool
	Rationale     string
	// Share pools yes and relevant over the standard's key questions (the
	// per-stage share of unrated frameworks).
	Share
	// Sensitive is true when a key question's interval crosses a band
	// boundary: the rating could change with a few cases.
	Sensitive bool
	// CasesUp key-question answers changing No → Yes would raise the rating
	// to UpTo; CasesDown changing Yes → No would lower it to DownTo.
	CasesUp, CasesDown int
	UpTo, DownTo       string
}

// Report is an inspection's computed figures.
type Report struct {
	InspectionID, InspectionName string
	FrameworkID                  string
	FrameworkVersion             int
	Rated                        bool
	AsOfSeq                      int64
	GeneratedAt                  time.Time
	Cases                        int
	Standards                    []StandardResult
	Questions                    []QuestionFigure
	Score, MaxScore              int
	// ScoreComplete: every standard of a rated framework has a rating, so
	// Score is the score; until then it is the provisional sum so far.
	ScoreComplete bool
	// Overall is "" until every rated standard has a rating.
	Overall string
	// Pooled pools every key question (the unrated "overall" share).
	Pooled Share
	// Units are the inspections pooled (empty for one inspection).
	Units             []string
	Profile           []AttributeProfile
	Breakdowns        []Breakdown
	CaseProgress      []CaseProgress
	InspectorProgress []InspectorProgress
	// NoLongerApplies lists the answers left out of every figure because
	// their question no longer applies to the case (framework's
	// Question.Counts), by case and in framework order. Reports from kept
	// counts have no case-level data and leave it empty.
	NoLongerApplies []StaleAnswer
	// Written is the lead's written judgements in report order, numbered,
	// withdrawn ones left out (framework.OrderWritten); empty when pooled.
	Written []framework.WrittenItem
	// Local is set on a report a laptop computed from its own store
	// (client.Offline.Report), never on the server's: every renderer then
	// says it is the local copy. It does not cross the wire.
	Local *LocalCopy
	// Agreement is the agreement figures of second marking, when asked for
	// (docs/agreement.md); AgreementOnly says the report holds nothing else
	// (the caller reads only their own agreement figures).
	Agreement     *agreement.Result
	AgreementOnly bool
	// Frozen is set on the report of a purged inspection: kept as computed
	// when it was purged (docs/retention.md); every renderer says so.
	Frozen *Frozen
}

// Frozen says when a purged inspection's report was frozen.
type Frozen struct {
	PurgedAt time.Time
}

// LocalCopy says what a report computed on a laptop is a copy of.
type LocalCopy struct {
	// LastSync is when the laptop last synced (RFC 3339; "" never): its
	// copy of the server's data is as of then.
	LastSync string
	// Unsynced counts the inspection's edits made on the laptop and not yet
	// acknowledged by the server: in the figures, not yet in the server's.
	Unsynced int
}

// StaleAnswer is an answer whose question no longer applies to its case:
// kept, but counted nowhere until it is changed to na or the case applies
// again.
type StaleAnswer struct {
	CaseRef    string
	QuestionID string
	Value      string
}

// Compute computes the report of a sample under a framework with the
// default options.
func Compute(fw *framework.Framework, in Input) *Report { return ComputeWith(fw, in, Options{}) }

// ComputeWith computes the report of a sample under a framework. Answers to
// cases outside the sample and to unknown questions are ignored.
func ComputeWith(fw *framework.Framework, in Input, opts Options) *Report {
	r := &Report{
		InspectionID:     in.InspectionID,
		InspectionName:   in.InspectionName,
		FrameworkID:      fw.ID,
		FrameworkVersion: fw.Version,
		Rated:            fw.Rated(),
		AsOfSeq:          in.AsOfSeq,
		GeneratedAt:      in.GeneratedAt,
		Cases:            len(in.Cases),
		Units:            in.Units,
		Written:          framework.OrderWritten(fw, in.Written),
	}
	attrsOf := make(map[string]map[string]string, len(in.Cases)) // the sample's cases
	for _, c := range in.Cases {
		attrsOf[c.Ref] = c.Attributes
	}
	type tally struct {
		no, na, answered   int
		shareYes, shareRel int // the share's, by contributes
		dist               map[int64]int
	}
	tallies := map[string]*tally{}
	// add counts n answers of value v to q's tally: the one place answers
	// become a figure, from case-level answers and kept counts alike.
	add := func(q *framework.Question, v framework.Value, n int) {
		t := tallies[q.ID]
		if t == nil {
			t = &tally{}
			tallies[q.ID] = t
		}
		t.answered += n
		yes, rel := contributes(q, v)
		t.shareYes += n * b2i(yes)
		t.shareRel += n * b2i(rel)
		switch {
		case v.No:
			t.no += n
		case v.NA:
			t.na += n
		case v.IsCount:
			if t.dist == nil {
				t.dist = map[int64]int{}
			}
			t.dist[v.Count] += n
		}
	}
	values := caseValues{}
	factsOf := sampleFacts(fw, attrsOf, in.Answers)
	answered := map[string]map[string]string{} // case → question → value, of the answers that count
	for _, a := range in.Answers {
		q, ok := fw.Question(a.QuestionID)
		facts, inSample := factsOf[a.CaseRef]
		if !ok || !inSample {
			continue
		}
		v, err := framework.ParseValue(a.Value)
		if err != nil {
			continue
		}
		if !fw.Counts(q, facts, v) {
			r.NoLongerApplies = append(r.NoLongerApplies, StaleAnswer{CaseRef: a.CaseRef, QuestionID: a.QuestionID, Value: a.Value})
			continue
		}
		add(q, v, 1)
		if answered[a.CaseRef] == nil {
			answered[a.CaseRef] = map[string]string{}
		}
		answered[a.CaseRef][a.QuestionID] = v.String()
		if len(opts.By) > 0 || len(in.Units) > 0 { // only breakdowns need them case by case
			values[q.ID] = append(values[q.ID], caseValue{a.CaseRef, v})
		}
	}
	for qid, values := range in.Counts {
		q, ok := fw.Question(qid)
		if !ok {
			continue
		}
		for raw, n := range values {
			v, err := framework.ParseValue(raw)
			if err != nil || n <= 0 {
				continue
			}
			add(q, v, n)
		}
	}
	if in.Counts != nil {
		r.Cases = in.CaseCount
	}
	sortStale(fw, r.NoLongerApplies)
	figures := map[string]*QuestionFigure{}
	for _, q := range fw.Questions() {
		t := tallies[q.ID]
		if t == nil {
			t = &tally{}
		}
		f := QuestionFigure{
			ID: q.ID, Text: q.Text, Kind: q.Kind, Type: q.Type,
			StandardID: q.StandardID, KeyQuestionID: q.KeyQuestionID,
			No: t.no, NotApplicable: t.na, Answered: t.answered,
			Distribution: t.dist, Threshold: q.Threshold,
		}
		f.Share = share(t.shareYes, t.shareRel) // a count question without a threshold has none (contributes)
		if q.Kind == framework.QuestionKey && fw.Rated() && f.HasPercent {
			f.Band = fw.Rating.Band(f.Percent).Rating
		}
		if q.Kind == framework.QuestionKey && f.HasPercent {
			lo, hi := Wilson(f.Yes, f.Relevant)
			f.Interval = &Interval{Low: lo, High: hi}
			if fw.Rated() {
				f.Interval.CrossesBand = fw.Rating.Crosses(lo, hi)
			}
		}
		r.Questions = append(r.Questions, f)
	}
	for i := range r.Questions {
		figures[r.Questions[i].ID] = &r.Questions[i]
	}

	judged := map[string]framework.Judgement{}
	for _, j := range in.Judgements {
		judged[j.StandardID] = j
	}
	allRated := true
	var poolYes, poolRel int
	for _, s := range fw.Standards() {
		sr := StandardResult{ID: s.ID, Title: s.Title, Kind: s.Kind}
		switch s.Kind {
		case framework.KindJudged:
			if j, ok := judged[s.ID]; ok {
				sr.Rating, sr.Rationale = j.Rating, j.Rationale
			}
		case framework.KindCaseRated:
			var yes, rel int
			figs := make([]framework.KeyFigure, 0, len(s.KeyQuestions))
			for _, kq := range s.KeyQuestions {
				f := figures[kq.ID]
				yes += f.Yes
				rel += f.Relevant
				kf := framework.KeyFigure{QuestionID: kq.ID, Yes: f.Yes, Relevant: f.Relevant}
				if f.Interval != nil {
					kf.Low, kf.High = f.Interval.Low, f.Interval.High
				}
				figs = append(figs, kf)
			}
			sr.Share = share(yes, rel)
			poolYes += yes
			poolRel += rel
			// The standard rule (fw.Rating is nil for an unrated framework,
			// which still shows the lowest key question).
			rs := fw.Rating.RateStandard(figs)
			sr.Rating = rs.Rating
			sr.Lowest, sr.LowestPercent, sr.HasLowest = rs.Lowest, rs.LowestPercent, rs.HasLowest
			sr.Sensitive = rs.Sensitive
			sr.CasesUp, sr.UpTo, sr.CasesDown, sr.DownTo = rs.CasesUp, rs.UpTo, rs.CasesDown, rs.DownTo
		}
		if fw.Rated() {
			if sr.Rating == "" {
				allRated = false
			} else {
				sr.Points, sr.HasPoints = fw.Rating.Points(sr.Rating)
				r.Score += sr.Points
			}
		}
		r.Standards = append(r.Standards, sr)
	}
	r.Pooled = share(poolYes, poolRel)
	if fw.Rated() {
		r.MaxScore = fw.Rating.MaxScore(len(r.Standards))
		r.ScoreComplete = allRated
		if allRated {
			r.Overall, _ = fw.Rating.OverallRating(r.Score)
		}
	}
	var extra []string
	by := opts.By
	if len(in.Units) > 0 {
		extra = []string{UnitAttribute}
		if !slices.Contains(by, UnitAttribute) {
			by = append([]string{UnitAttribute}, by...)
		}
	}
	if in.Counts != nil {
		// No case-level data: the profile and breakdowns come from the kept
		// counts by attribute, and there is no completeness.
		if in.AttributeCases != nil {
			r.Profile = profile(fw, in.Units, extra, func(attr string) map[string]int { return in.AttributeCases[attr] })
		}
		for _, attr := range by {
			if counts, ok := in.ByCounts[attr]; ok {
				r.Breakdowns = append(r.Breakdowns, countsBreakdown(fw, in.Units, attr, in.AttributeCases[attr], counts))
			}
		}
		return r
	}
	r.Profile = profile(fw, in.Units, extra, func(attr string) map[string]int { return casesByValue(in.Cases, attr) })
	for _, attr := range by {
		r.Breakdowns = append(r.Breakdowns, breakdown(fw, in.Units, in.Cases, values, attr))
	}
	r.CaseProgress, r.InspectorProgress = progress(fw, in.Cases, answered)
	return r
}

// sortStale puts answers that no longer apply in case order, each case's
// in framework order.
func sortStale(fw *framework.Framework, stale []StaleAnswer) {
	if len(stale) < 2 {
		return
	}
	pos := map[string]int{}
	for i, q := range fw.Questions() {
		pos[q.ID] = i
	}
	sort.Slice(stale, func(i, j int) bool {
		if stale[i].CaseRef != stale[j].CaseRef {
			return stale[i].CaseRef < stale[j].CaseRef
		}
		return pos[stale[i].QuestionID] < pos[stale[j].QuestionID]
	})
}

// sampleFacts returns the facts each case of the sample is judged on
// (framework.Applies): its attributes and, where the framework has rules on
// answers, its answers to the questions those rules name (only those, so a
// large sample holds no second copy of its answers).
func sampleFacts(fw *framework.Framework, attrsOf map[string]map[string]string, answers []framework.Answer) map[string]framework.Facts {
	out := make(map[string]framework.Facts, len(attrsOf))
	if !fw.AnswerConditions() {
		for ref, attrs := range attrsOf {
			out[ref] = framework.Facts{Attributes: attrs}
		}
		return out
	}
	named := map[string]map[string]string{} // case → referenced question → value
	for _, a := range answers {
		if len(fw.Dependents(a.QuestionID)) == 0 {
			continue
		}
		if named[a.CaseRef] == nil {
			named[a.CaseRef] = map[string]string{}
		}
		named[a.CaseRef][a.QuestionID] = a.Value
	}
	for ref, attrs := range attrsOf {
		out[ref] = framework.CaseFacts(attrs, named[ref])
	}
	return out
}

// progress is completeness per case (applicable questions answered out of
// those required) and per inspector.
func progress(fw *framework.Framework, cases []framework.Case, answered map[string]map[string]string) ([]CaseProgress, []InspectorProgress) {
	var cs []CaseProgress
	byInspector := map[string]*InspectorProgress{}
	var order []string
	for _, c := range cases {
		done, required := fw.Completeness(framework.CaseFacts(c.Attributes, answered[c.Ref]))
		p := CaseProgress{Ref: c.Ref, Unit: c.Attributes[UnitAttribute], Inspector: c.Inspector, Status: c.Status,
			Answered: done, Required: required}
		cs = append(cs, p)
		ip := byInspector[c.Inspector]
		if ip == nil {
			ip = &InspectorProgress{Inspector: c.Inspector}
			byInspector[c.Inspector] = ip
			order = append(order, c.Inspector)
		}
		ip.Cases++
		ip.Answered += p.Answered
		ip.Required += p.Required
		if p.Answered == p.Required {
			ip.CasesComplete++
		}
		switch c.Status {
		case framework.CaseSubmitted, framework.CaseQAChecked, framework.CaseLocked:
			ip.Submitted++
		}
	}
	sort.Strings(order)
	var ins []InspectorProgress
	for _, name := range order {
		ins = append(ins, *byInspector[name])
	}
	return cs, ins
}

// Question returns the figure of one question.
func (r *Report) Question(id string) (QuestionFigure, bool) {
	for _, q := range r.Questions {
		if q.ID == id {
			return q, true
		}
	}
	return QuestionFigure{}, false
}

// Standard returns the ratings-grid row of one standard.
func (r *Report) Standard(id string) (StandardResult, bool) {
	for _, s := range r.Standards {
		if s.ID == id {
			return s, true
		}
	}
	return StandardResult{}, false
}

// countsBreakdown is every figure by the values of attr from the kept
// counts of the cases with each value (attribute value → question → value
// → answers) and the number of cases with each (n): the same columns and
// figures as breakdown computes from the cases and their answers.
func countsBreakdown(fw *framework.Framework, units []string, attr string, n map[string]int, counts map[string]map[string]map[string]int) Breakdown {
	b, col := breakdownColumns(fw, units, attr, n)
	b.Rows = breakdownRows(fw, len(b.Values), func(q *framework.Question, add func(c, yes, rel int)) {
		for attrValue, byQuestion := range counts {
			c, ok := col[attrValue]
			if !ok {
				c = -1 // no case has it: in the whole sample's figure only
			}
			for raw, k := range byQuestion[q.ID] {
				v, err := framework.ParseValue(raw)
				if err != nil || k <= 0 {
					continue
				}
				y, r := contributes(q, v)
				add(c, k*b2i(y), k*b2i(r))
			}
		}
	})
	return b
}
