package report_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
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

// TestHTML_PrintsOnA4AndPassesAxe opens the Gwent HTML annexe in
// Chromium: axe-core finds no serious or critical violation, a keyboard
// reaches the figures by the skip link first, the headings go in order;
// printed (the page's own CSS page size) every page is A4 portrait, no more
// pages than the limit, every cell's text whole, no table's heading left
// alone at the foot of a page, and the column headings repeated on the
// pages a table goes on to.
func TestHTML_PrintsOnA4AndPassesAxe(t *testing.T) {
	bin := tool(t, "chromium", "chromium")
	tool(t, "pdfinfo", "poppler-utils")
	r, fw := gwentReport(t)
	var buf bytes.Buffer
	if err := report.ExportHTML(&buf, r, fw); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "annexe.html")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	axe, err := os.ReadFile(filepath.Join("..", "e2e", "testdata", "axe", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := chromium(t, bin)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file)); err != nil {
		t.Fatal(err)
	}
	run := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	violations := run(string(axe) + `;axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
		return r.violations.map(function (v) { return v.impact + " " + v.id + ": " + v.help + " — " + v.nodes.slice(0, 3).map(function (n) { return n.target.join(" "); }).join(" | "); }).join("\n");
	})`)
	for _, v := range strings.Split(violations, "\n") {
		switch {
		case strings.HasPrefix(v, "serious ") || strings.HasPrefix(v, "critical "):
			t.Errorf("axe-core: %s", v)
		case v != "":
			t.Logf("axe-core (minor or moderate): %s", v)
		}
	}
	if h := run(`Array.from(document.querySelectorAll("h1,h2,h3,h4")).map(function (h) { return h.tagName; }).join(" ")`); !headingsInOrder(h) {
		t.Errorf("headings %s: want one h1 first and no level skipped", h)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	if got := run(`document.activeElement.className + " " + document.activeElement.getAttribute("href")`); got != "skip #main" {
		t.Fatalf("the first Tab stops at %q, want the skip link", got)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	if got := run(`document.activeElement.id`); got != "main" {
		t.Errorf("Enter on the skip link moved the focus to %q, want the figures (main)", got)
	}

	// Laid out for print within the A4 page's width (186 mm between the
	// margins), no table or chart is wider: Chromium would shrink every
	// page to fit the widest.
	if err := chromedp.Do(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return chromedp.Void{}, err
	}); err != nil {
		t.Fatal(err)
	}
	if wide := run(`document.body.style.width = "269mm"; (function () {
		var page = document.body.getBoundingClientRect().width, out = [];
		document.querySelectorAll("main > table, main > svg").forEach(function (e) {
			var w = e.getBoundingClientRect().width;
			if (w > page + 1) { out.push((e.previousElementSibling || {}).id + " " + Math.round(w) + "px"); }
		});
		document.body.style.width = "";
		return out.length ? "page " + Math.round(page) + "px; " + out.join(", ") : "";
	})()`); wide != "" {
		t.Errorf("printed, these are wider than the page: %s", wide)
	}

	sections := run(`Array.from(document.querySelectorAll("h2")).map(function (h) { return h.textContent; }).join("\n")`)
	data, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize(), chromedp.PDFPrintBackground()))
	if err != nil {
		t.Fatal(err)
	}
	pdf := filepath.Join(dir, "annexe.pdf")
	if err := os.WriteFile(pdf, data, 0o600); err != nil {
		t.Fatal(err)
	}
	keepRendering(t, pdf, "annexe-html.pdf")
	pages := pdfPages(t, pdf)
	checkPages(t, "HTML", pages, a4Landscape, 2, gwentHTMLPages)
	var tables []report.Table
	for _, tb := range report.Tables(r) {
		if tb.Name != "ratings_grid" && tb.Name != "written" { // the page draws these its own way
			tables = append(tables, tb)
		}
	}
	checkWhole(t, "HTML", pdfText(t, pdf), r, fw, tables)
	checkBreaks(t, pdf, len(pages), tables, strings.Split(sections, "\n"))
	checkNoOverlap(t, "HTML", pdf)
}

// checkBreaks reads the printed annexe page by page: no page ends with a
// section's title (h2; its table or text starting on the next page), and
// a page a table goes on to starts with its column headings.
func checkBreaks(t *testing.T, pdf string, pages int, tables []report.Table, sections []string) {
	t.Helper()
	byTitle := map[string]*report.Table{}
	for i := range tables {
		byTitle[tables[i].Title] = &tables[i]
	}
	isSection := map[string]bool{}
	for _, s := range sections {
		isSection[strings.TrimSpace(s)] = true
	}
	if len(byTitle) < 10 || len(isSection) < len(byTitle) {
		t.Fatalf("%d tables, %d sections: the check would see too little", len(byTitle), len(isSection))
	}
	var open *report.Table // the table the last page ended in
	for p := 1; p <= pages; p++ {
		out, err := exec.Command("pdftotext", "-raw", "-enc", "UTF-8", "-f", strconv.Itoa(p), "-l", strconv.Itoa(p), pdf, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, l := range strings.Split(string(out), "\n") {
			if l = strings.TrimSpace(strings.Trim(l, "\f")); l != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) == 0 {
			continue
		}
		// A title may wrap: up to three lines joined make it.
		title := func(i int) (string, int) {
			joined := lines[i]
			for k := 1; k <= 3 && i+k <= len(lines); k++ {
				if k > 1 {
					joined += " " + lines[i+k-1]
				}
				if isSection[joined] {
					return joined, k
				}
			}
			return "", 0
		}
		if s, _ := title(0); open != nil && s == "" && !strings.HasPrefix(lines[0], open.Columns[0].Heading()) {
			t.Errorf("page %d goes on with %s but starts %q, not its headings", p, open.Name, lines[0])
		}
		for i := range lines {
			s, k := title(i)
			if s == "" {
				continue
			}
			if i+k == len(lines) {
				t.Errorf("page %d ends with the title %q, what it heads on the next page", p, s)
			}
			open = byTitle[s] // the last section begun goes on to the next page, if a table
		}
	}
}

// headingsInOrder is true for h1 first and each heading at most one
// level below the one before.
func headingsInOrder(tags string) bool {
	hs := strings.Fields(tags)
	if len(hs) == 0 || hs[0] != "H1" || strings.Count(tags, "H1") != 1 {
		return false
	}
	for i := 1; i < len(hs); i++ {
		if hs[i][1] > hs[i-1][1]+1 {
			return false
		}
	}
	return true
}

// chromium starts headless Chromium for one test.
func chromium(t *testing.T, bin string) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1100, 1400))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	bctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(cancel3)
	return ctx
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
