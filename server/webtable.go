package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

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
// (Pages set) as links to its pages.
type liveTable struct {
	report.Table
	PageRows int
	Pages    []tableLink
}

type tableLink struct{ URL, Label string }

// liveTableSet is a report's tables for a live page.
type liveTableSet struct {
	all  []liveTable     // every table, in publishing order
	long []liveTable     // those drawn in pages
	omit map[string]bool // the long ones, for report.Live.Omit
}

// drawnAbove are the tables the figures draw otherwise (grid, shares,
// written judgements): never long, never paged.
var drawnAbove = map[string]bool{"ratings_grid": true, "stage_shares": true, "written": true}

func liveTables(rep *aggregate.Report, base tablePageURL) liveTableSet {
	set := liveTableSet{omit: map[string]bool{}}
	for _, t := range report.Tables(rep) {
		lt := liveTable{Table: t, PageRows: tablePageRows}
		if len(t.Rows) > maxInlineRows && !drawnAbove[t.Name] {
			for lo := 0; lo < len(t.Rows); lo += tablePageRows {
				hi := min(lo+tablePageRows, len(t.Rows))
				lt.Pages = append(lt.Pages, tableLink{URL: base.page(t.Name, lo/tablePageRows+1),
					Label: fmt.Sprintf("rows %d–%d: %s to %s", lo+1, hi, rowLabel(t, lo), rowLabel(t, hi-1))})
			}
			set.long = append(set.long, lt)
			set.omit[t.Name] = true
		}
		set.all = append(set.all, lt)
	}
	return set
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

var tableTmpl = webPage(`{{define "main"}}{{with .Body}}<h1>{{.Table.Title}}</h1>
<p>{{.View}} · rows {{.From}}–{{.To}} of {{len .Table.Rows}} · as of change {{.AsOf}}. This page does not update itself: reload it for the latest figures.</p>
<nav aria-label="Pages of this table"><ul class="pager">
{{if .Prev}}<li><a href="{{.Prev}}" rel="prev">Previous page</a></li>{{end}}
{{range .Pages}}<li><a href="{{.URL}}"{{if .Current}} aria-current="page"{{end}}>{{.N}}</a></li>{{end}}
{{if .Next}}<li><a href="{{.Next}}" rel="next">Next page</a></li>{{end}}
</ul></nav>
{{template "rows" .Rows}}
{{if .Next}}<p><a href="{{.Next}}">Next page: rows {{.NextFrom}} onwards</a></p>{{end}}{{end}}{{end}}`)

// tablePage is the body of one page of a long table.
type tablePage struct {
	Table              report.Table
	Rows               report.Table // the page's rows alone
	View               string
	AsOf               int64
	From, To, NextFrom int
	Prev, Next         string
	Pages              []struct {
		URL     string
		N       int
		Current bool
	}
}

// drawTablePage draws page ?page=N of table ?name=NAME of rep. back is
// the live page it belongs to (with the query that makes it).
func (s *Server) drawTablePage(w http.ResponseWriter, r *http.Request, u webUser, rep *aggregate.Report, nav *webNav, base tablePageURL, view string) {
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
	p := tablePage{Table: *t, Rows: *t, View: view, AsOf: rep.AsOfSeq, From: lo + 1, To: hi, NextFrom: hi + 1}
	p.Rows.Rows = t.Rows[lo:hi]
	if len(t.Rows) == 0 {
		p.From = 0
	}
	for i := 1; i <= pages; i++ {
		p.Pages = append(p.Pages, struct {
			URL     string
			N       int
			Current bool
		}{base.page(name, i), i, i == n})
	}
	if n > 1 {
		p.Prev = base.page(name, n-1)
	}
	if n < pages {
		p.Next = base.page(name, n+1)
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
	fw, in, err := s.db.ReportInput(r.Context(), id)
	if err != nil {
		s.httpError(w, err)
		return
	}
	rep := aggregate.Compute(fw, in)
	nav := &webNav{Live: "./", LiveName: "This inspection", Back: "./#" + url.PathEscape(r.URL.Query().Get("name")), BackText: "Back to the table's place"}
	s.drawTablePage(w, r, u, rep, nav, tablePageURL("table?"), rep.InspectionName)
}
