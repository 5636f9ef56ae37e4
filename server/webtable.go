package server

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// Long tables are drawn in pages of their own. A national pooled view
// breaks every figure down by its 150 units: a page holding them all was
// 1.4 MB (BENCHMARKS.md). The live page lists a long table's pages
// instead; each page is the same rows of the same report.Tables table, in
// the same order, so that together they are the table `fieldwork report`
// writes.

// Variables, not constants, so that a test can draw a small fixture's
// tables in pages (SetTableRows).
var (
	// maxInlineRows is the most rows a table drawn on a live page has.
	maxInlineRows = 200
	// tablePageRows is the rows of one page of a long table.
	tablePageRows = 200
)

// liveTable is one of report.Tables as a live page draws it: whole, or
// (Pages set: what each page holds) as a form to open its pages.
type liveTable struct {
	report.Table
	PageRows int
	Pages    []string
	// View is the query of the view the table belongs to (a pooled
	// view's inspections), sent again with the page asked for.
	View viewQuery
	// Current is the page shown (on a table page), else 0.
	Current int
}

// viewQuery is the query of a view, in order: a pooled view's id and by
// parameters (none for one inspection's page, whose path names it).
type viewQuery [][2]string

func (q viewQuery) String() string {
	var b strings.Builder
	for _, kv := range q {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[0]) + "=" + url.QueryEscape(kv[1]))
	}
	return b.String()
}

// page is the URL of page n of table name of the view.
func (q viewQuery) page(name string, n int) string {
	return "table?" + append(append(viewQuery{}, q...), [2]string{"name", name}, [2]string{"page", strconv.Itoa(n)}).String()
}

// liveTableSet is a report's tables for a live page.
type liveTableSet struct {
	tables []report.Table  // report.Tables, for report.Live.Tables
	all    []liveTable     // every table, in publishing order
	long   []liveTable     // those drawn in pages
	omit   map[string]bool // the long ones, for report.Live.Omit
}

// drawnAbove are the tables the figures draw otherwise (grid, shares,
// written judgements): never long, never paged.
var drawnAbove = map[string]bool{"ratings_grid": true, "stage_shares": true, "written": true}

func liveTables(rep *aggregate.Report, view viewQuery) liveTableSet {
	set := liveTableSet{tables: report.Tables(rep), omit: map[string]bool{}}
	for _, t := range set.tables {
		lt := liveTable{Table: t, PageRows: tablePageRows, View: view}
		if len(t.Rows) > maxInlineRows && !drawnAbove[t.Name] {
			lt.Pages = pageLabels(t)
			set.long = append(set.long, lt)
			set.omit[t.Name] = true
		}
		set.all = append(set.all, lt)
	}
	return set
}

// pageLabels says what each page of t holds: "rows 1–200: 2.1.1a PDU 000
// to 2.1.1b PDU 047".
func pageLabels(t report.Table) []string {
	var out []string
	for lo := 0; lo < len(t.Rows); lo += tablePageRows {
		hi := min(lo+tablePageRows, len(t.Rows))
		out = append(out, fmt.Sprintf("rows %d–%d: %s to %s", lo+1, hi, rowLabel(t, lo), rowLabel(t, hi-1)))
	}
	if len(out) == 0 {
		out = []string{"no rows"}
	}
	return out
}

// rowLabel names a row by its leading text cells ("2.1.1a PDU 003").
func rowLabel(t report.Table, i int) string {
	label := ""
	for j, c := range t.Rows[i] {
		if j >= 2 || t.Columns[j].Kind != report.Text {
			break
		}
		if label != "" {
			label += " "
		}
		label += c.Text
	}
	return label
}

// pagerTmpl is the form that opens a page of a long table: a choice of
// its pages, sent with the view's own query. A form rather than a link per
// page: a national view's query is kilobytes long.
const pagerTmpl = `{{define "pager"}}<form method="get" action="table" class="pager">
{{range .View}}<input type="hidden" name="{{index . 0}}" value="{{index . 1}}">{{end}}<input type="hidden" name="name" value="{{.Name}}">
<p>{{len .Rows}} rows, in {{len .Pages}} pages of {{.PageRows}}.
<label for="page-{{.Name}}">Page</label> <select id="page-{{.Name}}" name="page">{{$cur := .Current}}{{range $i, $l := .Pages}}<option value="{{inc $i}}"{{if eq (inc $i) $cur}} selected{{end}}>{{$l}}</option>{{end}}</select>
<button type="submit">Open</button></p></form>{{end}}`

var tableTmpl = template.Must(webPage(pagerTmpl).Parse(`{{define "main"}}{{with .Body}}<h1>{{.Table.Title}}</h1>
<p>{{.ViewName}} · rows {{.From}}–{{.To}} of {{len .Table.Rows}} · as of change {{.AsOf}}. This page does not update itself: reload it for the latest figures.</p>
{{template "pager" .Table}}
{{if or .Prev .Next}}<p>{{if .Prev}}<a href="{{.Prev}}" rel="prev">Previous page</a>{{end}}{{if and .Prev .Next}} · {{end}}{{if .Next}}<a href="{{.Next}}" rel="next">Next page</a>{{end}}</p>{{end}}
{{template "rows" .Rows}}
{{if .Next}}<p><a href="{{.Next}}">Next page: rows {{.NextFrom}} onwards</a></p>{{end}}{{end}}{{end}}`))

// tablePage is the body of one page of a long table.
type tablePage struct {
	Table              liveTable
	Rows               report.Table // the page's rows alone
	ViewName           string
	AsOf               int64
	From, To, NextFrom int
	Prev, Next         string
}

// drawTablePage draws page ?page=N of table ?name=NAME of rep, in the
// view of query view.
func (s *Server) drawTablePage(w http.ResponseWriter, r *http.Request, u webUser, rep *aggregate.Report, nav *webNav, view viewQuery, viewName string) {
	q := r.URL.Query()
	name := q.Get("name")
	var t *report.Table
	for _, tt := range report.Tables(rep) {
		if tt.Name == name {
			t = &tt
			break
		}
	}
	if t == nil {
		s.httpError(w, framework.Errorf(framework.CodeNotFound, "name: no table %q in this view", name))
		return
	}
	pages := max(1, (len(t.Rows)+tablePageRows-1)/tablePageRows)
	n, err := strconv.Atoi(q.Get("page"))
	if err != nil || n < 1 || n > pages {
		s.httpError(w, framework.Errorf(framework.CodeInvalid, "page: want a number from 1 to %d", pages))
		return
	}
	lo, hi := (n-1)*tablePageRows, min(n*tablePageRows, len(t.Rows))
	p := tablePage{Table: liveTable{Table: *t, PageRows: tablePageRows, Pages: pageLabels(*t), View: view, Current: n},
		Rows: *t, ViewName: viewName, AsOf: rep.AsOfSeq, From: lo + 1, To: hi, NextFrom: hi + 1}
	p.Rows.Rows = t.Rows[lo:hi]
	if len(t.Rows) == 0 {
		p.From = 0
	}
	if n > 1 {
		p.Prev = view.page(name, n-1)
	}
	if n < pages {
		p.Next = view.page(name, n+1)
	}
	nav.Here, nav.User, nav.CSRF = "table", u.Name, u.csrf
	s.render(w, tableTmpl, webView{Title: fmt.Sprintf("%s, rows %d–%d", t.Title, p.From, p.To), Nav: nav, Body: p})
}

func (s *Server) inspectionTablePage(w http.ResponseWriter, r *http.Request, u webUser) {
	id := r.PathValue("id")
	if err := s.allowedInspection(r.Context(), u.User, id); err != nil {
		s.httpError(w, err)
		return
	}
	_, rep, err := s.liveReport(r.Context(), u.User, id)
	if err != nil {
		s.httpError(w, err)
		return
	}
	nav := &webNav{Live: "./", LiveName: "This inspection", Back: "./#" + url.PathEscape(r.URL.Query().Get("name")), BackText: "Back to the table's place"}
	s.drawTablePage(w, r, u, rep, nav, nil, rep.InspectionName)
}
