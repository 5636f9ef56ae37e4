package report_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

type renders struct{ term, html, csv, json string }

func renderAll(t *testing.T, r *aggregate.Report, fw *framework.Framework) renders {
	t.Helper()
	var term, page, js bytes.Buffer
	if err := report.Terminal(&term, r); err != nil {
		t.Fatal(err)
	}
	if err := report.ExportHTML(&page, r, fw); err != nil {
		t.Fatal(err)
	}
	if err := report.JSON(&js, r); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	for _, tb := range report.Tables(r) {
		for _, row := range tb.Rows {
			for _, c := range row {
				csv.WriteString(c.Text + "|")
			}
			csv.WriteString("\n")
		}
	}
	return renders{term.String(), page.String(), csv.String(), js.String()}
}

// A rated framework whose organisational standards the lead has not yet
// judged: those standards have no points (null, never 0), there is no
// score or overall rating yet, and the sum so far is shown only as
// provisional, in every format.
func TestNoNumberWhereThereIsNone_RatedButIncomplete(t *testing.T) {
	r, fw := gwentReportJudged(t, false)
	out := renderAll(t, r, fw)
	var doc struct {
		Standards map[string]struct {
			Rating *string `json:"rating"`
			Points *int    `json:"points"`
		} `json:"standards"`
		Score            *int    `json:"score"`
		ProvisionalScore *int    `json:"provisional_score"`
		MaxScore         *int    `json:"max_score"`
		Overall          *string `json:"overall"`
	}
	if err := json.Unmarshal([]byte(out.json), &doc); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"P1.1", "P1.2", "P1.3"} {
		if s := doc.Standards[id]; s.Rating != nil || s.Points != nil {
			t.Errorf("%s (not judged): rating %v points %v, want both null", id, s.Rating, s.Points)
		}
	}
	if s := doc.Standards["P2.1"]; s.Points == nil || *s.Points != 0 {
		t.Errorf("P2.1 (Inadequate) points = %v, want 0: a rating's own points", s.Points)
	}
	// The case-rated standards are all Inadequate (0 points each).
	if doc.Score != nil || doc.Overall != nil || doc.ProvisionalScore == nil || *doc.ProvisionalScore != 0 || doc.MaxScore == nil || *doc.MaxScore != 21 {
		t.Errorf("score %v provisional %v max %v overall %v; want null, 0, 21, null", doc.Score, doc.ProvisionalScore, doc.MaxScore, doc.Overall)
	}
	if !strings.Contains(out.term, "Score not yet (provisional 0/21) — 3 of 7 standards not rated; overall: not rated") ||
		strings.Contains(out.term, "Score 0/21") || !strings.Contains(out.term, "not rated") {
		t.Errorf("terminal:\n%s", out.term)
	}
	if !strings.Contains(out.html, "Score not yet (provisional 0/21)") || strings.Contains(out.html, "Score 0/21") || !strings.Contains(out.html, ">not rated<") {
		t.Error("the HTML annexe shows a score, or no 'not rated', while standards are unrated")
	}
	if !strings.Contains(out.csv, "score|Score not yet (provisional 0/21)|||||") {
		t.Errorf("the tables' score row gives a number before every standard is rated:\n%s", out.csv)
	}
}

// Once every standard is rated, the score is the score: no provisional one.
func TestNoNumberWhereThereIsNone_RatedAndComplete(t *testing.T) {
	r, fw := gwentReport(t)
	out := renderAll(t, r, fw)
	if !strings.Contains(out.json, `"score": 4,`) || !strings.Contains(out.json, `"provisional_score": null,`) || !strings.Contains(out.term, "Score 4/21 — overall: Requires improvement") {
		t.Errorf("complete report: json score/provisional or terminal score line wrong")
	}
}

// An unrated framework's report has no points, score, maximum or overall
// rating at all: null in JSON, none of them in the other formats.
func TestNoNumberWhereThereIsNone_Unrated(t *testing.T) {
	pp := builtin(t, "probation-public-protection-2025")
	in := aggregate.Input{InspectionName: "South West public protection", GeneratedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Cases:   []framework.Case{{Ref: "A", Attributes: map[string]string{"contact_suspended": "false", "mappa": "none"}}},
		Answers: []framework.Answer{{CaseRef: "A", QuestionID: "C1", Value: "yes"}}}
	r := aggregate.Compute(pp, in)
	var doc map[string]any
	if err := json.Unmarshal([]byte(renderAll(t, r, pp).json), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"score", "provisional_score", "max_score", "overall"} {
		if v, ok := doc[k]; !ok || v != nil {
			t.Errorf("%s = %v (present %v), want null", k, v, ok)
		}
	}
	for id, s := range doc["standards"].(map[string]any) {
		if p, ok := s.(map[string]any)["points"]; !ok || p != nil {
			t.Errorf("stage %s points = %v, want null (an unrated stage is not Inadequate)", id, p)
		}
	}
}

// With every figure asked for, the terminal breaks down the prompts,
// supplementary questions, each standard's share and the pooled share;
// by default it shows the key questions only, as before.
func TestTerminal_BreaksDownEveryFigureWhenAsked(t *testing.T) {
	r, _ := gwentReport(t)
	var def, all bytes.Buffer
	if err := report.Terminal(&def, r); err != nil {
		t.Fatal(err)
	}
	if err := report.TerminalWith(&all, r, report.TerminalOptions{AllFigures: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`Every figure by sentence type`),
		regexp.MustCompile(`(?m)^2\.1\.1a\s+17/31 55%\s+19/26 73%\s+36/57 63%$`),
		regexp.MustCompile(`(?m)^P2\.1 \(standard, pooled over its key questions\)\s+49/93 53%\s+47/78 60%\s+96/171 56%$`),
		regexp.MustCompile(`(?m)^Pooled over every key question\s+174/348 50%\s+172/290 59%\s+346/638 54%$`),
	} {
		if !want.MatchString(all.String()) {
			t.Errorf("every-figure terminal lacks %s", want)
		}
	}
	if !strings.Contains(def.String(), "Key questions by sentence type") || regexp.MustCompile(`(?m)^2\.1\.1a\s+17/31`).MatchString(def.String()) {
		t.Error("the default terminal breaks down prompts")
	}
}

// Before any standard has a rating (nothing answered yet, or a pooled
// report without the judged standards) no format shows a score that reads
// like a zero: "Score: not rated yet (0 of 7 standards rated)", and the
// JSON keeps its rules (score and overall null, the provisional sum 0).
func TestNoNumberWhereThereIsNone_NoStandardRated(t *testing.T) {
	in, pdu := gwentInput(t, false)
	in.Answers = nil
	r := aggregate.Compute(pdu, in)
	out := renderAll(t, r, pdu)
	const want = "Score: not rated yet (0 of 7 standards rated)"
	if !strings.Contains(out.term, want+"; overall: not rated yet") || strings.Contains(out.term, "0/21") {
		t.Errorf("terminal:\n%s\nwant %q and no 0/21", out.term, want)
	}
	if !strings.Contains(out.html, want) || strings.Contains(out.html, "0/21") {
		t.Error("the HTML annexe shows 0/21, or not the 'not rated yet' score, before any standard is rated")
	}
	if !strings.Contains(out.csv, "score|"+want+"|||||") || strings.Contains(out.csv, "0/21") {
		t.Errorf("the tables' score row:\n%s", out.csv)
	}
	for _, f := range []string{`"score": null,`, `"overall": null,`, `"provisional_score": 0,`, `"max_score": 21,`} {
		if !strings.Contains(out.json, f) {
			t.Errorf("json lacks %s", f)
		}
	}
}
