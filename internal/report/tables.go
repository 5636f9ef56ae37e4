package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Kind is how a column's values are typed in spreadsheets.
type Kind int

// Column kinds.
const (
	Text    Kind = iota
	Int          // a whole number
	Percent      // a whole percent, written as a fraction in spreadsheets
	Decimal      // a number with one decimal place (interval ends, in percent)
)

// Column is one column of a tidy table. Name is the variable's name, as
// CSV headers and the dataset's tools read it; Label is its heading for
// people, in the XLSX and HTML annexes ("% Yes" for percent).
type Column struct {
	Name  string
	Kind  Kind
	Label string
}

// Heading is the column's label, its name when it has none.
func (c Column) Heading() string {
	if c.Label == "" {
		return c.Name
	}
	return c.Label
}

// Cell is one value; Null marks "no figure" (never zero).
type Cell struct {
	Text  string
	Num   float64
	Null  bool
	IsNum bool
	// Evidence is the query naming the cases behind the figure
	// ("question=2.1.1&value=yes"): the live view links the figure to them.
	Evidence string
}

// behind marks a count cell with the cases behind it: question qid's
// answers with value v ("" for every answer that counts).
func (c Cell) behind(qid, v string) Cell {
	c.Evidence = EvidenceQuery(qid, v)
	return c
}

// behindIf is behind when ok: a figure that has cases to list.
func (c Cell) behindIf(ok bool, qid, v string) Cell {
	if !ok {
		return c
	}
	return c.behind(qid, v)
}

func txt(s string) Cell { return Cell{Text: s} }
func num(n int) Cell    { return Cell{Num: float64(n), IsNum: true, Text: strconv.Itoa(n)} }
func dec(f float64) Cell {
	return Cell{Num: round1(f), IsNum: true, Text: fmt.Sprintf("%.1f", round1(f))}
}
func null() Cell { return Cell{Null: true} }
func pctCell(s aggregate.Share) Cell {
	if !s.HasPercent {
		return null()
	}
	return num(s.Percent)
}

// Table is one tidy table of the data annexe: one row per observation,
// one column per variable.
type Table struct {
	Name    string // file and sheet name
	Title   string
	Columns []Column
	Rows    [][]Cell
}

// Tables returns the data annexe's tables for a report, in publishing
// order. Every export format writes these same tables.
func Tables(r *aggregate.Report) []Table {
	var ts []Table
	if r.Rated {
		t := Table{Name: "ratings_grid", Title: "Ratings grid", Columns: []Column{
			{"standard", Text, "Standard"}, {"title", Text, "Title"}, {"kind", Text, "Kind"}, {"rating", Text, "Rating"}, {"points", Int, "Points"},
			{"lowest_key_question", Text, "Lowest key question"}, {"lowest_percent", Percent, "Lowest % Yes"}, {"sensitive", Text, "Sensitive"},
			{"cases_to_raise", Int, "Cases to raise"}, {"raise_to", Text, "Raise to"}, {"cases_to_lower", Int, "Cases to lower"}, {"lower_to", Text, "Lower to"}}}
		for _, s := range r.Standards {
			row := []Cell{txt(s.ID), txt(s.Title), txt(string(s.Kind)), txt(s.Rating), null(), txt(s.Lowest), null(), txt(""), null(), txt(s.UpTo), null(), txt(s.DownTo)}
			if s.HasPoints {
				row[4] = num(s.Points)
			}
			if s.HasLowest {
				row[6] = num(s.LowestPercent)
			}
			if s.Sensitive {
				row[7] = txt("yes")
			}
			if s.UpTo != "" {
				row[8] = num(s.CasesUp)
			}
			if s.DownTo != "" {
				row[10] = num(s.CasesDown)
			}
			t.Rows = append(t.Rows, row)
		}
		overall := null()
		if r.Overall != "" {
			overall = txt(r.Overall)
		}
		score := null() // no number where there is none: the provisional sum is in the text
		if r.ScoreComplete {
			score = num(r.Score)
		}
		t.Rows = append(t.Rows, []Cell{txt("score"), txt(scoreText(r)), txt(""), overall, score,
			txt(""), null(), txt(""), null(), txt(""), null(), txt("")})
		ts = append(ts, t)
	} else {
		t := Table{Name: "stage_shares", Title: "Share meeting the standard by stage", Columns: []Column{
			{"stage", Text, "Stage"}, {"title", Text, "Title"}, {"yes", Int, "Yes"}, {"relevant", Int, "Relevant"}, {"percent", Percent, "% Yes"}}}
		for _, s := range r.Standards {
			t.Rows = append(t.Rows, []Cell{txt(s.ID), txt(s.Title), num(s.Yes), num(s.Relevant), pctCell(s.Share)})
		}
		t.Rows = append(t.Rows, []Cell{txt("overall"), txt("Overall (pooled over stages)"), num(r.Pooled.Yes), num(r.Pooled.Relevant), pctCell(r.Pooled)})
		ts = append(ts, t)
	}

	kq := Table{Name: "key_questions", Title: "Key questions: % Yes over relevant cases", Columns: []Column{
		{"question", Text, "Question"}, {"standard", Text, "Standard"}, {"text", Text, "Question text"}, {"yes", Int, "Yes"}, {"relevant", Int, "Relevant"}, {"percent", Percent, "% Yes"},
		{"band", Text, "Band"}, {"ci95_low", Decimal, "95% CI low"}, {"ci95_high", Decimal, "95% CI high"}, {"crosses_band", Text, "Interval crosses a band"}}}
	qs := Table{Name: "questions", Title: "Prompts and supplementary questions: X out of Y relevant cases", Columns: []Column{
		{"question", Text, "Question"}, {"kind", Text, "Kind"}, {"standard", Text, "Standard"}, {"key_question", Text, "Key question"}, {"text", Text, "Question text"},
		{"yes", Int, "Yes"}, {"no", Int, "No"}, {"not_applicable", Int, "Not applicable"}, {"relevant", Int, "Relevant"}, {"percent", Percent, "% Yes"}}}
	counts := Table{Name: "count_questions", Title: "Count questions", Columns: []Column{
		{"question", Text, "Question"}, {"text", Text, "Question text"}, {"value", Int, "Value"}, {"cases", Int, "Cases"}}}
	for _, q := range r.Questions {
		switch {
		case q.Kind == framework.QuestionKey:
			row := []Cell{txt(q.ID), txt(q.StandardID), txt(q.Text), num(q.Yes).behind(q.ID, "yes"), num(q.Relevant).behind(q.ID, aggregate.RelevantValue), pctCell(q.Share), txt(q.Band), null(), null(), txt("")}
			if q.Interval != nil {
				row[7], row[8] = dec(q.Interval.Low), dec(q.Interval.High)
				if q.Interval.CrossesBand {
					row[9] = txt("yes")
				}
			}
			kq.Rows = append(kq.Rows, row)
		case q.Type == framework.TypeCount:
			var vals []int64
			for v := range q.Distribution {
				vals = append(vals, v)
			}
			sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
			for _, v := range vals {
				counts.Rows = append(counts.Rows, []Cell{txt(q.ID), txt(q.Text), num(int(v)), num(q.Distribution[v])})
			}
			qs.Rows = append(qs.Rows, []Cell{txt(q.ID), txt(string(q.Kind)), txt(q.StandardID), txt(q.KeyQuestionID),
				txt(countTitle(q)), num(q.Yes).behindIf(q.Threshold > 0, q.ID, aggregate.AtLeastValue), num(q.Relevant - q.Yes), num(q.NotApplicable).behind(q.ID, "na"),
				num(q.Relevant).behindIf(q.Threshold > 0, q.ID, aggregate.RelevantValue), pctCell(q.Share)})
		default:
			qs.Rows = append(qs.Rows, []Cell{txt(q.ID), txt(string(q.Kind)), txt(q.StandardID), txt(q.KeyQuestionID), txt(q.Text),
				num(q.Yes).behind(q.ID, "yes"), num(q.No).behind(q.ID, "no"), num(q.NotApplicable).behind(q.ID, "na"), num(q.Relevant).behind(q.ID, aggregate.RelevantValue), pctCell(q.Share)})
		}
	}
	ts = append(ts, kq, qs)
	if len(counts.Rows) > 0 {
		ts = append(ts, counts)
	}

	prof := Table{Name: "sample_profile", Title: "Case sample profile", Columns: []Column{
		{"attribute", Text, "Attribute"}, {"value", Text, "Value"}, {"cases", Int, "Cases"}, {"percent", Percent, "% of cases"}}}
	for _, p := range r.Profile {
		for _, v := range p.Values {
			prof.Rows = append(prof.Rows, []Cell{txt(p.Attribute), txt(v.Value), num(v.Count), pctCell(aggregate.Share{})})
			if p, ok := framework.Percent(v.Count, r.Cases); ok {
				prof.Rows[len(prof.Rows)-1][3] = num(p)
			}
		}
	}
	ts = append(ts, prof)

	for _, b := range r.Breakdowns {
		by := strings.ToLower(b.Title)
		kq := Table{Name: "key_questions_by_" + b.Attribute, Title: "Key questions by " + by, Columns: []Column{
			{"question", Text, "Question"}, {b.Attribute, Text, b.Title}, {"yes", Int, "Yes"}, {"relevant", Int, "Relevant"}, {"percent", Percent, "% Yes"}}}
		qs := Table{Name: "questions_by_" + b.Attribute, Title: "Prompts and supplementary questions by " + by, Columns: []Column{
			{"question", Text, "Question"}, {"kind", Text, "Kind"}, {b.Attribute, Text, b.Title}, {"yes", Int, "Yes"}, {"relevant", Int, "Relevant"}, {"percent", Percent, "% Yes"}}}
		ss := Table{Name: "standards_by_" + b.Attribute, Title: "Standards' shares and the pooled share by " + by, Columns: []Column{
			{"standard", Text, "Standard"}, {b.Attribute, Text, b.Title}, {"yes", Int, "Yes"}, {"relevant", Int, "Relevant"}, {"percent", Percent, "% Yes"}}}
		for _, row := range b.Rows {
			for i, v := range b.Values {
				c := row.Cells[i]
				switch row.Kind {
				case aggregate.RowKey:
					kq.Rows = append(kq.Rows, []Cell{txt(row.ID), txt(v), num(c.Yes), num(c.Relevant), pctCell(c)})
				case aggregate.RowStandard, aggregate.RowPooled:
					id := row.ID
					if row.Kind == aggregate.RowPooled {
						id = "(pooled)" // no standard id can be it
					}
					ss.Rows = append(ss.Rows, []Cell{txt(id), txt(v), num(c.Yes), num(c.Relevant), pctCell(c)})
				default:
					qs.Rows = append(qs.Rows, []Cell{txt(row.ID), txt(string(row.Kind)), txt(v), num(c.Yes), num(c.Relevant), pctCell(c)})
				}
			}
		}
		ts = append(ts, kq, qs, ss)
	}

	cp := Table{Name: "completeness_cases", Title: "Completeness by case", Columns: []Column{
		{"case_ref", Text, "Case"}, {"inspector", Text, "Inspector"}, {"status", Text, "Status"}, {"answered", Int, "Answered"}, {"required", Int, "Required"}, {"percent", Percent, "% answered"}}}
	for _, c := range r.CaseProgress {
		p, _ := framework.Percent(c.Answered, c.Required)
		cp.Rows = append(cp.Rows, []Cell{txt(c.Ref), txt(c.Inspector), txt(string(c.Status)), num(c.Answered), num(c.Required), num(p)})
	}
	ip := Table{Name: "completeness_inspectors", Title: "Completeness by inspector", Columns: []Column{
		{"inspector", Text, "Inspector"}, {"cases", Int, "Cases"}, {"cases_complete", Int, "Cases complete"}, {"submitted", Int, "Submitted"}, {"answered", Int, "Answered"}, {"required", Int, "Required"}, {"percent", Percent, "% answered"}}}
	for _, i := range r.InspectorProgress {
		p, _ := framework.Percent(i.Answered, i.Required)
		ip.Rows = append(ip.Rows, []Cell{txt(i.Inspector), num(i.Cases), num(i.CasesComplete), num(i.Submitted), num(i.Answered), num(i.Required), num(p)})
	}
	if t, ok := writtenTable(r); ok {
		ts = append(ts, t)
	}
	if t, ok := agreementTable(r); ok {
		ts = append(ts, t)
	}
	return append(ts, cp, ip)
}

// scoreText is the score as every format states it: "Score 4/21", or
// while some rated standard has no rating "Score not yet (provisional
// 3/21)", so that nobody reads the sum so far as the score; and while no
// standard has a rating at all (nothing answered yet, or a pooled report
// whose judged standards are not pooled) no number: "Score: not rated yet
// (0 of 7 standards rated)", which a "0/21" would read as a zero score.
func scoreText(r *aggregate.Report) string {
	if r.ScoreComplete {
		return fmt.Sprintf("Score %d/%d", r.Score, r.MaxScore)
	}
	if rated := ratedStandards(r); rated == 0 {
		return fmt.Sprintf("Score: not rated yet (0 of %d standards rated)", len(r.Standards))
	}
	return fmt.Sprintf("Score not yet (provisional %d/%d)", r.Score, r.MaxScore)
}

// ratedStandards counts the standards that have a rating (and its points).
func ratedStandards(r *aggregate.Report) int {
	n := 0
	for _, s := range r.Standards {
		if s.HasPoints {
			n++
		}
	}
	return n
}

// countTitle is a count question's row title: its text and, when it has
// one, the threshold its share counts.
func countTitle(q aggregate.QuestionFigure) string {
	if q.Threshold == 0 {
		return q.Text
	}
	return fmt.Sprintf("%s (%d or more)", q.Text, q.Threshold)
}
