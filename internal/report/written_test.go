package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// hostile is written text that would do harm unescaped: a formula, a
// terminal escape and markup.
const hostile = "=HYPERLINK(\"http://x\") \x1b[2J <script>alert(1)</script>"

func writtenReport(t *testing.T) (*aggregate.Report, *framework.Framework) {
	t.Helper()
	in, fw := gwentInput(t, true)
	in.Written = []framework.WrittenItem{
		{ID: "r-old", Kind: framework.WrittenRecommendation, Text: "Withdrawn one", Withdrawn: true, Order: 1},
		{ID: "r-2", Kind: framework.WrittenRecommendation, Text: "Second made", Order: 4},
		{ID: "r-1", Kind: framework.WrittenRecommendation, Text: hostile, Order: 2},
		{ID: "i-1", Kind: framework.WrittenImprovement, StandardID: "P1.1", Text: "Plans thin", Order: 5},
		{ID: "s-1", Kind: framework.WrittenStrength, StandardID: "P1.1", Text: "Vision clear", Order: 6},
		{ID: framework.SummaryItemID, Kind: framework.WrittenSummary, Text: "Requires improvement overall", Order: 3},
	}
	return aggregate.Compute(fw, in), fw
}

func TestWritten_InEveryFormat(t *testing.T) {
	r, fw := writtenReport(t)
	var js bytes.Buffer
	if err := report.JSON(&js, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Written struct {
			Summary         struct{ Title, Text string }
			Findings        []struct{ Kind, Standard, Text string }
			Recommendations []struct {
				Number int
				Text   string
			}
		}
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	w := doc.Written
	if w.Summary.Text != "Requires improvement overall" || w.Summary.Title != "Summary judgement" {
		t.Errorf("summary %+v", w.Summary)
	}
	if len(w.Findings) != 2 || w.Findings[0].Kind != "strength" || w.Findings[1].Kind != "improvement" || w.Findings[0].Standard != "P1.1" {
		t.Errorf("findings %+v: want P1.1's strength, then its improvement", w.Findings)
	}
	if len(w.Recommendations) != 2 || w.Recommendations[0].Number != 1 || w.Recommendations[0].Text != hostile ||
		w.Recommendations[1].Number != 2 || w.Recommendations[1].Text != "Second made" {
		t.Errorf("recommendations %+v: want the two not withdrawn, numbered in order of creation", w.Recommendations)
	}

	var term bytes.Buffer
	if err := report.Terminal(&term, r); err != nil {
		t.Fatal(err)
	}
	out := term.String()
	if strings.Contains(out, "\x1b") {
		t.Error("the terminal report carries a raw escape from written text")
	}
	for _, want := range []string{"Written judgements", "Summary judgement\n  Requires improvement overall", "Recommendation 2\n  Second made", "Area for improvement"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal report lacks %q", want)
		}
	}
	if strings.Contains(out, "Withdrawn one") {
		t.Error("a withdrawn item is in the report")
	}

	dir := filepath.Join(t.TempDir(), "annexe")
	if err := report.ExportCSV(dir, r, fw); err != nil {
		t.Fatal(err)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "written.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(csv), `"'=HYPERLINK(`) || !strings.HasPrefix(string(csv), "kind,standard,number,title,text\n") {
		t.Errorf("written.csv does not neutralise the formula:\n%s", csv)
	}

	var x bytes.Buffer
	if err := report.ExportXLSX(&x, r, fw); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&x)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("written")
	if err != nil || len(rows) != 10 { // title block (4 rows) + headings + summary + 2 findings + 2 recommendations
		t.Errorf("written sheet: %d rows, %v", len(rows), err)
	}

	var h bytes.Buffer
	if err := report.ExportHTML(&h, r, fw); err != nil {
		t.Fatal(err)
	}
	page := h.String()
	if strings.Contains(page, "<script>alert(1)") || !strings.Contains(page, "&lt;script&gt;alert(1)") {
		t.Error("the HTML annexe does not escape written text")
	}
	if !strings.Contains(page, `<h2 id="written">Written judgements</h2>`) || !strings.Contains(page, "P1.1") {
		t.Error("the HTML annexe has no written section")
	}
}
