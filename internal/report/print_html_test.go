package report_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/fieldworkhq/fieldwork/internal/report"
)

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
