package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// An inspection's live page puts what needs action first — open
// conflicts, refused edits waiting on their authors, cases waiting for QA
// — then progress, then the figures, with a summary of each at the top
// linking to its section. Its data sections are one fragment (GET data),
// which the page's script fetches and swaps in when the version (GET
// version) moves: see docs/live-view.md for why not a reload.

const (
	// liveEveryMillis is how often a live page asks whether it changed.
	liveEveryMillis = 2000
	// maxListed bounds each list of what needs action on the page (the
	// summary counts them all).
	maxListed = 500
)

// liveInspection is what an inspection's data sections are drawn from.
type liveInspection struct {
	AsOf      int64
	Generated string
	// Version is what the version URL answers until the page changes.
	Version, Summary  string
	Conflicts         []framework.Conflict
	ConflictsTotal    int
	Refused           []store.RefusedEdit
	RefusedTotal      int
	WaitingQA         []aggregate.CaseProgress
	Cases, Complete   int
	Submitted, Passed int
	Progress          []liveTable
	Figures           template.HTML
	Long              []liveTable
}

var liveTmpl = template.Must(webPage(pagerTmpl).Parse(`{{define "main"}}{{with .Body}}<h1>{{.Title}}</h1>
<p class="meta">{{.Framework}} · {{.Cases}} cases</p>
{{template "controls" .}}
{{template "data" .Data}}{{end}}{{end}}

{{define "controls"}}<div class="live-controls" id="live-controls" data-version-url="{{.VersionURL}}" data-data-url="{{.DataURL}}" data-every="{{every}}">
<p id="live-status" role="status" aria-live="polite">Updates itself when a sync changes what it shows.</p>
<p><button type="button" id="live-pause" aria-pressed="false" hidden>Pause updates</button>
<a href="{{.Self}}" id="live-refresh">Refresh now</a></p>
<noscript><p>Without JavaScript the page does not update itself: use Refresh now.</p></noscript>
</div>{{end}}

{{define "data"}}<div id="live-data" data-version="{{.Version}}" data-summary="{{.Summary}}">
<section id="summary" aria-labelledby="summary-h"><h2 id="summary-h">At a glance</h2>
<p>As of change {{.AsOf}}, {{.Generated}}.</p>
<ul class="summary">
<li><a href="#conflicts">Open conflicts: {{.ConflictsTotal}}</a></li>
<li><a href="#refused">Refused edits waiting on their authors: {{.RefusedTotal}}</a></li>
<li><a href="#qa">Cases waiting for QA: {{len .WaitingQA}}</a></li>
<li><a href="#progress">Progress: {{.Complete}} of {{.Cases}} cases complete, {{.Submitted}} submitted ({{.Passed}} of them QA-checked or locked)</a></li>
<li><a href="#figures">Figures</a></li>
</ul></section>

<section id="conflicts" tabindex="-1" aria-labelledby="conflicts-h"><h2 id="conflicts-h">Open conflicts ({{.ConflictsTotal}})</h2>
{{if .Conflicts}}{{template "more" (more (len .Conflicts) .ConflictsTotal)}}
<table><thead><tr><th scope="col">Case</th><th scope="col">Question</th><th scope="col">Server's value</th><th scope="col">Edit it met</th><th scope="col">Edit by</th><th scope="col">When</th></tr></thead><tbody>
{{range .Conflicts}}<tr><td>{{.CaseRef}}</td><td>{{.QuestionID}}</td><td>{{.ServerValue}} (revision {{.ServerRevision}}){{with .ServerNote}}<br><span class="note">{{.}}</span>{{end}}</td><td>{{.ClientValue}}{{with .ClientNote}}<br><span class="note">{{.}}</span>{{end}}</td><td>{{.ClientUser}} ({{.ClientDevice}})</td><td>{{when .CreatedAt}}</td></tr>
{{end}}</tbody></table>
<p class="note">Resolved on a laptop with <code>fieldwork conflicts</code>.</p>{{else}}<p>None.</p>{{end}}
</section>

<section id="refused" tabindex="-1" aria-labelledby="refused-h"><h2 id="refused-h">Refused edits ({{.RefusedTotal}})</h2>
{{if .Refused}}{{template "more" (more (len .Refused) .RefusedTotal)}}
<table><thead><tr><th scope="col">Case</th><th scope="col">Question</th><th scope="col">By</th><th scope="col">When</th><th scope="col">Why refused</th></tr></thead><tbody>
{{range .Refused}}<tr><td>{{.CaseRef}}</td><td>{{if .QuestionID}}{{.QuestionID}}{{else}}case status{{end}}</td><td>{{.User}} ({{.Device}})</td><td>{{when .At}}</td><td>{{.Reason}}</td></tr>
{{end}}</tbody></table>
<p class="note">Each waits until its author records it again or dismisses it.</p>{{else}}<p>None.</p>{{end}}
</section>

<section id="qa" tabindex="-1" aria-labelledby="qa-h"><h2 id="qa-h">Cases waiting for QA ({{len .WaitingQA}})</h2>
{{if .WaitingQA}}<table><thead><tr><th scope="col">Case</th><th scope="col">Inspector</th><th scope="col" class="num">Answered</th><th scope="col" class="num">Required</th></tr></thead><tbody>
{{range .WaitingQA}}<tr><td>{{.Ref}}</td><td>{{.Inspector}}</td><td class="num">{{.Answered}}</td><td class="num">{{.Required}}</td></tr>
{{end}}</tbody></table>{{else}}<p>None: no case is submitted and not yet QA-checked.</p>{{end}}
</section>

<section id="progress" tabindex="-1" aria-labelledby="progress-h"><h2 id="progress-h">Progress</h2>
{{range .Progress}}{{template "table" .}}{{end}}
</section>

<div id="figures" tabindex="-1">
{{.Figures}}
</div>
{{template "long" .Long}}
</div>{{end}}

{{define "more"}}{{if .}}<p>Showing the {{.Shown}} newest of {{.Total}}.</p>{{end}}{{end}}

{{define "table"}}<h3 id="{{.Name}}">{{.Title}}</h3>
{{if .Pages}}{{template "pager" .}}
{{else if .Rows}}{{template "rows" .Table}}{{else}}<p>None.</p>{{end}}{{end}}

{{define "long"}}{{if .}}<section id="long-tables" tabindex="-1" aria-labelledby="long-h"><h2 id="long-h">Long tables, in pages</h2>
<p>Tables of more than {{maxInline}} rows are drawn in pages of their own: the same rows, in the same order.</p>
{{range .}}{{template "table" .}}{{end}}
</section>{{end}}{{end}}

{{define "script"}}<script>` + liveScript + `</script>{{end}}`))

// liveHead is the heading part of a live page's body.
type liveHead struct {
	Title, Framework string
	Cases            int
	Self             string // the page's own URL: the manual refresh
	// VersionURL and DataURL are what the script polls and fetches.
	VersionURL, DataURL string
	Data                any
}

// readableInspection is the inspection id, if u may open its live view:
// whoever may read its report (framework.CanReadReport), QA included.
// Off the team, an inspection that exists and one that does not are
// refused in the same words, as the API refuses them (authorizeOn): only
// administrators learn that one does not exist.
func (s *Server) readableInspection(ctx context.Context, u framework.User, id string) (framework.Inspection, error) {
	in, err := s.db.Inspection(ctx, u, id)
	return readable(u, id, in, err)
}

// readableInspections is readableInspection for each of ids, in order,
// read at once; the first that u may not read refuses them all, with
// readableInspection's error.
func (s *Server) readableInspections(ctx context.Context, u framework.User, ids []string) ([]framework.Inspection, error) {
	found, err := s.db.InspectionsByID(ctx, u, ids)
	if err != nil {
		return nil, err
	}
	out := make([]framework.Inspection, 0, len(ids))
	for _, id := range ids {
		in, ok := found[id]
		if ok {
			in, err = readable(u, id, in, nil)
		} else {
			in, err = s.readableInspection(ctx, u, id) // not found: its own words
		}
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// readable is the live view's rule on one inspection read for u (in, or
// the error reading it): the lead, QA and analysts may read it, and one
// that does not exist reads, to whoever is not an administrator, as one
// they are not on the team of.
func readable(u framework.User, id string, in framework.Inspection, err error) (framework.Inspection, error) {
	if framework.ErrorCode(err) == framework.CodeNotFound && !u.Admin || err == nil && in.Role == "" {
		return framework.Inspection{}, framework.NotOnTeamError(id)
	}
	if err != nil {
		return framework.Inspection{}, err
	}
	if !framework.CanReadReport(in.Role) {
		// Named: in a pooled view "this inspection" would be any of 150.
		return framework.Inspection{}, framework.Errorf(framework.CodePermission, "the live view of inspection %s is for its lead, QA and analysts", id)
	}
	return in, nil
}

func (s *Server) allowedInspection(ctx context.Context, u framework.User, id string) error {
	_, err := s.readableInspection(ctx, u, id)
	return err
}

// inspectionData reads and draws an inspection's data sections for u.
// Every case named in them is one u may see (framework.CanSeeCase).
func (s *Server) inspectionData(ctx context.Context, u framework.User, id string) (*aggregate.Report, *framework.Framework, *liveInspection, error) {
	in, err := s.readableInspection(ctx, u, id)
	if err != nil {
		return nil, nil, nil, err
	}
	fw, rep, err := s.liveReport(ctx, u, id)
	if err != nil {
		return nil, nil, nil, err
	}
	conflicts, err := s.db.OpenConflicts(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	refused, refusedTotal, err := s.db.RefusedEdits(ctx, id, maxListed)
	if err != nil {
		return nil, nil, nil, err
	}
	// Second marking is blind (framework.CanSeeMarkingValues): a QA marker
	// is shown no value of a case they are marking, in any section.
	blind, err := blindCases(ctx, s.db, u, id)
	if err != nil {
		return nil, nil, nil, err
	}
	conflicts = hideBlindConflicts(conflicts, blind)
	sees := func(inspector string) bool { return framework.CanSeeCase(in.Role, inspector == u.Name) }
	inspectorOf := map[string]string{}
	d := &liveInspection{AsOf: rep.AsOfSeq, Generated: rep.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC"), Cases: rep.Cases}
	for _, c := range rep.CaseProgress {
		inspectorOf[c.Ref] = c.Inspector
		if !sees(c.Inspector) {
			continue
		}
		switch c.Status {
		case framework.CaseSubmitted:
			d.WaitingQA = append(d.WaitingQA, c)
		case framework.CaseQAChecked, framework.CaseLocked:
			d.Passed++
		}
	}
	for _, ip := range rep.InspectorProgress { // complete and submitted as the report counts them
		d.Complete += ip.CasesComplete
		d.Submitted += ip.Submitted
	}
	for _, c := range conflicts {
		if in, ok := inspectorOf[c.CaseRef]; ok && sees(in) {
			d.Conflicts = append(d.Conflicts, c)
		}
	}
	d.ConflictsTotal = len(d.Conflicts)
	if len(d.Conflicts) > maxListed {
		d.Conflicts = d.Conflicts[len(d.Conflicts)-maxListed:] // the newest
	}
	d.RefusedTotal = refusedTotal
	for _, r := range refused {
		if sees(r.Inspector) && !blind[r.CaseRef] {
			d.Refused = append(d.Refused, r)
		} else {
			d.RefusedTotal--
		}
	}
	d.Version = inspectionVersion(rep.AsOfSeq, refusedTotal)
	d.Summary = fmt.Sprintf("%d open conflicts, %d refused edits, %d cases waiting for QA; %d of %d cases complete.",
		d.ConflictsTotal, d.RefusedTotal, len(d.WaitingQA), d.Complete, d.Cases)
	tables := liveTables(rep, nil)
	for _, t := range tables.all {
		switch t.Name {
		case "completeness_inspectors", "completeness_cases":
			d.Progress = append(d.Progress, t)
		}
	}
	tables.omit["completeness_inspectors"], tables.omit["completeness_cases"] = true, true
	var b bytes.Buffer
	if err := report.Figures(&b, rep, fw, &report.Live{Omit: tables.omit, Tables: tables.tables}); err != nil {
		return nil, nil, nil, err
	}
	d.Figures = template.HTML(b.String()) // drawn by html/template
	for _, t := range tables.long {
		if t.Name != "completeness_inspectors" && t.Name != "completeness_cases" {
			d.Long = append(d.Long, t)
		}
	}
	return rep, fw, d, nil
}

// liveReport is the report an inspection's live page and its table pages
// draw: the figures with the agreement table, so that a long table's pages
// are those of the page's own tables. The caller has checked u may read it.
func (s *Server) liveReport(ctx context.Context, u framework.User, id string) (*framework.Framework, *aggregate.Report, error) {
	fw, sample, err := s.db.ReportInput(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	rep := aggregate.Compute(fw, sample)
	if rep.Agreement, err = liveAgreement(ctx, s.db, u, id, fw); err != nil {
		return nil, nil, err
	}
	blind, err := blindCases(ctx, s.db, u, id)
	if err != nil {
		return nil, nil, err
	}
	hideBlind(rep, blind) // its case-level parts, on the page and on its table pages
	return fw, rep, nil
}

// inspectionVersion is what an inspection's page changes with: the change
// sequence (answers, cases, conflicts) and the refused edits waiting,
// which move no change sequence.
func inspectionVersion(seq int64, refused int) string { return fmt.Sprintf("%d-%d", seq, refused) }

func (s *Server) livePage(w http.ResponseWriter, r *http.Request, u webUser) {
	id := r.PathValue("id")
	if done, err := s.frozenPage(r.Context(), w, u.User, id); done || err != nil {
		if err != nil {
			s.httpError(w, err)
		}
		return
	}
	rep, fw, d, err := s.inspectionData(r.Context(), u.User, id)
	if err != nil {
		s.httpError(w, err)
		return
	}
	nav := &webNav{User: u.Name, CSRF: u.csrf, Here: "inspection", Live: "./", LiveName: "This inspection"}
	s.render(w, liveTmpl, webView{Title: rep.InspectionName, Nav: nav, Body: liveHead{Title: rep.InspectionName,
		Framework: fmt.Sprintf("%s v%d", fw.ID, fw.Version), Cases: rep.Cases, Self: "./", VersionURL: "version", DataURL: "data", Data: d}})
}

// liveData is the page's data sections alone, for its script to swap in.
func (s *Server) liveData(w http.ResponseWriter, r *http.Request, u webUser) {
	_, _, d, err := s.inspectionData(r.Context(), u.User, r.PathValue("id"))
	if err != nil {
		s.httpError(w, err)
		return
	}
	s.fragment(w, liveTmpl, "data", d)
}

// fragment draws one named part of a live page.
func (s *Server) fragment(w http.ResponseWriter, t *template.Template, name string, data any) {
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		s.log.Error("live view fragment", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

func (s *Server) liveVersion(w http.ResponseWriter, r *http.Request, u webUser) {
	id := r.PathValue("id")
	if err := s.allowedInspection(r.Context(), u.User, id); err != nil {
		s.httpError(w, err)
		return
	}
	seq, err := s.db.Seq(r.Context())
	if err != nil {
		s.httpError(w, err)
		return
	}
	_, refused, err := s.db.RefusedEdits(r.Context(), id, 0)
	if err != nil {
		s.httpError(w, err)
		return
	}
	writeVersion(w, seq, inspectionVersion(seq, refused))
}

func writeVersion(w http.ResponseWriter, seq int64, version string) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"seq": seq, "version": version})
}

// frozenPage draws a purged inspection's frozen report (docs/retention.md)
// for whoever may read it: nothing of it is live any more. done is false
// for an inspection that is not purged.
func (s *Server) frozenPage(ctx context.Context, w http.ResponseWriter, u framework.User, id string) (done bool, err error) {
	if _, err := s.readableInspection(ctx, u, id); err != nil {
		return false, err
	}
	fw, rep, err := frozenReport(ctx, s.db, id)
	if err != nil || rep == nil {
		return false, err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return true, report.Page(w, rep, fw, nil)
}
