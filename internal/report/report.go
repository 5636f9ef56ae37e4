// Package report renders a computed report (aggregate.Report) for people
// and programs: aligned terminal tables and stable JSON.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

// figure is a question's numbers in the JSON form. Percent is null when no
// case is relevant.
type figure struct {
	Kind          string         `json:"kind,omitempty"`
	Standard      string         `json:"standard,omitempty"`
	KeyQuestion   string         `json:"key_question,omitempty"`
	Yes           int            `json:"yes"`
	No            *int           `json:"no,omitempty"`
	NotApplicable *int           `json:"na,omitempty"`
	Relevant      int            `json:"relevant"`
	Percent       *int           `json:"percent"`
	Band          string         `json:"band,omitempty"`
	CI95          *[2]float64    `json:"ci95,omitempty"`
	CrossesBand   *bool          `json:"crosses_band,omitempty"` // set wherever ci95 is: false is said, not left out
	Answered      *int           `json:"answered,omitempty"`
	Threshold     *int64         `json:"at_least,omitempty"`
	Distribution  *map[int64]int `json:"distribution,omitempty"` // {} for a count question nobody answered
}

type standard struct {
	Title  string  `json:"title"`
	Kind   string  `json:"kind"`
	Rating *string `json:"rating"`
	Points *int    `json:"points"`
	// The fields of one kind of standard are in every standard of that
	// kind — a case-rated one's lowest key question, sensitivity and cases
	// to move, a judged one's rationale — as null, false or "" when there
	// is nothing to say, never left out (docs/report-json.md); json.RawMessage
	// with omitempty is how a field is null here and absent on the other kind.
	LowestKQ      json.RawMessage `json:"lowest_key_question,omitempty"`
	LowestPercent json.RawMessage `json:"lowest_percent,omitempty"`
	Rationale     *string         `json:"rationale,omitempty"`
	Yes           int             `json:"yes"`
	Relevant      int             `json:"relevant"`
	Percent       *int            `json:"percent"`
	Sensitive     *bool           `json:"sensitive,omitempty"`
	CasesToRaise  json.RawMessage `json:"cases_to_raise,omitempty"`
	RaiseTo       json.RawMessage `json:"raise_to,omitempty"`
	CasesToLower  json.RawMessage `json:"cases_to_lower,omitempty"`
	LowerTo       json.RawMessage `json:"lower_to,omitempty"`
}

// present is v as JSON, null when !ok: a field that belongs to the entry
// whether or not it has a value.
func present(ok bool, v any) json.RawMessage {
	if !ok {
		return json.RawMessage("null")
	}
	b, _ := json.Marshal(v)
	return b
}

type cellJSON struct {
	Yes      int  `json:"yes"`
	Relevant int  `json:"relevant"`
	Percent  *int `json:"percent"`
}

// caseProgress, inspectorProgress and staleAnswer are the JSON form of
// aggregate's CaseProgress, InspectorProgress and StaleAnswer: this package
// alone defines the JSON (docs/report-json.md), so aggregate's types carry
// no tags.
type caseProgress struct {
	Ref       string               `json:"case_ref"`
	Unit      string               `json:"unit,omitempty"`
	Inspector string               `json:"inspector"`
	Status    framework.CaseStatus `json:"status"`
	Answered  int                  `json:"answered"`
	Required  int                  `json:"required"`
}

type inspectorProgress struct {
	Inspector     string `json:"inspector"`
	Cases         int    `json:"cases"`
	Submitted     int    `json:"submitted"`
	Answered      int    `json:"answered"`
	Required      int    `json:"required"`
	CasesComplete int    `json:"cases_complete"`
}

type staleAnswer struct {
	CaseRef    string `json:"case_ref"`
	QuestionID string `json:"question_id"`
	Value      string `json:"value"`
}

type document struct {
	InspectionID     string              `json:"inspection_id"`
	Inspection       string              `json:"inspection"`
	Framework        string              `json:"framework"`
	FrameworkVersion int                 `json:"framework_version"`
	Rated            bool                `json:"rated"`
	AsOfSeq          int64               `json:"as_of_seq"`
	GeneratedAt      time.Time           `json:"generated_at"`
	Cases            int                 `json:"cases"`
	KeyQuestions     map[string]figure   `json:"key_questions"`
	Questions        map[string]figure   `json:"questions"`
	Standards        map[string]standard `json:"standards"`
	StandardOrder    []string            `json:"standard_order"`
	Score            *int                `json:"score"`
	ProvisionalScore *int                `json:"provisional_score"`
	MaxScore         *int                `json:"max_score"`
	Overall          *string             `json:"overall"`
	Pooled           figure              `json:"pooled"`
	Units            []string            `json:"units,omitempty"`
	Profile          map[string][]struct {
		Value string `json:"value"`
		Cases int    `json:"cases"`
	} `json:"profile"`
	Breakdowns   map[string]map[string]map[string]cellJSON `json:"breakdowns"` // {} without --by
	Completeness struct {
		Cases      []caseProgress      `json:"cases"`
		Inspectors []inspectorProgress `json:"inspectors"`
	} `json:"completeness"`
	NoLongerApplies []staleAnswer `json:"no_longer_applies"`
	// Written is the lead's written judgements, absent until one is written.
	Written *writtenDoc `json:"written,omitempty"`
	// Agreement is the agreement figures, absent unless asked for.
	Agreement *agreementDoc `json:"agreement,omitempty"`
	// LocalCopy is null on the server's report; on one a laptop computed
	// from its own store it says so (docs/report-json.md).
	LocalCopy *localCopyDoc `json:"local_copy"`
	// Frozen is null except on a purged inspection's report, kept as it was
	// when purged (docs/retention.md).
	Frozen *frozenDoc `json:"frozen"`
}

type frozenDoc struct {
	PurgedAt string `json:"purged_at"`
}

type localCopyDoc struct {
	LastSync      *string `json:"last_sync"`
	UnsyncedEdits int     `json:"unsynced_edits"`
}

func pct(s aggregate.Share) *int {
	if !s.HasPercent {
		return nil
	}
	p := s.Percent
	return &p
}

func ptr[T any](v T) *T { return &v }

// JSON writes the report as JSON. Field names are stable (docs/report-json.md).
func JSON(w io.Writer, r *aggregate.Report) error {
	if r.AgreementOnly {
		return agreementOnlyJSON(w, r)
	}
	d := document{
		InspectionID: r.InspectionID, Inspection: r.InspectionName, Framework: r.FrameworkID, FrameworkVersion: r.FrameworkVersion,
		Rated: r.Rated, AsOfSeq: r.AsOfSeq, GeneratedAt: r.GeneratedAt, Cases: r.Cases,
		KeyQuestions: map[string]figure{}, Questions: map[string]figure{}, Standards: map[string]standard{},
		Pooled: figure{Yes: r.Pooled.Yes, Relevant: r.Pooled.Relevant, Percent: pct(r.Pooled)},
	}
	for _, q := range r.Questions {
		f := figure{Kind: string(q.Kind), Standard: q.StandardID, KeyQuestion: q.KeyQuestionID, Yes: q.Yes, No: ptr(q.No),
			NotApplicable: ptr(q.NotApplicable), Relevant: q.Relevant, Percent: pct(q.Share), Band: q.Band, Answered: ptr(q.Answered)}
		if q.Type == framework.TypeCount {
			dist := q.Distribution
			if dist == nil {
				dist = map[int64]int{}
			}
			f.No, f.NotApplicable = nil, nil
			f.Threshold, f.Distribution = ptr(q.Threshold), &dist
		}
		if q.Interval != nil {
			f.CI95 = &[2]float64{round1(q.Interval.Low), round1(q.Interval.High)}
			f.CrossesBand = ptr(q.Interval.CrossesBand)
		}
		d.Questions[q.ID] = f
		if q.Kind == framework.QuestionKey {
			d.KeyQuestions[q.ID] = figure{Yes: q.Yes, Relevant: q.Relevant, Percent: pct(q.Share), Band: q.Band, CI95: f.CI95, CrossesBand: f.CrossesBand}
		}
	}
	for _, s := range r.Standards {
		st := standard{Title: s.Title, Kind: string(s.Kind), Yes: s.Yes, Relevant: s.Relevant, Percent: pct(s.Share)}
		if s.Rating != "" {
			st.Rating = ptr(s.Rating)
		}
		if s.HasPoints {
			st.Points = ptr(s.Points)
		}
		switch s.Kind {
		case framework.KindJudged:
			st.Rationale = ptr(s.Rationale)
		case framework.KindCaseRated:
			st.LowestKQ, st.LowestPercent = present(s.HasLowest, s.Lowest), present(s.HasLowest, s.LowestPercent)
			st.Sensitive = ptr(s.Sensitive)
			st.CasesToRaise, st.RaiseTo = present(s.UpTo != "", s.CasesUp), present(s.UpTo != "", s.UpTo)
			st.CasesToLower, st.LowerTo = present(s.DownTo != "", s.CasesDown), present(s.DownTo != "", s.DownTo)
		}
		d.Standards[s.ID] = st
		d.StandardOrder = append(d.StandardOrder, s.ID)
	}
	if r.Rated {
		d.MaxScore = ptr(r.MaxScore)
		if r.ScoreComplete {
			d.Score = ptr(r.Score)
		} else {
			d.ProvisionalScore = ptr(r.Score)
		}
		if r.Overall != "" {
			d.Overall = ptr(r.Overall)
		}
	}
	d.Units = r.Units
	d.Profile = map[string][]struct {
		Value string `json:"value"`
		Cases int    `json:"cases"`
	}{}
	for _, p := range r.Profile {
		for _, v := range p.Values {
			d.Profile[p.Attribute] = append(d.Profile[p.Attribute], struct {
				Value string `json:"value"`
				Cases int    `json:"cases"`
			}{v.Value, v.Count})
		}
	}
	d.Breakdowns = map[string]map[string]map[string]cellJSON{}
	for _, b := range r.Breakdowns {
		byQ := map[string]map[string]cellJSON{}
		for _, row := range b.Rows {
			cells := map[string]cellJSON{}
			for i, v := range b.Values {
				c := row.Cells[i]
				cells[v] = cellJSON{Yes: c.Yes, Relevant: c.Relevant, Percent: pct(c)}
			}
			byQ[row.ID] = cells
		}
		d.Breakdowns[b.Attribute] = byQ
	}
	// Empty lists are [] (never null), as docs/report-json.md says.
	d.Completeness.Cases = make([]caseProgress, 0, len(r.CaseProgress))
	for _, c := range r.CaseProgress {
		d.Completeness.Cases = append(d.Completeness.Cases, caseProgress(c))
	}
	d.Completeness.Inspectors = make([]inspectorProgress, 0, len(r.InspectorProgress))
	for _, i := range r.InspectorProgress {
		d.Completeness.Inspectors = append(d.Completeness.Inspectors, inspectorProgress(i))
	}
	d.NoLongerApplies = make([]staleAnswer, 0, len(r.NoLongerApplies))
	for _, a := range r.NoLongerApplies {
		d.NoLongerApplies = append(d.NoLongerApplies, staleAnswer(a))
	}
	d.Written = writtenJSON(r)
	d.Agreement = agreementJSON(r)
	if r.Local != nil {
		d.LocalCopy = &localCopyDoc{UnsyncedEdits: r.Local.Unsynced}
		if r.Local.LastSync != "" {
			d.LocalCopy.LastSync = ptr(r.Local.LastSync)
		}
	}
	if r.Frozen != nil {
		d.Frozen = &frozenDoc{PurgedAt: r.Frozen.PurgedAt.UTC().Format(time.RFC3339)}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// round1 is a figure to one decimal, half up as every figure is rounded
// (framework.RoundHalfUp): JSON, CSV and XLSX show the same digits.
func round1(f float64) float64 { return float64(framework.RoundHalfUp(f*10)) / 10 }

func percentText(s aggregate.Share) string {
	if !s.HasPercent {
		return "–"
	}
	return fmt.Sprintf("%d%%", s.Percent)
}

func orDash(s string) string {
	if s == "" {
		return "not yet rated"
	}
	return s
}

// Terminal writes the report as aligned terminal tables, readable at 100
// columns: the ratings grid (or per-stage shares), the key questions with
// their uncertainty, every other question as "X out of Y", the sample
// profile, breakdowns (of the key questions) and completeness.
func Terminal(w io.Writer, r *aggregate.Report) error {
	return TerminalWith(w, r, TerminalOptions{})
}

// TerminalOptions choose what the terminal report shows beyond its default.
type TerminalOptions struct {
	// AllFigures breaks down every figure, not only the key questions:
	// prompts, supplementary questions, each standard's share and the
	// pooled share.
	AllFigures bool
}

// rowLabel names a breakdown row: its id, with what a standard's or the
// pooled row is.
func rowLabel(row aggregate.BreakdownRow) string {
	switch row.Kind {
	case aggregate.RowStandard:
		return row.ID + " (standard, pooled over its key questions)"
	case aggregate.RowPooled:
		return "Pooled over every key question"
	}
	return row.ID
}

// TerminalWith is Terminal with options.
func TerminalWith(w io.Writer, r *aggregate.Report, opts TerminalOptions) error {
	if r.AgreementOnly {
		return terminalAgreementOnly(w, r)
	}
	name := r.InspectionName
	if len(r.Units) > 0 {
		name += " (" + strings.Join(r.Units, ", ") + ")"
	}
	termsafe.Fprintf(w, "%s — %s v%d — %d cases — as of change %d, %s\n", name, r.FrameworkID, r.FrameworkVersion,
		r.Cases, r.AsOfSeq, r.GeneratedAt.UTC().Format("2006-01-02 15:04 MST"))
	if note := LocalNote(r); note != "" {
		fmt.Fprintln(w, note)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if r.Rated {
		fmt.Fprintln(w, "Ratings grid")
		fmt.Fprintln(tw, "Standard\tRating\tLowest key question\tPoints\tCases to move")
		for _, s := range r.Standards {
			lowest := ""
			if s.HasLowest {
				lowest = fmt.Sprintf("%s (%d%%)", s.Lowest, s.LowestPercent)
			}
			if s.Kind == framework.KindJudged {
				lowest = "judged"
			}
			pts := "not rated"
			if s.HasPoints {
				pts = fmt.Sprint(s.Points)
			}
			var move []string
			if s.UpTo != "" {
				move = append(move, fmt.Sprintf("+%d up", s.CasesUp))
			}
			if s.DownTo != "" {
				move = append(move, fmt.Sprintf("-%d down", s.CasesDown))
			}
			mark := ""
			if s.Sensitive {
				mark = " *"
			}
			termsafe.Fprintf(tw, "%s %s\t%s%s\t%s\t%s\t%s\n", s.ID, clip(s.Title, 28), orDash(s.Rating), mark, lowest, pts, strings.Join(move, ", "))
		}
		tw.Flush()
		fmt.Fprintln(w, scoreLine(r))
		fmt.Fprintln(w, "* the lowest key questions' 95% intervals reach another band: a few cases could change it.")
		fmt.Fprintln(w, "Cases to move: key-question answers that would have to change to move the rating one band.")
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "Share meeting the standard (no ratings in this framework)")
		fmt.Fprintln(tw, "Stage\tYes\tRelevant\t%")
		for _, s := range r.Standards {
			termsafe.Fprintf(tw, "%s %s\t%d\t%d\t%s\n", s.ID, s.Title, s.Yes, s.Relevant, percentText(s.Share))
		}
		termsafe.Fprintf(tw, "Overall (pooled)\t%d\t%d\t%s\n", r.Pooled.Yes, r.Pooled.Relevant, percentText(r.Pooled))
		tw.Flush()
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "Key questions (% Yes over relevant cases)")
	fmt.Fprintln(tw, "Question\tYes\tRelevant\t%\tBand\t95% interval")
	for _, q := range r.Questions {
		if q.Kind != framework.QuestionKey {
			continue
		}
		ci := ""
		if q.Interval != nil {
			// The shown ends are the ones CrossesBand compares.
			ci = fmt.Sprintf("%d–%d%%", framework.RoundHalfUp(q.Interval.Low), framework.RoundHalfUp(q.Interval.High))
			if q.Interval.CrossesBand {
				ci += " *"
			}
		}
		termsafe.Fprintf(tw, "%s %s\t%d\t%d\t%s\t%s\t%s\n", q.ID, clip(q.Text, 44), q.Yes, q.Relevant, percentText(q.Share), q.Band, ci)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Prompts and supplementary questions")
	fmt.Fprintln(tw, "Question\tX out of Y\t%")
	var counts []aggregate.QuestionFigure
	for _, q := range r.Questions {
		switch {
		case q.Kind == framework.QuestionKey:
		case q.Type == framework.TypeCount:
			counts = append(counts, q)
		default:
			termsafe.Fprintf(tw, "%s %s\t%d out of %d\t%s\n", q.ID, clip(q.Text, 62), q.Yes, q.Relevant, percentText(q.Share))
		}
	}
	tw.Flush()
	for _, q := range counts {
		termsafe.Fprintf(w, "%s %s\n    %s (%s)\n", q.ID, clip(q.Text, 90), countSummary(q), percentText(q.Share))
	}
	if len(r.Profile) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Sample profile (cases)")
		for _, p := range r.Profile {
			var parts []string
			for _, v := range p.Values {
				if v.Count > 0 {
					parts = append(parts, fmt.Sprintf("%s %d", v.Value, v.Count))
				}
			}
			termsafe.Fprintf(tw, "%s\t%s\n", p.Title, strings.Join(parts, ", "))
		}
		tw.Flush()
	}
	for _, b := range r.Breakdowns {
		fmt.Fprintln(w)
		what := "Key questions"
		if opts.AllFigures {
			what = "Every figure"
		}
		termsafe.Fprintf(w, "%s by %s (yes/relevant, %%)\n", what, strings.ToLower(b.Title))
		head := "Question"
		if opts.AllFigures {
			head = "Figure"
		}
		for _, v := range b.Values {
			head += "\t" + termsafe.String(v)
		}
		fmt.Fprintln(tw, head+"\tall")
		for _, row := range b.Rows {
			if row.Kind != aggregate.RowKey && !opts.AllFigures {
				continue
			}
			line := termsafe.String(rowLabel(row))
			for _, c := range row.Cells {
				line += "\t" + cellText(c)
			}
			fmt.Fprintln(tw, line+"\t"+cellText(row.All))
		}
		tw.Flush()
	}
	if len(r.InspectorProgress) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Completeness (applicable questions answered)")
		fmt.Fprintln(tw, "Inspector\tCases\tComplete\tSubmitted\tAnswered")
		for _, i := range r.InspectorProgress {
			p, _ := framework.Percent(i.Answered, i.Required)
			termsafe.Fprintf(tw, "%s\t%d\t%d\t%d\t%d/%d (%d%%)\n", i.Inspector, i.Cases, i.CasesComplete, i.Submitted, i.Answered, i.Required, p)
		}
		tw.Flush()
		var incomplete []string
		for _, c := range r.CaseProgress {
			if c.Answered < c.Required {
				incomplete = append(incomplete, fmt.Sprintf("%s %d/%d", c.Ref, c.Answered, c.Required))
			}
		}
		if len(incomplete) > 0 {
			termsafe.Fprintf(w, "Incomplete cases: %s\n", strings.Join(incomplete, ", "))
		}
	}
	if len(r.NoLongerApplies) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "No longer applies: %d answer(s) to questions that no longer apply to their case, counted in no figure\n", len(r.NoLongerApplies))
		fmt.Fprintln(w, "(the case's attributes changed after they were given; answer na, or correct the case, to clear them)")
		fmt.Fprintln(tw, "Case\tQuestion\tAnswer")
		for _, a := range r.NoLongerApplies {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", a.CaseRef, a.QuestionID, a.Value)
		}
		tw.Flush()
	}
	terminalWritten(w, r)
	terminalAgreement(w, r)
	return nil
}

func cellText(s aggregate.Share) string {
	if !s.HasPercent {
		return "–"
	}
	return fmt.Sprintf("%d/%d %d%%", s.Yes, s.Relevant, s.Percent)
}

func countSummary(q aggregate.QuestionFigure) string {
	var vals []int64
	for v := range q.Distribution {
		vals = append(vals, v)
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	var parts []string
	for _, v := range vals {
		parts = append(parts, fmt.Sprintf("%d:%d", v, q.Distribution[v]))
	}
	s := fmt.Sprintf("%d out of %d at %d or more", q.Yes, q.Relevant, q.Threshold)
	if q.Threshold == 0 { // no threshold, no share: the distribution only
		s = fmt.Sprintf("%d answered", q.Answered-q.NotApplicable)
	}
	if len(parts) > 0 {
		s += " [" + strings.Join(parts, " ") + "]"
	}
	return s
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// scoreLine is the terminal's score line: scoreText, with the overall
// rating once there is one, else how many standards still lack a rating.
func scoreLine(r *aggregate.Report) string {
	if r.ScoreComplete {
		return scoreText(r) + " — overall: " + orDash(r.Overall)
	}
	rated := ratedStandards(r)
	if rated == 0 {
		return scoreText(r) + "; overall: not rated yet"
	}
	return fmt.Sprintf("%s — %d of %d standards not rated; overall: not rated", scoreText(r), len(r.Standards)-rated, len(r.Standards))
}

// LocalNote is what every format says of a report a laptop computed from
// its own store ("" for the server's report): that it is the local copy, as
// of when, and how many edits made here and not yet synced it includes.
// Of a purged inspection's frozen report it says that instead (FrozenNote).
func LocalNote(r *aggregate.Report) string {
	if r.Frozen != nil {
		return FrozenNote(r)
	}
	if r.Local == nil {
		return ""
	}
	when := "never synced"
	if t, err := time.Parse(time.RFC3339, r.Local.LastSync); err == nil {
		when = "as of the last sync, " + t.UTC().Format("2006-01-02 15:04 MST")
	}
	return fmt.Sprintf("LOCAL COPY: computed on this laptop from its store (%s), including %s made here and not yet synced; the server's report may differ.",
		when, plural(r.Local.Unsynced, "edit"))
}

// FrozenNote is what every format says of a purged inspection's report:
// kept as computed when its case data was purged (docs/retention.md).
func FrozenNote(r *aggregate.Report) string {
	if r.Frozen == nil {
		return ""
	}
	return fmt.Sprintf("FROZEN REPORT: the case-level data of this published inspection was purged on %s; these are its figures as computed then (as of change %d). Per-case sections are gone.",
		r.Frozen.PurgedAt.UTC().Format("2006-01-02 15:04 MST"), r.AsOfSeq)
}
