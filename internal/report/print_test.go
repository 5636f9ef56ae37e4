package report_test

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// Page limits for the Gwent sample's annexes (14 sheets; the HTML annexe
// prints everything on one document): enough for what it holds, far from
// the 26 pages of one to five columns the XLSX made before it was laid out
// for print, or a table spread over pages a column at a time.
const (
	gwentXLSXPages = 30
	gwentHTMLPages = 26
)

// Page sizes in points; a PDF's sizes are within a point of them.
var (
	a4Landscape = [2]float64{842, 595}
)

// TestXLSX_ColumnSettingsInOrder reads the sheets' XML as Excel does: the
// <col> elements of a sheet must come in ascending order and not overlap,
// or Excel offers to repair the file.
func TestXLSX_ColumnSettingsInOrder(t *testing.T) {
	r, fw := gwentReport(t)
	var buf bytes.Buffer
	if err := report.ExportXLSX(&buf, r, fw); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	sheets, many := 0, 0
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, "xl/worksheets/sheet") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var ws struct {
			Cols []struct {
				Col []struct {
					Min int `xml:"min,attr"`
					Max int `xml:"max,attr"`
				} `xml:"col"`
			} `xml:"cols"`
		}
		err = xml.NewDecoder(rc).Decode(&ws)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		sheets++
		if len(ws.Cols) != 1 {
			t.Errorf("%s has %d <cols> elements, want 1", f.Name, len(ws.Cols))
			continue
		}
		cols := ws.Cols[0].Col
		if len(cols) > 1 {
			many++
		}
		for i, c := range cols {
			if c.Min < 1 || c.Max < c.Min {
				t.Errorf("%s: <col min=%d max=%d> is not a range", f.Name, c.Min, c.Max)
			}
			if i > 0 && c.Min <= cols[i-1].Max {
				t.Errorf("%s: <col min=%d max=%d> after <col min=%d max=%d>: out of order or overlapping", f.Name, c.Min, c.Max, cols[i-1].Min, cols[i-1].Max)
			}
		}
	}
	if sheets != len(report.Tables(r))+1 || many < sheets-1 {
		t.Errorf("%d sheets, %d with several columns set: the check saw too little", sheets, many)
	}
}

// TestXLSX_LaidOutForPrint checks each table's sheet as a spreadsheet
// program reads it: the title block, human headings in a frozen row that
// repeats on every printed page, A4 landscape one page wide, question
// text wide and wrapped, numbers narrow.
func TestXLSX_LaidOutForPrint(t *testing.T) {
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
	titles := map[string]string{}
	for _, d := range f.GetDefinedName() {
		if d.Name == "_xlnm.Print_Titles" {
			titles[d.Scope] = d.RefersTo
		}
	}
	for _, tb := range report.Tables(r) {
		s := tb.Name
		cell := func(ref string) string { v, _ := f.GetCellValue(s, ref); return v }
		if cell("A1") != "Gwent PDU 2025" || cell("A2") != tb.Title {
			t.Errorf("%s: title block A1 %q, A2 %q; want the inspection and the table's title", s, cell("A1"), cell("A2"))
		}
		if m := cell("A3"); !strings.Contains(m, "probation-pdu-2023 version 1") || !strings.Contains(m, "as of change 3880") || !strings.Contains(m, "2026-01-15 09:30 UTC") {
			t.Errorf("%s: A3 = %q, want the framework with its version and the as-of change and time", s, m)
		}
		lay, err := f.GetPageLayout(s)
		if err != nil || lay.Size == nil || *lay.Size != 9 || lay.Orientation == nil || *lay.Orientation != "landscape" ||
			lay.FitToWidth == nil || *lay.FitToWidth != 1 || lay.FitToHeight == nil || *lay.FitToHeight != 0 {
			t.Errorf("%s: page layout %s, %v; want A4 (9) landscape, 1 page wide, 0 (any) tall", s, layout(lay), err)
		}
		if props, err := f.GetSheetProps(s); err != nil || props.FitToPage == nil || !*props.FitToPage {
			t.Errorf("%s: fit to page not set (%v)", s, err)
		}
		if got, want := titles[s], "'"+s+"'!$5:$5"; got != want {
			t.Errorf("%s: print titles %q, want %q", s, got, want)
		}
		if panes, err := f.GetPanes(s); err != nil || !panes.Freeze || panes.YSplit != 5 || panes.TopLeftCell != "A6" {
			t.Errorf("%s: panes %+v (%v), want frozen below the headings of row 5", s, panes, err)
		}
		for i, c := range tb.Columns {
			ref, _ := excelize.CoordinatesToCellName(i+1, 5)
			col, _ := excelize.ColumnNumberToName(i + 1)
			w, _ := f.GetColWidth(s, col)
			if got := cell(ref); got != c.Heading() || strings.Contains(got, "_") {
				t.Errorf("%s!%s heading %q, want the human heading %q", s, ref, got, c.Heading())
			}
			switch {
			case c.Name == "text" && (w < 45 || w > 60):
				t.Errorf("%s: question text column %s is %.0f wide, want 45–60", s, col, w)
			case c.Kind != report.Text && w > 14:
				t.Errorf("%s: number column %s (%s) is %.0f wide, want narrow", s, col, c.Name, w)
			}
			if c.Name == "text" {
				style, _ := f.GetCellStyle(s, col+"6")
				if st, _ := f.GetStyle(style); st == nil || st.Alignment == nil || !st.Alignment.WrapText {
					t.Errorf("%s!%s6: question text does not wrap", s, col)
				}
			}
		}
	}
	want := map[string][]string{
		"key_questions": {"Question", "Standard", "Question text", "Yes", "Relevant", "% Yes", "Band", "95% CI low", "95% CI high", "Interval crosses a band"},
		"questions":     {"Question", "Kind", "Standard", "Key question", "Question text", "Yes", "No", "Not applicable", "Relevant", "% Yes"},
		"ratings_grid":  {"Standard", "Title", "Kind", "Rating", "Points", "Lowest key question", "Lowest % Yes"},
	}
	for s, heads := range want {
		rows, _ := f.GetRows(s)
		if len(rows) < 5 || !strings.HasPrefix(strings.Join(rows[4], "|"), strings.Join(heads, "|")) {
			t.Errorf("%s headings %q, want %q", s, rows[min(4, len(rows)-1)], heads)
		}
	}
	if lay, _ := f.GetPageLayout("method"); lay.Size == nil || *lay.Size != 9 {
		t.Errorf("method sheet: page layout %s, want A4", layout(lay))
	}
}

func layout(l excelize.PageLayoutOptions) string {
	v := func(p *int) string {
		if p == nil {
			return "unset"
		}
		return strconv.Itoa(*p)
	}
	o := "unset"
	if l.Orientation != nil {
		o = *l.Orientation
	}
	return fmt.Sprintf("size %s %s, fit %s wide %s tall", v(l.Size), o, v(l.FitToWidth), v(l.FitToHeight))
}

// TestXLSX_PrintsOnA4LandscapeWithNothingCut converts the Gwent workbook
// to PDF with LibreOffice, as a reader printing it would: every page A4
// landscape, no more pages than the limit, and every text of every cell
// there whole, which a column too narrow for its text (LibreOffice prints
// "Requires impro") or a row too low for its wrapped lines fails.
func TestXLSX_PrintsOnA4LandscapeWithNothingCut(t *testing.T) {
	bin := tool(t, "soffice", "libreoffice-calc")
	tool(t, "pdfinfo", "poppler-utils")
	r, fw := gwentReport(t)
	var buf bytes.Buffer
	if err := report.ExportXLSX(&buf, r, fw); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "annexe.xlsx")
	if err := os.WriteFile(in, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--convert-to", "pdf", "--outdir", dir, in)
	cmd.Env = append(os.Environ(), "HOME="+dir) // its own profile
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("libreoffice: %v\n%s", err, msg)
	}
	pdf := filepath.Join(dir, "annexe.pdf")
	keepRendering(t, pdf, "annexe-xlsx.pdf")
	pages := pdfPages(t, pdf)
	checkPages(t, "XLSX", pages, a4Landscape, len(report.Tables(r))+1, gwentXLSXPages)
	checkWhole(t, "XLSX", pdfText(t, pdf), r, fw, report.Tables(r))
	checkNoOverlap(t, "XLSX", pdf)
}

// tool is the path of a program the test needs; the test skips, saying
// which package installs it (bash scripts/browsers.sh does), when it is
// missing.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (Debian package %s; bash scripts/browsers.sh installs it): the printed annexe was not checked", name, pkg)
	}
	return bin
}

// keepRendering copies a rendering into $FIELDWORK_RENDER_DIR when set, to
// look at (pdftoppm -png -r 50).
func keepRendering(t *testing.T, path, name string) {
	if out := os.Getenv("FIELDWORK_RENDER_DIR"); out != "" {
		data, _ := os.ReadFile(path)
		os.WriteFile(filepath.Join(out, name), data, 0o644)
	}
}

var pageSize = regexp.MustCompile(`(?m)^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts`)

// pdfPages is each page's size in points, as pdfinfo reads it.
func pdfPages(t *testing.T, pdf string) [][2]float64 {
	t.Helper()
	out, err := exec.Command("pdfinfo", "-f", "1", "-l", "9999", pdf).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	var pages [][2]float64
	for _, m := range pageSize.FindAllStringSubmatch(string(out), -1) {
		w, _ := strconv.ParseFloat(m[2], 64)
		h, _ := strconv.ParseFloat(m[3], 64)
		pages = append(pages, [2]float64{w, h})
	}
	return pages
}

func checkPages(t *testing.T, what string, pages [][2]float64, size [2]float64, least, most int) {
	t.Helper()
	if len(pages) < least || len(pages) > most {
		t.Errorf("%s prints on %d pages, want %d to %d", what, len(pages), least, most)
	}
	for i, p := range pages {
		if abs(p[0]-size[0]) > 1 || abs(p[1]-size[1]) > 1 {
			t.Errorf("%s page %d is %.0f x %.0f pt, want A4 %.0f x %.0f", what, i+1, p[0], p[1], size[0], size[1])
		}
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// pdfText is the PDF's text in the order it was drawn (pdftotext -raw):
// a wrapped cell's lines follow one another, whatever is beside them.
func pdfText(t *testing.T, pdf string) string {
	t.Helper()
	out, err := exec.Command("pdftotext", "-raw", "-enc", "UTF-8", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

var space = regexp.MustCompile(`\s+`)

// normal joins lines: runs of white space become one space, a soft hyphen
// goes and a hyphen ending a line joins the next ("post-\ncustody").
func normal(s string) string {
	s = strings.ReplaceAll(s, "\u00ad", "")
	s = space.ReplaceAllString(s, " ")
	return strings.ReplaceAll(s, "- ", "-")
}

// checkWhole fails for each text of the tables' cells, and each question
// text of the framework, that the printed text holds fewer times than the
// tables do: cut, wrapped out of sight or not printed.
func checkWhole(t *testing.T, what, printed string, r *aggregate.Report, fw *framework.Framework, tables []report.Table) {
	t.Helper()
	text := normal(printed)
	want := map[string]int{}
	for _, tb := range tables {
		for _, row := range tb.Rows {
			for i, c := range row {
				if tb.Columns[i].Kind == report.Text && strings.TrimSpace(c.Text) != "" {
					want[normal(c.Text)]++
				}
			}
		}
	}
	for _, q := range fw.Questions() {
		want[normal(q.Text)] = max(want[normal(q.Text)], 1)
	}
	for _, n := range report.MethodNotes(r, fw) {
		want[normal(n)]++
	}
	bands := 0
	for _, b := range fw.Rating.Bands {
		bands += want[b.Rating]
	}
	if len(want) < len(fw.Questions()) || bands < 10 {
		t.Fatalf("%d texts to look for, %d band words: the check would see too little", len(want), bands)
	}
	for s, n := range want {
		if got := strings.Count(text, s); got < n {
			t.Errorf("%s: %q printed %d times whole, want %d", what, s, got, n)
		}
	}
}

var (
	bboxPage = regexp.MustCompile(`<page width=`)
	bboxWord = regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)
)

// checkNoOverlap fails for words printed over one another: a row too low
// for its wrapped lines draws them over the next row, and a text wider
// than its column runs into the next one. Two words overlap when they
// share more than a quarter of the smaller one's box (pdftotext -bbox).
func checkNoOverlap(t *testing.T, what, pdf string) {
	t.Helper()
	out, err := exec.Command("pdftotext", "-bbox", "-enc", "UTF-8", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext -bbox: %v", err)
	}
	type word struct {
		x0, y0, x1, y1 float64
		text           string
	}
	bad := 0
	for p, chunk := range bboxPage.Split(string(out), -1)[1:] {
		var ws []word
		for _, m := range bboxWord.FindAllStringSubmatch(chunk, -1) {
			var w word
			for i, v := range []*float64{&w.x0, &w.y0, &w.x1, &w.y1} {
				*v, _ = strconv.ParseFloat(m[i+1], 64)
			}
			w.text = m[5]
			ws = append(ws, w)
		}
		for i, a := range ws {
			for _, b := range ws[i+1:] {
				ix := min(a.x1, b.x1) - max(a.x0, b.x0)
				iy := min(a.y1, b.y1) - max(a.y0, b.y0)
				if ix <= 0 || iy <= 0 {
					continue
				}
				small := min((a.x1-a.x0)*(a.y1-a.y0), (b.x1-b.x0)*(b.y1-b.y0))
				if ix*iy > small/4 {
					if bad++; bad <= 10 {
						t.Errorf("%s page %d: %q is printed over %q", what, p+1, a.text, b.text)
					}
				}
			}
		}
	}
	if bad > 10 {
		t.Errorf("%s: %d words printed over others in all", what, bad)
	}
}

// TestXLSX_LongestTextsStillExport writes written judgements and an
// inspection name at their limits: the rows that hold them grow to what a
// spreadsheet allows (409 pt), and every character is in its cell.
func TestXLSX_LongestTextsStillExport(t *testing.T) {
	r, fw := writtenReport(t)
	long := strings.Repeat("evidence ", framework.FieldWrittenText.Max/9)
	r.Written[0].Text = long
	r.InspectionName = strings.Repeat("N", framework.FieldInspectionName.Max)
	var buf bytes.Buffer
	if err := report.ExportXLSX(&buf, r, fw); err != nil {
		t.Fatalf("export with the longest texts: %v", err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows("written")
	found := false
	for i, row := range rows {
		if len(row) == 5 && row[4] == long {
			found = true
			if h, _ := f.GetRowHeight("written", i+1); h < 400 || h > 409 {
				t.Errorf("the row of the longest text is %.0f pt high, want the most a spreadsheet allows", h)
			}
		}
	}
	if !found {
		t.Error("the longest written text is not whole in the written sheet")
	}
}
