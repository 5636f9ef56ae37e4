package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// The XLSX annexe's layout, the same on every table's sheet: a title block
// (the inspection, the table's title, the framework and as-of line, and
// the local-copy note or an empty row), the column headings, then the data.
// Every sheet prints on A4 landscape, one page wide and as many tall as it
// needs, with the heading row repeated at the top of every page.
const (
	xlsxHeaderRow = 5 // the row of column headings
	xlsxFirstData = xlsxHeaderRow + 1

	// Column widths are in Excel's units, a digit of the workbook's font
	// (6.1 pt in Arial 11). One A4 landscape page (0.5" margins) holds
	// about 125 at 100%: fit-to-width shrinks a wider sheet to one page.
	wideText   = 60.0 // question text, titles: wrapped beyond this
	narrowText = 30.0 // ids, bands, attribute values: wrapped beyond this
	minWidth   = 7.0
	methodCols = 120.0   // within one page at 100%: a single column is never shrunk to fit
	fontName   = "Arial" // Liberation Sans in LibreOffice, the same widths
	a4Paper    = 9       // ECMA-376 paperSize
)

// xlsxStyles are the workbook's cell styles.
type xlsxStyles struct {
	title, subtitle, meta, local, header, numHeader, text, int, pct, dec1 int
}

func newXLSXStyles(f *excelize.File) (xlsxStyles, error) {
	var s xlsxStyles
	rule := []excelize.Border{{Type: "bottom", Color: "C9C9C9", Style: 1}}
	top := &excelize.Alignment{Vertical: "top", WrapText: true}
	for _, d := range []struct {
		id    *int
		style excelize.Style
	}{
		{&s.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 14, Family: fontName}, Alignment: top}},
		{&s.subtitle, excelize.Style{Font: &excelize.Font{Bold: true, Size: 12, Family: fontName}, Alignment: top}},
		{&s.meta, excelize.Style{Font: &excelize.Font{Color: "555555", Family: fontName}, Alignment: top}},
		{&s.local, excelize.Style{Font: &excelize.Font{Bold: true, Color: "9C0006", Family: fontName}, Alignment: top}},
		{&s.header, excelize.Style{
			Font:      &excelize.Font{Bold: true, Color: "FFFFFF", Family: fontName},
			Fill:      excelize.Fill{Type: "pattern", Color: []string{"1F4E79"}, Pattern: 1},
			Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "bottom", WrapText: true, Indent: 1},
		}},
		{&s.numHeader, excelize.Style{
			Font:      &excelize.Font{Bold: true, Color: "FFFFFF", Family: fontName},
			Fill:      excelize.Fill{Type: "pattern", Color: []string{"1F4E79"}, Pattern: 1},
			Alignment: &excelize.Alignment{Horizontal: "right", Vertical: "bottom", WrapText: true},
		}},
		{&s.text, excelize.Style{Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "top", WrapText: true, Indent: 1}, Border: rule}},
		{&s.int, excelize.Style{Alignment: &excelize.Alignment{Vertical: "top"}, Border: rule}},
		{&s.pct, excelize.Style{NumFmt: 9, Alignment: &excelize.Alignment{Vertical: "top"}, Border: rule}}, // 0%
		{&s.dec1, excelize.Style{CustomNumFmt: ptr("0.0"), Alignment: &excelize.Alignment{Vertical: "top"}, Border: rule}},
	} {
		id, err := f.NewStyle(&d.style)
		if err != nil {
			return s, err
		}
		*d.id = id
	}
	return s, nil
}

// ExportXLSX writes every table to its own sheet, laid out for print (see
// xlsxHeaderRow): a title block, human headings in a frozen row, widths
// that fit the content with long text wrapped, numbers as numbers and
// percentages as percentages (0.72 shown as 72%), blank where there is no
// figure; a "method" sheet last.
func ExportXLSX(w io.Writer, r *aggregate.Report, fw *framework.Framework) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetDefaultFont(fontName); err != nil {
		return err
	}
	st, err := newXLSXStyles(f)
	if err != nil {
		return err
	}
	tables := Tables(r)
	raw := make([]string, len(tables))
	for i, t := range tables {
		raw[i] = t.Name
	}
	// The method sheet keeps its name; the History sheet name is reserved
	// by Excel.
	sheets := safeNames(raw, maxSheetName, "method", "history")
	block := titleBlock(r, fw)
	for ti, t := range tables {
		name := sheets[ti]
		if ti == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		if err := writeTableSheet(f, st, name, t, block); err != nil {
			return fmt.Errorf("sheet %s: %w", name, err)
		}
	}
	if err := writeMethodSheet(f, st, r, fw, block); err != nil {
		return fmt.Errorf("sheet method: %w", err)
	}
	return f.Write(w)
}

// titleLines is the block above every sheet's table: the inspection, the
// framework and as-of line, and the local-copy note ("" when the report
// is the server's).
type titleLines struct{ inspection, meta, local string }

func titleBlock(r *aggregate.Report, fw *framework.Framework) titleLines {
	name := r.InspectionName
	if len(r.Units) > 0 {
		name += " (" + strings.Join(r.Units, ", ") + ")"
	}
	return titleLines{
		inspection: name,
		meta: fmt.Sprintf("Framework %s version %d (%s) · %s · figures as of change %d, generated %s",
			fw.ID, fw.Version, fw.Title, plural(r.Cases, "case"), r.AsOfSeq, r.GeneratedAt.UTC().Format("2006-01-02 15:04 MST")),
		local: LocalNote(r),
	}
}

// printSetup makes the sheet print on A4 landscape, one page wide and as
// tall as needed, with the rows first..last repeated on every page (none
// when first is 0) and the sheet's name and page number in the footer.
// Settings written into the sheet's opening tags must come before its
// stream writer exists.
func printSetup(f *excelize.File, sheet string, first, last int) error {
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{
		Size: ptr(a4Paper), Orientation: ptr("landscape"), FitToWidth: ptr(1), FitToHeight: ptr(0),
	}); err != nil {
		return err
	}
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: ptr(true)}); err != nil {
		return err
	}
	if err := f.SetPageMargins(sheet, &excelize.PageLayoutMarginsOptions{
		Left: ptr(0.5), Right: ptr(0.5), Top: ptr(0.6), Bottom: ptr(0.7), Header: ptr(0.3), Footer: ptr(0.3),
	}); err != nil {
		return err
	}
	// No text people typed goes in the footer: &A is the sheet's name.
	if err := f.SetHeaderFooter(sheet, &excelize.HeaderFooterOptions{OddFooter: "&L&A&RPage &P of &N"}); err != nil {
		return err
	}
	if first == 0 {
		return nil
	}
	return f.SetDefinedName(&excelize.DefinedName{
		Name: "_xlnm.Print_Titles", Scope: sheet, RefersTo: fmt.Sprintf("'%s'!$%d:$%d", sheet, first, last),
	})
}

func writeTableSheet(f *excelize.File, st xlsxStyles, name string, t Table, block titleLines) error {
	if err := printSetup(f, name, xlsxHeaderRow, xlsxHeaderRow); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	widths := columnWidths(t)
	// Widths are set from the last column to the first: excelize (2.10)
	// puts each new <col> before the ones it has, and Excel repairs a file
	// whose <col> elements are not in ascending order.
	for i := len(widths) - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, widths[i]); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: xlsxHeaderRow,
		TopLeftCell: "A" + strconv.Itoa(xlsxFirstData), ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	total := 0.0
	for _, w := range widths {
		total += w
	}
	last, _ := excelize.ColumnNumberToName(len(t.Columns))
	for i, line := range []struct {
		text     string
		style    int
		wide, pt float64 // a character's width in units, a line's height
	}{
		{block.inspection, st.title, 1.4, 19}, {t.Title, st.subtitle, 1.2, 16}, {block.meta, st.meta, 1, 15}, {block.local, st.local, 1.1, 15},
	} {
		row := i + 1
		cell := "A" + strconv.Itoa(row)
		opts := []excelize.RowOpts{{Height: wrappedHeight(line.text, total/line.wide, line.pt)}}
		if err := sw.SetRow(cell, []any{excelize.Cell{StyleID: line.style, Value: line.text}}, opts...); err != nil {
			return err
		}
		// Merged across the table, a line wraps within the page instead
		// of running past the last column, where it would not be printed.
		if err := sw.MergeCell(cell, last+strconv.Itoa(row)); err != nil {
			return err
		}
	}
	head := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		style := st.numHeader
		if c.Kind == Text {
			style = st.header
		}
		head[i] = excelize.Cell{StyleID: style, Value: c.Heading()}
	}
	if err := sw.SetRow("A"+strconv.Itoa(xlsxHeaderRow), head, excelize.RowOpts{Height: rowHeight(headings(t), t.Columns, widths, 1.1)}); err != nil {
		return err
	}
	for ri, row := range t.Rows {
		vals := make([]any, len(row))
		for i, c := range row {
			k := t.Columns[i].Kind
			switch {
			case c.Null && k == Text:
				vals[i] = excelize.Cell{StyleID: st.text}
			case c.Null:
				vals[i] = excelize.Cell{StyleID: st.int}
			case c.IsNum && k == Percent:
				vals[i] = excelize.Cell{StyleID: st.pct, Value: c.Num / 100}
			case c.IsNum && k == Decimal:
				vals[i] = excelize.Cell{StyleID: st.dec1, Value: c.Num}
			case c.IsNum:
				vals[i] = excelize.Cell{StyleID: st.int, Value: c.Num}
			default:
				vals[i] = excelize.Cell{StyleID: st.text, Value: c.Text}
			}
		}
		texts := make([]string, len(row))
		for i, c := range row {
			texts[i] = c.Text
		}
		if err := sw.SetRow("A"+strconv.Itoa(xlsxFirstData+ri), vals, excelize.RowOpts{Height: rowHeight(texts, t.Columns, widths, 1)}); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// writeMethodSheet writes the method notes under the same title block,
// one wrapped note a row.
func writeMethodSheet(f *excelize.File, st xlsxStyles, r *aggregate.Report, fw *framework.Framework, block titleLines) error {
	const sheet = "method"
	if _, err := f.NewSheet(sheet); err != nil {
		return err
	}
	if err := printSetup(f, sheet, 0, 0); err != nil {
		return err
	}
	if err := f.SetColWidth(sheet, "A", "A", methodCols); err != nil {
		return err
	}
	type line struct {
		text     string
		style    int
		wide, pt float64 // as in writeTableSheet
	}
	lines := []line{{block.inspection, st.title, 1.4, 19}, {"Method", st.subtitle, 1.2, 16}, {block.meta, st.meta, 1, 15}, {"", st.meta, 1, 15}}
	for _, n := range MethodNotes(r, fw) {
		lines = append(lines, line{n, st.text, 1, linePt})
	}
	for i, l := range lines {
		cell := "A" + strconv.Itoa(i+1)
		if err := f.SetCellStr(sheet, cell, l.text); err != nil {
			return err
		}
		if err := f.SetCellStyle(sheet, cell, cell, l.style); err != nil {
			return err
		}
		if err := f.SetRowHeight(sheet, i+1, wrappedHeight(l.text, (methodCols-textIndent)/l.wide, l.pt)); err != nil {
			return err
		}
	}
	return nil
}

// columnWidths fits each column to its heading and content: a number
// column to its longest figure and the longest word of its heading (which
// wraps); a text column to its longest text, up to wideText for question
// text and titles and narrowText for the rest (and for headings), beyond
// which it wraps. A width fits its text when wrapLines finds it one line.
func columnWidths(t Table) []float64 {
	fits := func(w float64) float64 { return w/0.9 + 1.5 }
	ws := make([]float64, len(t.Columns))
	for i, c := range t.Columns {
		head := 0.0
		for _, word := range strings.Fields(c.Heading()) {
			head = max(head, fits(textWidth(word)*1.1)) // bold
		}
		head = min(head, narrowText) // a longer word (a name people chose) is broken
		content := 0.0
		for _, row := range t.Rows {
			s := row[i].Text
			if c.Kind == Percent {
				s += "%"
			}
			content = max(content, fits(textWidth(s)))
		}
		if c.Kind == Text {
			limit := narrowText
			if wideColumn(c.Name) {
				limit = wideText
			}
			content = min(content+textIndent, limit)
		}
		ws[i] = math.Ceil(max(content, head, minWidth))
	}
	return ws
}

// wrappedHeight is the height in points of a merged row holding text
// wrapped within width (Excel units), at pt points a line: spreadsheet
// programs never grow a merged cell's row to fit.
func wrappedHeight(text string, width, pt float64) float64 {
	return rowLimit(float64(wrapLines(text, width-1))*pt + rowPad)
}

// Spreadsheet programs do not grow a row to its wrapped text when they
// open a file (LibreOffice keeps the default height and draws the lines
// over the next row), so every row's height is set from its tallest cell.
const (
	linePt     = 13.5 // one line of the 11 pt font, with some air
	rowPad     = 3.0
	textIndent = 1.5 // text cells are indented one level, about this wide
)

// rowHeight is the height in points of a row of texts in columns of the
// given widths, each character taken as wide as scale digits.
func rowHeight(texts []string, cols []Column, widths []float64, scale float64) float64 {
	lines := 1
	for i, s := range texts {
		w := widths[i] - 1
		if cols[i].Kind == Text {
			w -= textIndent
		}
		lines = max(lines, wrapLines(s, w/scale))
	}
	return rowLimit(float64(lines)*linePt + rowPad)
}

// rowLimit caps a row's height at the most spreadsheets allow (409 pt):
// a longer text (a written judgement of 8,000 characters) is whole in its
// cell, though the rest of it is not shown.
func rowLimit(h float64) float64 { return min(h, excelize.MaxRowHeight) }

// wrapLines counts the lines text takes when wrapped at spaces within
// capacity digit widths (the unit of column widths), a longer word being
// broken. Characters are measured by textWidth and the capacity taken as
// 90% full, so it errs towards a line too many, never too few.
func wrapLines(text string, capacity float64) int {
	limit := max(1, capacity*0.9)
	space := textWidth(" ")
	lines := 0
	for _, para := range strings.Split(text, "\n") {
		lines++
		used := 0.0
		for _, word := range strings.Fields(para) {
			n := textWidth(word)
			switch {
			case used == 0:
			case used+space+n <= limit:
				used += space + n
				continue
			default:
				lines++
			}
			// A word longer than a line is broken.
			extra := math.Ceil(n/limit) - 1
			lines += int(extra)
			used = n - extra*limit
		}
	}
	return lines
}

// textWidth is the width of s in digit widths of Arial (Liberation Sans
// has the same): its advance widths, in thousandths of an em, over a
// digit's 556. A letter it does not know counts as a capital W, and a
// wide (East Asian) character as two digits.
func textWidth(s string) float64 {
	const digit = 556.0
	w := 0.0
	for _, r := range s {
		switch {
		case r < 0x7f && arialWidths[r] > 0:
			w += float64(arialWidths[r]) / digit
		case r >= 0x1100:
			w += 2
		default:
			w += 944 / digit
		}
	}
	return w
}

// arialWidths are Arial's advance widths of printable ASCII.
var arialWidths = func() [128]int {
	var a [128]int
	set := func(chars string, w int) {
		for _, c := range chars {
			a[c] = w
		}
	}
	set(" !',./:;I[\\]fijlt|", 278)
	set("\"()-`r{}", 333)
	set("*^", 389)
	set("+<=>~", 584)
	set("#$0123456789?L_abdeghnopqu", 556)
	set("Jckszvxy", 500)
	set("&ABEKPSVXY", 667)
	set("FTZ", 611)
	set("CDHNRUw", 722)
	set("GOQ", 778)
	set("%", 889)
	set("Mm", 833)
	set("@", 1015)
	set("W", 944)
	return a
}()

func headings(t Table) []string {
	hs := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		hs[i] = c.Heading()
	}
	return hs
}
