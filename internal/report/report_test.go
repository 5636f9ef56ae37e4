package report_test

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files (then review every diff by eye before committing)")

// gwentReport computes the Gwent report with fixed time and change seq, so
// the output is stable.
func gwentReport(t *testing.T) (*aggregate.Report, *framework.Framework) {
	t.Helper()
	return gwentReportJudged(t, true)
}

// gwentReportJudged is gwentReport, without the lead's judged ratings when
// judged is false (the organisational standards then have no rating).
func gwentReportJudged(t *testing.T, judged bool) (*aggregate.Report, *framework.Framework) {
	t.Helper()
	in, pdu := gwentInput(t, judged)
	return aggregate.ComputeWith(pdu, in, aggregate.Options{By: []string{"sentence_type", "sex"}}), pdu
}

// gwentInput is the Gwent sample as a report's input.
func gwentInput(t *testing.T, judged bool) (aggregate.Input, *framework.Framework) {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "gwent-2025")
	read := func(name string) *os.File {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	cs, err := interchange.ReadCases(read("cases.csv"))
	if err != nil {
		t.Fatal(err)
	}
	as, err := interchange.ReadAnswers(read("answers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := interchange.ReadJudgements(read("judgements.csv"))
	if err != nil {
		t.Fatal(err)
	}
	in := aggregate.Input{InspectionID: "gwent", InspectionName: "Gwent PDU 2025", AsOfSeq: 3880,
		GeneratedAt: time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)}
	for _, c := range cs {
		c.Case.Status = framework.CaseSubmitted
		in.Cases = append(in.Cases, c.Case)
	}
	for _, a := range as {
		in.Answers = append(in.Answers, framework.Answer{CaseRef: a.CaseRef, QuestionID: a.QuestionID, Value: a.Value})
	}
	for _, j := range js {
		if !judged {
			break
		}
		in.Judgements = append(in.Judgements, framework.Judgement{StandardID: j.StandardID, Rating: j.Rating, Rationale: j.Rationale})
	}
	return in, builtin(t, "probation-pdu-2023")
}

// builtin returns the built-in framework with the given id (never by its
// place in the sorted list, which a new built-in would shift).
func builtin(tb testing.TB, id string) *framework.Framework {
	tb.Helper()
	fws, _, err := framework.Builtin()
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range fws {
		if f.ID == id {
			return f
		}
	}
	tb.Fatalf("no built-in framework %s", id)
	return nil
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -update, then review the file by eye)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the reviewed golden file at %s\nif the change is intended, run with -update and review the diff", name, firstDiff(got, want))
	}
}

// firstDiff says where got first differs from want: the line number and
// both lines, quoted so that a difference in spaces or control characters
// shows.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	line := func(ls []string, i int) string {
		if i >= len(ls) {
			return "(end of file)"
		}
		return strconv.Quote(ls[i])
	}
	for i := 0; i < len(g) || i < len(w); i++ {
		if i >= len(g) || i >= len(w) || g[i] != w[i] {
			return fmt.Sprintf("line %d:\n  got:  %s\n  want: %s", i+1, line(g, i), line(w, i))
		}
	}
	return "no line (the files are equal)"
}

func TestFirstDiff(t *testing.T) {
	tests := []struct{ got, want, diff string }{
		{"a\nb\nc\n", "a\nB\nc\n", "line 2:\n  got:  \"b\"\n  want: \"B\""},
		{"a\nb \n", "a\nb\n", "line 2:\n  got:  \"b \"\n  want: \"b\""},
		{"a\n", "a\nb\n", "line 2:\n  got:  \"\"\n  want: \"b\""},
		{"a\nb\n", "a\nb", "line 3:\n  got:  \"\"\n  want: (end of file)"},
		{"x\n", "x\n", "no line (the files are equal)"},
	}
	for _, tt := range tests {
		if got := firstDiff([]byte(tt.got), []byte(tt.want)); got != tt.diff {
			t.Errorf("firstDiff(%q, %q) = %q, want %q", tt.got, tt.want, got, tt.diff)
		}
	}
}

func TestTerminal_Golden(t *testing.T) {
	r, _ := gwentReport(t)
	var buf bytes.Buffer
	if err := report.Terminal(&buf, r); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(buf.String(), "\n") {
		if n := len([]rune(line)); n > 100 {
			t.Errorf("line %d is %d columns wide: %q", i+1, n, line)
		}
	}
	golden(t, "gwent.txt", buf.Bytes())
}

// The JSON form (docs/report-json.md) is fixed by a golden file, with a
// pooled unit and an answer that no longer applies so that every field
// report maps from aggregate's types is in it.
func TestJSON_Golden(t *testing.T) {
	r, _ := gwentReport(t)
	r.CaseProgress[0].Unit = "Gwent"
	r.NoLongerApplies = append(r.NoLongerApplies, aggregate.StaleAnswer{CaseRef: r.CaseProgress[0].Ref, QuestionID: "2.3.3f", Value: "yes"})
	var buf bytes.Buffer
	if err := report.JSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "gwent.json", buf.Bytes())
}

func TestCSV_Golden(t *testing.T) {
	r, fw := gwentReport(t)
	dir := t.TempDir()
	if err := report.ExportCSV(dir, r, fw); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ratings_grid.csv", "key_questions.csv", "questions.csv", "sample_profile.csv", "key_questions_by_sentence_type.csv"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name, data)
	}
}

func TestHTML_GoldenAndSelfContained(t *testing.T) {
	r, fw := gwentReport(t)
	var buf bytes.Buffer
	if err := report.ExportHTML(&buf, r, fw); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, banned := range []string{"http://", "https://", "<script", "<link"} {
		if strings.Contains(strings.ReplaceAll(html, `xmlns="http://www.w3.org/2000/svg"`, ""), banned) {
			t.Errorf("the page refers to %q: it must be self-contained", banned)
		}
	}
	for _, want := range []string{"Score 4/21", `class="rating r-inad"`, `class="rating r-good"`, "<svg", `class="band"`, "Requires improvement ≥ 50%", "Inadequate &lt; 50%"} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	golden(t, "gwent.html", buf.Bytes())
}

func TestXLSX_ReadBackCellByCell(t *testing.T) {
	r, fw := gwentReport(t)
	var buf bytes.Buffer
	if err := report.ExportXLSX(&buf, r, fw); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tables := report.Tables(r)
	sheets := f.GetSheetList()
	if len(sheets) != len(tables)+1 || sheets[len(sheets)-1] != "method" {
		t.Fatalf("sheets = %v, want one per table and a method sheet", sheets)
	}
	for _, tb := range tables {
		rows, err := f.GetRows(tb.Name, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		// A title block of four rows, the headings in row 5, the data from row 6.
		if len(rows) != len(tb.Rows)+5 {
			t.Fatalf("sheet %s has %d rows, want %d", tb.Name, len(rows), len(tb.Rows)+5)
		}
		for i, c := range tb.Columns {
			if rows[4][i] != c.Heading() {
				t.Errorf("%s heading %d = %q, want %q", tb.Name, i, rows[4][i], c.Heading())
			}
		}
		for ri, row := range tb.Rows {
			got := rows[ri+5]
			for ci, c := range row {
				cellName, _ := excelize.CoordinatesToCellName(ci+1, ri+6)
				var g string
				if ci < len(got) {
					g = got[ci]
				}
				want := c.Text
				switch {
				case c.Null:
					want = ""
				case c.IsNum && tb.Columns[ci].Kind == report.Percent:
					want = trimFloat(c.Num / 100)
				case c.IsNum:
					want = trimFloat(c.Num)
				}
				if g != want {
					t.Errorf("%s!%s = %q, want %q", tb.Name, cellName, g, want)
				}
				if c.IsNum && !c.Null {
					typ, _ := f.GetCellType(tb.Name, cellName)
					if typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
						t.Errorf("%s!%s is stored as text, want a number", tb.Name, cellName)
					}
				}
			}
		}
		if panes, err := f.GetPanes(tb.Name); err != nil || !panes.Freeze || panes.YSplit != 5 {
			t.Errorf("%s: header row not frozen (%+v, %v)", tb.Name, panes, err)
		}
	}
	// Percentages carry a percent format: 2.1.1's 72% is 0.72 shown as 72%.
	style, _ := f.GetCellStyle("key_questions", "F6")
	st, _ := f.GetStyle(style)
	if st == nil || st.NumFmt != 9 {
		t.Errorf("key_questions!F6 style = %+v, want the 0%% number format", st)
	}
	if v, _ := f.GetCellValue("key_questions", "F6"); v != "72%" {
		t.Errorf("key_questions!F6 shows %q, want 72%%", v)
	}
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func TestUnratedFrameworkNeverPrintsARating(t *testing.T) {
	pp := builtin(t, "probation-public-protection-2025")
	in := aggregate.Input{InspectionName: "South West public protection", GeneratedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Cases: []framework.Case{
			{Ref: "A", Attributes: map[string]string{"contact_suspended": "false", "mappa": "none"}},
			{Ref: "B", Attributes: map[string]string{"contact_suspended": "true", "mappa": "2"}},
		},
		Answers: []framework.Answer{{CaseRef: "A", QuestionID: "C1", Value: "yes"}, {CaseRef: "B", QuestionID: "A1", Value: "no"},
			{CaseRef: "A", QuestionID: "C3", Value: "no"}}}
	r := aggregate.Compute(pp, in)
	var term, page, js bytes.Buffer
	if err := report.Terminal(&term, r); err != nil {
		t.Fatal(err)
	}
	if err := report.ExportHTML(&page, r, pp); err != nil {
		t.Fatal(err)
	}
	if err := report.JSON(&js, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"terminal": term.String(), "html": page.String(), "json": js.String()} {
		for _, banned := range []string{"Outstanding", "Good", "Requires improvement", "Inadequate", "Score", "Ratings grid"} {
			if strings.Contains(out, banned) {
				t.Errorf("%s output of an unrated framework says %q", name, banned)
			}
		}
	}
	if !regexp.MustCompile(`Overall \(pooled\)\s+1\s+3\s+33%`).MatchString(term.String()) {
		t.Errorf("terminal lacks the pooled share 1 of 3:\n%s", term.String())
	}
}

// BenchmarkReport computes and renders one inspection's full report (60
// cases × 70 questions) from its answers, as the server does per request.
func BenchmarkReport(b *testing.B) {
	pdu := builtin(b, "probation-pdu-2023")
	var in aggregate.Input
	for c := range 60 {
		ref := "C-" + strconv.Itoa(c)
		in.Cases = append(in.Cases, framework.Case{Ref: ref, Inspector: "insp." + strconv.Itoa(c%5), Attributes: map[string]string{
			"sentence_type": []string{"community", "licence"}[c%2], "sex": "male", "age_band": "26-39", "ethnicity": "white",
			"rosh": "medium", "mappa": "none", "pdu": "X", "contact_suspended": "false"}})
		for i, q := range pdu.Questions() {
			v := []string{"yes", "no", "na"}[(c+i)%3]
			if q.Type == framework.TypeCount {
				v = strconv.Itoa(1 + c%4)
			}
			in.Answers = append(in.Answers, framework.Answer{CaseRef: ref, QuestionID: q.ID, Value: v})
		}
	}
	b.ResetTimer()
	for b.Loop() {
		r := aggregate.ComputeWith(pdu, in, aggregate.Options{By: []string{"sentence_type"}})
		if err := report.JSON(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

// The terminal shows an interval's ends rounded as the bands see them
// (half up, framework.RoundHalfUp), so "64.5" shows 65 like a share would;
// fmt's %.0f would show 64 (half to even).
func TestTerminal_IntervalEndsRoundHalfUp(t *testing.T) {
	r, _ := gwentReport(t)
	for i := range r.Questions {
		if r.Questions[i].ID == "2.1.1" {
			r.Questions[i].Interval = &aggregate.Interval{Low: 64.5, High: 80.5}
		}
	}
	var out bytes.Buffer
	if err := report.Terminal(&out, r); err != nil {
		t.Fatal(err)
	}
	line := ""
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "2.1.1 ") && line == "" {
			line = l // the key-questions table (breakdowns follow)
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(line), "65–81%") {
		t.Errorf("2.1.1's line is %q, want its interval shown as 65–81%%", line)
	}
}
