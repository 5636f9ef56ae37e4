package report_test

import (
	"html/template"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/fieldworkhq/fieldwork/internal/report"
)

// rowsRef is the template that drew a table's rows before RowsHTML.
var rowsRef = template.Must(template.New("rows").Funcs(template.FuncMap{
	"evidence": func(q string) template.URL { return template.URL("evidence?" + q) },
	"anchor":   report.FigureAnchor,
	"cell":     report.CellText,
	"isnum":    func(k report.Kind) bool { return k != report.Text },
}).Parse(`{{$cols := .T.Columns}}{{range .T.Rows}}<tr>{{range $i, $c := .}}{{with index $cols $i}}<td{{if isnum .Kind}} class="num"{{end}}>{{if and $.Links $c.Evidence}}<a href="{{evidence $c.Evidence}}" id="{{anchor $c.Evidence}}">{{cell $c .Kind}}</a>{{else}}{{cell $c .Kind}}{{end}}</td>{{end}}{{end}}</tr>
{{end}}`))

// RowsHTML draws a table's rows as the template drew them before it,
// byte for byte, with or without the links to the cases behind a figure:
// hostile text (markup, quotes, an ampersand, a plus, a NUL) escaped as
// html/template escapes it, in a cell and in a link.
func TestRowsHTML_AsTheTemplateDrewThem(t *testing.T) {
	ref := rowsRef
	hostile := `<script>alert("x")</script> & 'Gwent' 65+ a` + "\x00" + `b`
	tab := report.Table{Columns: []report.Column{{Name: "unit", Kind: report.Text}, {Name: "yes", Kind: report.Int}, {Name: "percent", Kind: report.Percent}},
		Rows: [][]report.Cell{
			{{Text: hostile}, {Text: "12", Num: 12, IsNum: true, Evidence: "question=2.1.1&value=yes"}, {Text: "57", Num: 57, IsNum: true}},
			{{Text: "PDU 001"}, {Null: true}, {Null: true, Evidence: report.EvidenceQuery("2.1.1", `a"b<c>&d e`)}},
			{},
		}}
	for _, links := range []bool{false, true} {
		var want strings.Builder
		if err := ref.Execute(&want, map[string]any{"T": tab, "Links": links}); err != nil {
			t.Fatal(err)
		}
		if got := string(report.RowsHTML(tab, links)); got != want.String() {
			t.Errorf("links %v:\n got %q\nwant %q", links, got, want.String())
		}
	}
	if got := string(report.RowsHTML(tab, true)); strings.Contains(got, "<script>") || strings.Contains(got, "\x00") {
		t.Errorf("hostile text drawn as markup: %q", got)
	}
}

// hostilePieces are what a unit name, an attribute value or a count
// question's number may hold: markup, entities, quotes, a NUL, a byte
// that is no UTF-8, non-characters html/template leaves alone in text,
// line and paragraph separators, a carriage return, a formula's sign.
var hostilePieces = []string{"<", ">", "&", "\"", "'", "+", "=", "%", "?", "#", "/", " ", "\x00", "\xff", "\xc3", "\r", "\n", "\t",
	"\ufdd0", "\uffff", "\ufffe", "\u2028", "\u2029", "\u200b", "é", "Gwent", "12", "</td>", "<script>", "&amp;", "&#34;", "javascript:", "{{.}}", "\x1b[31m", "`"}

func hostileString(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(8) {
		b.WriteString(hostilePieces[r.IntN(len(hostilePieces))])
	}
	return b.String()
}

// readAsABrowser is what an HTML parser makes of text: a NUL is U+FFFD
// (html/template writes it so; a parser would drop it), a byte that is no
// UTF-8 U+FFFD, a carriage return a line feed.
func readAsABrowser(s string) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", "\uFFFD"), "\uFFFD")
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// RowsHTML and the template it replaced draw the same bytes for thousands
// of random tables of hostile text, cells and links alike, and an HTML
// parser reads back from them one row per row, one cell per column, each
// cell's text as CellText (nothing of it drawn as markup), and each link
// to the cell's evidence query with its figure's anchor.
func TestRowsHTML_HostileTextAsTheTemplateAndABrowserReadIt(t *testing.T) {
	r := rand.New(rand.NewPCG(24, 16))
	kinds := []report.Kind{report.Text, report.Int, report.Percent, report.Decimal}
	for round := range 2000 {
		var tab report.Table
		for range 1 + r.IntN(4) {
			tab.Columns = append(tab.Columns, report.Column{Name: "c", Kind: kinds[r.IntN(len(kinds))]})
		}
		for range r.IntN(4) {
			var row []report.Cell
			for range tab.Columns {
				c := report.Cell{Text: hostileString(r), Null: r.IntN(5) == 0}
				if r.IntN(2) == 0 {
					v := hostileString(r)
					if r.IntN(4) == 0 {
						v = ""
					}
					c.Evidence = report.EvidenceQuery(hostileString(r), v)
				}
				row = append(row, c)
			}
			tab.Rows = append(tab.Rows, row)
		}
		for _, links := range []bool{false, true} {
			var want strings.Builder
			if err := rowsRef.Execute(&want, map[string]any{"T": tab, "Links": links}); err != nil {
				t.Fatal(err)
			}
			got := string(report.RowsHTML(tab, links))
			if got != want.String() {
				t.Fatalf("round %d, links %v:\n got %q\nwant %q", round, links, got, want.String())
			}
			readBack(t, tab, links, got)
		}
	}
}

func readBack(t *testing.T, tab report.Table, links bool, drawn string) {
	t.Helper()
	nodes, err := html.ParseFragment(strings.NewReader(drawn), &html.Node{Type: html.ElementNode, Data: "tbody", DataAtom: atom.Tbody})
	if err != nil {
		t.Fatal(err)
	}
	var trs []*html.Node
	for _, n := range nodes {
		if n.Type == html.ElementNode {
			trs = append(trs, n)
		}
	}
	if len(trs) != len(tab.Rows) {
		t.Fatalf("%d rows read back from %q, want %d", len(trs), drawn, len(tab.Rows))
	}
	for i, tr := range trs {
		var tds []*html.Node
		for c := tr.FirstChild; c != nil; c = c.NextSibling {
			tds = append(tds, c)
		}
		if tr.DataAtom != atom.Tr || len(tds) != len(tab.Columns) {
			t.Fatalf("row %d read back as <%s> of %d cells from %q", i, tr.Data, len(tds), drawn)
		}
		for j, td := range tds {
			c, k := tab.Rows[i][j], tab.Columns[j].Kind
			wantClass := ""
			if k != report.Text {
				wantClass = "num"
			}
			if td.DataAtom != atom.Td || attr(td, "class") != wantClass {
				t.Fatalf("row %d cell %d read back as <%s class=%q> from %q", i, j, td.Data, attr(td, "class"), drawn)
			}
			inner := td
			if links && c.Evidence != "" {
				a := td.FirstChild
				if a == nil || a.DataAtom != atom.A || a.NextSibling != nil || attr(a, "href") != "evidence?"+c.Evidence || attr(a, "id") != report.FigureAnchor(c.Evidence) {
					t.Fatalf("row %d cell %d: want one link to evidence?%s, read back from %q", i, j, c.Evidence, drawn)
				}
				inner = a
			}
			text := ""
			for n := inner.FirstChild; n != nil; n = n.NextSibling {
				if n.Type != html.TextNode {
					t.Fatalf("row %d cell %d: markup <%s> read back from %q", i, j, n.Data, drawn)
				}
				text += n.Data
			}
			if want := readAsABrowser(report.CellText(c, k)); readAsABrowser(text) != want {
				t.Fatalf("row %d cell %d: text %q read back, want %q, from %q", i, j, text, want, drawn)
			}
		}
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
