package report_test

import (
	"html/template"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/report"
)

// RowsHTML draws a table's rows as the template drew them before it,
// byte for byte, with or without the links to the cases behind a figure:
// hostile text (markup, quotes, an ampersand, a plus, a NUL) escaped as
// html/template escapes it, in a cell and in a link.
func TestRowsHTML_AsTheTemplateDrewThem(t *testing.T) {
	ref := template.Must(template.New("rows").Funcs(template.FuncMap{
		"evidence": func(q string) template.URL { return template.URL("evidence?" + q) },
		"anchor":   report.FigureAnchor,
		"cell":     report.CellText,
		"isnum":    func(k report.Kind) bool { return k != report.Text },
	}).Parse(`{{$cols := .T.Columns}}{{range .T.Rows}}<tr>{{range $i, $c := .}}{{with index $cols $i}}<td{{if isnum .Kind}} class="num"{{end}}>{{if and $.Links $c.Evidence}}<a href="{{evidence $c.Evidence}}" id="{{anchor $c.Evidence}}">{{cell $c .Kind}}</a>{{else}}{{cell $c .Kind}}{{end}}</td>{{end}}{{end}}</tr>
{{end}}`))
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
