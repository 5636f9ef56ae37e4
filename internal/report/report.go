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
)

// figure is a question's numbers in the JSON form. Percent is null when no
// case is relevant.
type figure struct {
	Kind          string        `json:"kind,omitempty"`
	Standard      string        `json:"standard,omitempty"`
	KeyQuestion   string        `json:"key_question,omitempty"`
	Yes           int           `json:"yes"`
	No            *int          `json:"no,omitempty"`
	NotApplicable *int          `json:"na,omitempty"`
	Relevant      int           `json:"relevant"`
	Percent       *int          `json:"percent"`
	Band          string        `json:"band,omitempty"`
	Answered      *int          `json:"answered,omitempty"`
	Threshold     int64         `json:"at_least,omitempty"`
	Distribution  map[int64]int `json:"distribution,omitempty"`
}

type standard struct {
	Title         string  `json:"title"`
	Kind          string  `json:"kind"`
	Rating        *string `json:"rating"`
	Points        int     `json:"points"`
	LowestKQ      string  `json:"lowest_key_question,omitempty"`
	LowestPercent *int    `json:"lowest_percent,omitempty"`
	Rationale     string  `json:"rationale,omitempty"`
	Yes           int     `json:"yes"`
	Relevant      int     `json:"relevant"`
	Percent       *int    `json:"percent"`
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
	MaxScore         *int                `json:"max_score"`
	Overall          *string             `json:"overall"`
	Pooled           figure              `json:"pooled"`
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
	d := document{
		InspectionID: r.InspectionID, Inspection: r.InspectionName, Framework: r.FrameworkID, FrameworkVersion: r.FrameworkVersion,
		Rated: r.Rated, AsOfSeq: r.AsOfSeq, GeneratedAt: r.GeneratedAt, Cases: r.Cases,
		KeyQuestions: map[string]figure{}, Questions: map[string]figure{}, Standards: map[string]standard{},
		Pooled: figure{Yes: r.Pooled.Yes, Relevant: r.Pooled.Relevant, Percent: pct(r.Pooled)},
	}
	for _, q := range r.Questions {
		f := figure{Kind: q.Kind, Standard: q.StandardID, KeyQuestion: q.KeyQuestionID, Yes: q.Yes, No: ptr(q.No),
			NotApplicable: ptr(q.NotApplicable), Relevant: q.Relevant, Percent: pct(q.Share), Band: q.Band, Answered: ptr(q.Answered)}
		if q.Type == framework.TypeCount {
			f.No, f.NotApplicable = nil, nil
			f.Threshold, f.Distribution = q.Threshold, q.Distribution
		}
		d.Questions[q.ID] = f
		if q.Kind == framework.QuestionKey {
			d.KeyQuestions[q.ID] = figure{Yes: q.Yes, Relevant: q.Relevant, Percent: pct(q.Share), Band: q.Band}
		}
	}
	for _, s := range r.Standards {
		st := standard{Title: s.Title, Kind: s.Kind, Points: s.Points, Rationale: s.Rationale, Yes: s.Yes, Relevant: s.Relevant, Percent: pct(s.Share)}
		if s.Rating != "" {
			st.Rating = ptr(s.Rating)
		}
		if s.HasLowest {
			st.LowestKQ, st.LowestPercent = s.Lowest, ptr(s.LowestPercent)
		}
		d.Standards[s.ID] = st
		d.StandardOrder = append(d.StandardOrder, s.ID)
	}
	if r.Rated {
		d.Score, d.MaxScore = ptr(r.Score), ptr(r.MaxScore)
		if r.Overall != "" {
			d.Overall = ptr(r.Overall)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

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

// Table writes the report as aligned terminal tables: the ratings grid (or
// per-stage shares), the key questions, then every other question as
// "X out of Y".
func Table(w io.Writer, r *aggregate.Report) error {
	fmt.Fprintf(w, "%s — %s v%d — %d cases — as of change %d, %s\n\n", r.InspectionName, r.FrameworkID, r.FrameworkVersion,
		r.Cases, r.AsOfSeq, r.GeneratedAt.UTC().Format("2006-01-02 15:04 MST"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if r.Rated {
		fmt.Fprintln(w, "Ratings grid")
		fmt.Fprintln(tw, "Standard\tRating\tLowest key question\tPoints")
		for _, s := range r.Standards {
			lowest := ""
			if s.HasLowest {
				lowest = fmt.Sprintf("%s (%d%%)", s.Lowest, s.LowestPercent)
			}
			if s.Kind == framework.KindJudged {
				lowest = "judged"
			}
			pts := ""
			if s.Rating != "" {
				pts = fmt.Sprint(s.Points)
			}
			fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\n", s.ID, s.Title, orDash(s.Rating), lowest, pts)
		}
		tw.Flush()
		fmt.Fprintf(w, "Score %d/%d — overall: %s\n\n", r.Score, r.MaxScore, orDash(r.Overall))
	} else {
		fmt.Fprintln(w, "Share meeting the standard (no ratings in this framework)")
		fmt.Fprintln(tw, "Stage\tYes\tRelevant\t%")
		for _, s := range r.Standards {
			fmt.Fprintf(tw, "%s %s\t%d\t%d\t%s\n", s.ID, s.Title, s.Yes, s.Relevant, percentText(s.Share))
		}
		fmt.Fprintf(tw, "Overall (pooled)\t%d\t%d\t%s\n", r.Pooled.Yes, r.Pooled.Relevant, percentText(r.Pooled))
		tw.Flush()
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "Key questions (% Yes over relevant cases)")
	fmt.Fprintln(tw, "Question\tYes\tRelevant\t%\tBand")
	for _, q := range r.Questions {
		if q.Kind == framework.QuestionKey {
			fmt.Fprintf(tw, "%s %s\t%d\t%d\t%s\t%s\n", q.ID, clip(q.Text, 60), q.Yes, q.Relevant, percentText(q.Share), q.Band)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Prompts and supplementary questions")
	fmt.Fprintln(tw, "Question\tX out of Y\t%")
	for _, q := range r.Questions {
		switch {
		case q.Kind == framework.QuestionKey:
		case q.Type == framework.TypeCount:
			fmt.Fprintf(tw, "%s %s\t%s\t%s\n", q.ID, clip(q.Text, 60), countSummary(q), percentText(q.Share))
		default:
			fmt.Fprintf(tw, "%s %s\t%d out of %d\t%s\n", q.ID, clip(q.Text, 60), q.Yes, q.Relevant, percentText(q.Share))
		}
	}
	return tw.Flush()
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
