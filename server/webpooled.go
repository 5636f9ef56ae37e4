package server

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// The live view of several inspections pooled (a region, a national view):
// /pooled/?id=A&id=B[&by=sex…] shows the figures `fieldwork report
// --inspections A,B [--by sex]` shows, from the kept counts, updating as
// syncs change them; its long tables (a breakdown by 150 units) are drawn
// in pages (webtable.go). Whoever may read the report of every inspection
// pooled (framework.CanReadReport on each) may open it; one that they may
// not read refuses the whole page, as GetReport does.

// maxPooledView bounds the inspections of one pooled view (a national view
// is about 150; the URL's own bound is MaxHeaderBytes).
const maxPooledView = 1000

// pooledQuery reads the inspections and breakdowns of a pooled view and
// checks that u may read each inspection's report.
func (s *Server) pooledQuery(ctx context.Context, u framework.User, q url.Values) (ins []framework.Inspection, ids, by []string, err error) {
	ids, by = q["id"], q["by"]
	switch {
	case len(ids) < 2:
		return nil, nil, nil, framework.Errorf(framework.CodeInvalid, "a pooled view needs at least two inspections (id=…&id=…)")
	case len(ids) > maxPooledView:
		return nil, nil, nil, framework.Errorf(framework.CodeInvalid, "a pooled view takes at most %d inspections, not %d", maxPooledView, len(ids))
	}
	if ins, err = s.readableInspections(ctx, u, ids); err != nil {
		return nil, nil, nil, err
	}
	return ins, ids, by, nil
}

// livePooled is what a pooled view's data sections are drawn from.
type livePooled struct {
	AsOf             int64
	Generated        string
	Version, Summary string
	Cases            int
	Inspections      []framework.Inspection
	Figures          template.HTML
	Long             []liveTable
}

var pooledTmpl = template.Must(template.Must(liveTmpl.Clone()).Parse(`{{define "main"}}{{with .Body}}<h1>{{.Title}}</h1>
<p class="meta">{{.Framework}} · {{.Cases}} cases</p>
{{template "controls" .}}
{{template "pooled-data" .Data}}{{end}}{{end}}

{{define "pooled-data"}}<div id="live-data" data-version="{{.Version}}" data-summary="{{.Summary}}">
<section id="summary" aria-labelledby="summary-h"><h2 id="summary-h">At a glance</h2>
<p>{{len .Inspections}} inspections pooled, {{.Cases}} cases, as of change {{.AsOf}}, {{.Generated}}. Each inspection's own page lists its open conflicts, refused edits, cases waiting for QA and progress.</p>
<ul class="summary">
<li><a href="#figures">Figures</a></li>
{{if .Long}}<li><a href="#long-tables">Long tables, in pages: {{len .Long}}</a></li>{{end}}
<li><a href="#pooled-inspections">The inspections pooled</a></li>
</ul></section>
<div id="figures" tabindex="-1">
{{.Figures}}
</div>
{{template "long" .Long}}
<section id="pooled-inspections" tabindex="-1" aria-labelledby="pooled-h"><h2 id="pooled-h">The inspections pooled</h2>
<ul>{{range .Inspections}}<li><a href="/inspections/{{path .ID}}/">{{.Name}}</a></li>{{end}}</ul>
</section>
</div>{{end}}`))

// pooledData reads and draws a pooled view's data sections.
func (s *Server) pooledData(ctx context.Context, u framework.User, q url.Values) (*aggregate.Report, *framework.Framework, *livePooled, error) {
	ins, ids, by, err := s.pooledQuery(ctx, u, q)
	if err != nil {
		return nil, nil, nil, err
	}
	fw, rep, err := computeReport(ctx, s.db, ids, by, false)
	if err != nil {
		return nil, nil, nil, err
	}
	d := &livePooled{AsOf: rep.AsOfSeq, Generated: rep.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC"), Cases: rep.Cases, Inspections: ins,
		Version: fmt.Sprint(rep.AsOfSeq)}
	d.Summary = fmt.Sprintf("%d inspections pooled, %d cases.", len(ins), rep.Cases)
	tables := liveTables(rep, pooledViewQuery(ids, by))
	var b bytes.Buffer
	if err := report.Figures(&b, rep, fw, &report.Live{Pooled: true, Omit: tables.omit, Tables: tables.tables}); err != nil {
		return nil, nil, nil, err
	}
	d.Figures = template.HTML(b.String()) // drawn by html/template
	d.Long = tables.long
	return rep, fw, d, nil
}

// pooledViewQuery is the query naming a pooled view: its inspections and
// breakdowns, checked again by every page of it.
func pooledViewQuery(ids, by []string) viewQuery {
	q := viewQuery{}
	for _, id := range ids {
		q = append(q, [2]string{"id", id})
	}
	for _, b := range by {
		q = append(q, [2]string{"by", b})
	}
	return q
}

func (s *Server) pooledPage(w http.ResponseWriter, r *http.Request, u webUser) {
	rep, fw, d, err := s.pooledData(r.Context(), u.User, r.URL.Query())
	if err != nil {
		s.httpError(w, err)
		return
	}
	q := pooledViewQuery(r.URL.Query()["id"], r.URL.Query()["by"]).String()
	title := fmt.Sprintf("%d inspections pooled", len(d.Inspections))
	nav := &webNav{User: u.Name, CSRF: u.csrf, Here: "pooled", Live: "./?" + q, LiveName: "This pooled view", Pooled: "./?" + q}
	s.render(w, pooledTmpl, webView{Title: title, Nav: nav, Body: liveHead{Title: title, Framework: fmt.Sprintf("%s v%d", fw.ID, fw.Version),
		Cases: rep.Cases, Self: "./?" + q, VersionURL: "version", DataURL: "data", Data: d}})
}

func (s *Server) pooledDataFragment(w http.ResponseWriter, r *http.Request, u webUser) {
	_, _, d, err := s.pooledData(r.Context(), u.User, r.URL.Query())
	if err != nil {
		s.httpError(w, err)
		return
	}
	s.fragment(w, pooledTmpl, "pooled-data", d)
}

func (s *Server) pooledVersion(w http.ResponseWriter, r *http.Request, u webUser) {
	if _, _, _, err := s.pooledQuery(r.Context(), u.User, r.URL.Query()); err != nil {
		s.httpError(w, err)
		return
	}
	seq, err := s.db.Seq(r.Context())
	if err != nil {
		s.httpError(w, err)
		return
	}
	writeVersion(w, seq, fmt.Sprint(seq))
}

func (s *Server) pooledTablePage(w http.ResponseWriter, r *http.Request, u webUser) {
	ins, ids, by, err := s.pooledQuery(r.Context(), u.User, r.URL.Query())
	if err != nil {
		s.httpError(w, err)
		return
	}
	_, rep, err := computeReport(r.Context(), s.db, ids, by, false)
	if err != nil {
		s.httpError(w, err)
		return
	}
	vq := pooledViewQuery(ids, by)
	q := vq.String()
	nav := &webNav{Live: "./?" + q, LiveName: "This pooled view", Pooled: "./?" + q,
		Back: "./?" + q + "#" + url.PathEscape(r.URL.Query().Get("name")), BackText: "Back to the table's place"}
	s.drawTablePage(w, r, u, rep, nav, vq, fmt.Sprintf("%d inspections pooled", len(ins)))
}
