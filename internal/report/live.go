package report

import (
	"html/template"
	"io"
	"net/url"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Live is how the lead's live view (server/web*.go) has the figures
// drawn: the same ratings grid, chart and tables as the HTML annexe, with
// each count linked to the cases behind it.
type Live struct {
	// Pooled is the live view of several inspections: its figures link to
	// no cases (evidence is each inspection's own page).
	Pooled bool
	// Omit names tables the live view draws elsewhere: its progress
	// section, or pages of their own when they are long.
	Omit map[string]bool
	// Tables is Tables(r) when the caller has drawn them already (the live
	// view pages its long ones): drawing a national view's takes
	// milliseconds, so it is done once a page.
	Tables []Table
}

// Figures writes the figures part of the HTML annexe (ratings grid or
// stage shares, written judgements, the key-question chart, the tables not
// in live.Omit) as a fragment of a page, for the live view.
func Figures(w io.Writer, r *aggregate.Report, fw *framework.Framework, live *Live) error {
	if live == nil {
		live = &Live{}
	}
	return page.ExecuteTemplate(w, "figures", pageData(r, fw, live))
}

// CellText is a cell as every HTML page shows it: "–" for no figure, a
// percent with its sign.
func CellText(c Cell, k Kind) string {
	switch {
	case c.Null:
		return "–"
	case k == Percent:
		return c.Text + "%"
	}
	return c.Text
}

// escapeText escapes text as html/template escapes text and quoted
// attribute values, so that rows drawn by RowsHTML read byte for byte as
// the template drew them.
var escapeText = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// RowsHTML draws a table's rows as every HTML page shows them, a <tr> a
// line (each cell CellText, numbers right-aligned); with links, a cell
// with cases behind it links to them (EvidenceQuery), its id FigureAnchor.
// Drawn here rather than by the template: a national view's tables are
// thousands of cells, and the template took tens of milliseconds on them.
func RowsHTML(t Table, links bool) template.HTML {
	var b strings.Builder
	for _, row := range t.Rows {
		b.WriteString("<tr>")
		for i, c := range row[:min(len(row), len(t.Columns))] {
			k := t.Columns[i].Kind
			if k != Text {
				b.WriteString(`<td class="num">`)
			} else {
				b.WriteString("<td>")
			}
			text := escapeText.Replace(CellText(c, k))
			if links && c.Evidence != "" {
				b.WriteString(`<a href="evidence?` + escapeText.Replace(c.Evidence) + `" id="` + escapeText.Replace(FigureAnchor(c.Evidence)) + `">` + text + "</a>")
			} else {
				b.WriteString(text)
			}
			b.WriteString("</td>")
		}
		b.WriteString("</tr>\n")
	}
	return template.HTML(b.String()) // escaped above
}

// EvidenceQuery is the query naming the cases behind a figure (question
// qid's answers with value v, "" for every answer that counts), as the
// tables' cells carry it (Cell.Evidence).
func EvidenceQuery(qid, v string) string {
	q := url.Values{"question": {qid}}
	if v != "" {
		q.Set("value", v)
	}
	return q.Encode()
}

// FigureAnchor is the id of the live view's link to the cases behind a
// figure (EvidenceQuery's), so that the evidence page can link back to it.
func FigureAnchor(evidenceQuery string) string { return "fig-" + evidenceQuery }

// FiguresCSS is the annexe's style sheet, which the figures are drawn
// with, for a page of the live view to include.
func FiguresCSS() template.CSS {
	var b strings.Builder
	if err := page.ExecuteTemplate(&b, "css", nil); err != nil {
		panic(err) // text only: cannot fail
	}
	return template.CSS(b.String())
}
