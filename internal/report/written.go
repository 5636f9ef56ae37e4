package report

import (
	"fmt"
	"io"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

// The lead's written judgements in every format: r.Written is already in
// report order and numbered (framework.OrderWritten), withdrawn items left
// out. Text is the lead's own words, so each format neutralises it as it
// does notes: escaped for the terminal (termsafe), formula-quoted in CSV
// (csvCell), escaped by html/template.

// writtenEntry is one item in the JSON report.
type writtenEntry struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Standard  string    `json:"standard,omitempty"`
	Number    int       `json:"number,omitempty"`
	Title     string    `json:"title"`
	Text      string    `json:"text"`
	Revision  int64     `json:"revision"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// writtenDoc is the JSON report's "written" object.
type writtenDoc struct {
	Summary         *writtenEntry  `json:"summary"`
	Findings        []writtenEntry `json:"findings"`
	Recommendations []writtenEntry `json:"recommendations"`
}

// writtenJSON is the report's written object, nil when nothing is written.
func writtenJSON(r *aggregate.Report) *writtenDoc {
	if len(r.Written) == 0 {
		return nil
	}
	d := &writtenDoc{Findings: []writtenEntry{}, Recommendations: []writtenEntry{}}
	for _, it := range r.Written {
		e := writtenEntry{ID: it.ID, Kind: string(it.Kind), Standard: it.StandardID, Number: it.Number, Title: writtenHeading(r, it),
			Text: it.Text, Revision: it.Revision, UpdatedBy: it.UpdatedBy, UpdatedAt: it.UpdatedAt}
		switch it.Kind {
		case framework.WrittenSummary:
			d.Summary = &e
		case framework.WrittenRecommendation:
			d.Recommendations = append(d.Recommendations, e)
		default:
			d.Findings = append(d.Findings, e)
		}
	}
	return d
}

// writtenHeading is how an item is headed in every format: "Chief
// Inspector's judgement", "P1.1 Leadership — Strength", "Recommendation 2".
func writtenHeading(r *aggregate.Report, it framework.WrittenItem) string {
	switch it.Kind {
	case framework.WrittenRecommendation:
		return fmt.Sprintf("Recommendation %d", it.Number)
	case framework.WrittenStrength, framework.WrittenImprovement:
		std := it.StandardID
		for _, s := range r.Standards {
			if s.ID == it.StandardID {
				std += " " + s.Title
			}
		}
		return std + " — " + framework.WrittenTitle(it.Kind, r.Rated)
	}
	return framework.WrittenTitle(it.Kind, r.Rated)
}

// writtenTable is the annexe's "written" table (CSV, XLSX), absent when
// nothing is written.
func writtenTable(r *aggregate.Report) (Table, bool) {
	t := Table{Name: "written", Title: "Written judgements", Columns: []Column{
		{"kind", Text, "Kind"}, {"standard", Text, "Standard"}, {"number", Int, "Number"}, {"title", Text, "Title"}, {"text", Text, "Text"}}}
	for _, it := range r.Written {
		n := null()
		if it.Number > 0 {
			n = num(it.Number)
		}
		t.Rows = append(t.Rows, []Cell{txt(string(it.Kind)), txt(it.StandardID), n, txt(writtenHeading(r, it)), txt(it.Text)})
	}
	return t, len(t.Rows) > 0
}

// terminalWritten prints the written judgements, if any, each heading
// with its text below it, escaped.
func terminalWritten(w io.Writer, r *aggregate.Report) {
	if len(r.Written) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Written judgements")
	for _, it := range r.Written {
		termsafe.Fprintf(w, "%s\n  %s\n", writtenHeading(r, it), it.Text)
	}
}

// htmlWritten is one item as the page shows it.
type htmlWritten struct {
	Heading, Text string
	Summary       bool
}

func writtenHTML(r *aggregate.Report) []htmlWritten {
	var out []htmlWritten
	for _, it := range r.Written {
		out = append(out, htmlWritten{Heading: writtenHeading(r, it), Text: it.Text, Summary: it.Kind == framework.WrittenSummary})
	}
	return out
}
