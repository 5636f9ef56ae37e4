package server_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/report"
	"github.com/fieldworkhq/fieldwork/internal/wire"
	"github.com/fieldworkhq/fieldwork/server"
)

// actionFixture makes an inspection (T-1 insp.a, T-2 insp.b) with one of
// each thing that needs action: T-1 complete and submitted (waiting for
// QA), an open conflict on T-2's 2.1.1, and one refused edit still waiting
// on its author (2.1.2 "maybe"); besides, a refused edit recorded again
// since and one dismissed, which wait on nobody.
func actionFixture(t *testing.T, l *liveEnv) (id string) {
	t.Helper()
	id = l.inspection(t)
	for _, q := range allQuestions(t) {
		v := "yes"
		switch q {
		case "2.3.S1":
			v = "2"
		case "2.3.3f":
			continue // T-1 has no MAPPA: not required
		}
		l.record(t, id, "T-1", q, v, "")
	}
	if _, err := fieldworkv1.NewInspectionServiceClient(l.conn).SetCaseStatus(as(t.Context(), l.admin),
		&fieldworkv1.SetCaseStatusRequest{InspectionId: id, CaseRef: "T-1", Status: "submitted"}); err != nil {
		t.Fatal(err)
	}
	insp := l.token(t, "insp.b")
	op := func(device string, seq int64, q, v string, base int64) *fieldworkv1.Op {
		return &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-2", QuestionId: q, Value: v, BaseRevision: base, DeviceId: device, DeviceSeq: seq}
	}
	want := func(ack *fieldworkv1.Ack, result fieldworkv1.OpResult) {
		t.Helper()
		if ack.GetResult() != result {
			t.Fatalf("fixture op: %v %s, want %v", ack.GetResult(), ack.GetReason(), result)
		}
	}
	want(l.push(t, insp, op("dev-1", 1, "2.1.1", "yes", 0))[0], fieldworkv1.OpResult_OP_RESULT_APPLIED)
	want(l.push(t, insp, op("dev-2", 1, "2.1.1", "no", 0))[0], fieldworkv1.OpResult_OP_RESULT_CONFLICT)
	want(l.push(t, insp, op("dev-3", 1, "2.1.1a", "maybe", 0))[0], fieldworkv1.OpResult_OP_RESULT_REJECTED)
	want(l.push(t, insp, op("dev-3", 2, "2.1.1a", "yes", 0))[0], fieldworkv1.OpResult_OP_RESULT_APPLIED) // recorded again
	dismissed := op("dev-3", 3, "2.1.1b", "perhaps", 0)
	want(l.push(t, insp, dismissed)[0], fieldworkv1.OpResult_OP_RESULT_REJECTED)
	if _, err := fieldworkv1.NewSyncServiceClient(l.conn).DismissRefusals(as(t.Context(), insp),
		&fieldworkv1.DismissRefusalsRequest{OpIds: []string{dismissed.GetOpId()}, DeviceId: "dev-3"}); err != nil {
		t.Fatal(err)
	}
	want(l.push(t, insp, op("dev-3", 4, "2.1.2", "maybe", 0))[0], fieldworkv1.OpResult_OP_RESULT_REJECTED)
	return id
}

var (
	liveDataRe = regexp.MustCompile(`(?s)<div id="live-data".*</div>\n</main>`)
	rowRe      = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellRe     = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
	tagRe      = regexp.MustCompile(`<[^>]+>`)
)

// section is the HTML of the live page's section with the given id.
func section(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `<section id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no section %s on the page", id)
	}
	j := strings.Index(page[i:], "</section>")
	return page[i : i+j]
}

// The live page puts what needs action first, each with its count in the
// summary at the top linking to it: open conflicts, refused edits still
// waiting on their authors, cases waiting for QA; then progress, then the
// figures. Its data sections are the fragment the script fetches, and its
// version is the one the fragment carries.
func TestLiveView_WhatNeedsActionComesFirst(t *testing.T) {
	l := newLiveEnv(t)
	id := actionFixture(t, l)
	l.addMember(t, id, "lead.l", "lead")
	b := l.browser(t)
	signedInTo(t, b.signIn(l.token(t, "lead.l")))
	resp, page := b.do(http.MethodGet, "/inspections/"+id+"/", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("live page: %d %s", resp.StatusCode, page)
	}
	last := -1
	for _, part := range []string{`<section id="summary"`, `<section id="conflicts"`, `<section id="refused"`, `<section id="qa"`, `<section id="progress"`, `<div id="figures"`, `<h2 id="grid">`, `<h2 id="key_questions">`} {
		i := strings.Index(page, part)
		if i < last {
			t.Errorf("%s is at %d, before what comes ahead of it (at %d) or missing", part, i, last)
		}
		last = i
	}
	summary := section(t, page, "summary")
	for _, want := range []string{`<a href="#conflicts">Open conflicts: 1</a>`, `<a href="#refused">Refused edits waiting on their authors: 1</a>`,
		`<a href="#qa">Cases waiting for QA: 1</a>`, `<a href="#progress">Progress: 1 of 2 cases complete, 1 submitted (0 of them QA-checked or locked)</a>`, `<a href="#figures">`} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %s:\n%s", want, summary)
		}
	}
	if c := section(t, page, "conflicts"); strings.Count(c, "<tr>") != 2 || !strings.Contains(c, "<td>T-2</td><td>2.1.1</td><td>yes") || !strings.Contains(c, "insp.b (dev-2)") {
		t.Errorf("conflicts section:\n%s", c)
	}
	if r := section(t, page, "refused"); strings.Count(r, "<tr>") != 2 || !strings.Contains(r, "<td>T-2</td><td>2.1.2</td><td>insp.b (dev-3)</td>") || strings.Contains(r, "2.1.1a") || strings.Contains(r, "2.1.1b") {
		t.Errorf("refused section: want only the 2.1.2 edit (2.1.1a was recorded again, 2.1.1b dismissed):\n%s", r)
	}
	if q := section(t, page, "qa"); strings.Count(q, "<tr>") != 2 || !strings.Contains(q, "<td>T-1</td><td>insp.a</td>") {
		t.Errorf("waiting-for-QA section:\n%s", q)
	}
	if p := section(t, page, "progress"); !strings.Contains(p, `<h3 id="completeness_inspectors">`) || !strings.Contains(p, `<h3 id="completeness_cases">`) {
		t.Errorf("progress section:\n%s", p)
	}
	if strings.Count(page, `id="completeness_cases"`) != 1 {
		t.Error("completeness by case is drawn twice (progress and figures)")
	}
	// Landmarks and navigation.
	for _, want := range []string{`<a class="skip" href="#main">`, `<header class="site">`, `<nav aria-label="Live view">`, `<main id="main" tabindex="-1">`,
		`<a href="/">All inspections</a>`, `<a href="/#pool">`, `<form method="post" action="/logout"`, `<a href="./" aria-current="page">This inspection</a>`,
		`<button type="button" id="live-pause" aria-pressed="false" hidden>`, `<a href="./" id="live-refresh">Refresh now</a>`, `role="status" aria-live="polite"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "location.reload") || strings.Contains(page, `http-equiv="refresh"`) {
		t.Error("the page reloads itself")
	}

	// The fragment is the page's data sections; the version is the one it carries.
	resp, frag := b.do(http.MethodGet, "/inspections/"+id+"/data", nil, nil)
	want := strings.TrimSuffix(liveDataRe.FindString(page), "\n</main>")
	if resp.StatusCode != http.StatusOK || want == "" || frag != want {
		t.Errorf("data fragment (%d) differs from the page's data sections:\n%.600s\nwant\n%.600s", resp.StatusCode, frag, want)
	}
	version := func() string {
		_, body := b.do(http.MethodGet, "/inspections/"+id+"/version", nil, nil)
		var v struct{ Version string }
		if err := json.Unmarshal([]byte(body), &v); err != nil || v.Version == "" {
			t.Fatalf("version: %q %v", body, err)
		}
		return v.Version
	}
	v1 := version()
	if !strings.Contains(frag, `data-version="`+v1+`"`) {
		t.Errorf("version %q is not the fragment's", v1)
	}
	// A refused edit moves no change sequence, but it moves the version.
	l.push(t, l.token(t, "insp.b"), &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-2", QuestionId: "2.1.3", Value: "maybe", DeviceId: "dev-3", DeviceSeq: 5})
	if v2 := version(); v2 == v1 {
		t.Errorf("a new refused edit left the version at %q", v2)
	}
}

// An inspector may not open the live view: neither its page nor any
// fragment the script fetches (data, version, a table's page, evidence)
// gives them a case reference, a value or a figure; nor does an
// inspection a lead is not on.
func TestLiveView_FragmentsShowOthersNothing(t *testing.T) {
	l := newLiveEnv(t)
	id := actionFixture(t, l)
	other := l.inspectionFor(t, "insp.x", "insp.y")
	l.addMember(t, other, "lead.o", "lead")
	paths := []string{"/inspections/" + id + "/", "/inspections/" + id + "/data", "/inspections/" + id + "/version",
		"/inspections/" + id + "/table?name=completeness_cases&page=1", "/inspections/" + id + "/evidence?question=2.1.1",
		"/pooled/?" + url.Values{"id": {id, other}}.Encode(), "/pooled/data?" + url.Values{"id": {id, other}}.Encode(),
		"/pooled/version?" + url.Values{"id": {id, other}}.Encode(), "/pooled/table?" + url.Values{"id": {id, other}, "name": {"key_questions"}, "page": {"1"}}.Encode()}
	for _, user := range []string{"insp.b", "lead.o"} {
		b := l.browser(t)
		signedInTo(t, b.signIn(l.token(t, user)))
		for _, p := range paths {
			resp, body := b.do(http.MethodGet, p, nil, nil)
			if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s GET %s: %d, want 403 or 404", user, p, resp.StatusCode)
			}
			for _, secret := range []string{"T-1", "T-2", "maybe", "insp.a", "version", "seq", "%"} {
				if strings.Contains(body, secret) {
					t.Errorf("%s GET %s: the refusal shows %q: %s", user, p, secret, body)
				}
			}
		}
	}
}

// A long table is drawn in pages of its own: the live page holds a form
// to open them instead of the rows, and the pages together are the rows
// of the table of GetReport's report, in order, nothing left out or
// repeated. A page out of range or an unknown table is refused.
func TestLiveView_LongTablesInPagesHoldEveryRow(t *testing.T) {
	defer server.SetTableRows(20, 7)()
	l := newLiveEnv(t)
	ids := pooledFixture(t, l.testEnv)
	b := l.browser(t)
	signedInTo(t, b.signIn(l.admin))
	q := url.Values{"id": ids, "by": {"sex"}}
	resp, page := b.do(http.MethodGet, "/pooled/?"+q.Encode(), nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pooled view: %d %s", resp.StatusCode, page)
	}
	rr, err := fieldworkv1.NewReportServiceClient(l.conn).GetReport(as(t.Context(), l.admin), &fieldworkv1.GetReportRequest{InspectionIds: ids, By: []string{"sex"}})
	if err != nil {
		t.Fatal(err)
	}
	long := 0
	for _, tab := range report.Tables(wire.ReportFromProto(rr.GetReport())) {
		if len(tab.Rows) <= 20 || tab.Name == "ratings_grid" || tab.Name == "stage_shares" || tab.Name == "written" {
			continue
		}
		long++
		if strings.Contains(page, `<h2 id="`+tab.Name+`">`) || !strings.Contains(page, `<h3 id="`+tab.Name+`">`) || !strings.Contains(page, `<select id="page-`+tab.Name+`" name="page">`) {
			t.Errorf("%s (%d rows): not drawn as a form opening its pages", tab.Name, len(tab.Rows))
			continue
		}
		var got [][]string
		pages := (len(tab.Rows) + 6) / 7
		for n := 1; n <= pages; n++ {
			pq := url.Values{"id": ids, "by": {"sex"}, "name": {tab.Name}, "page": {strconv.Itoa(n)}}
			resp, body := b.do(http.MethodGet, "/pooled/table?"+pq.Encode(), nil, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s page %d: %d %s", tab.Name, n, resp.StatusCode, body)
			}
			if !strings.Contains(body, `<a href="./?`+html.EscapeString("id="+strings.Join(ids, "&id=")+"&by=sex")+`#`+tab.Name+`">Back to the table&#39;s place</a>`) {
				t.Errorf("%s page %d: no way back to the table's place in the pooled view:\n%s", tab.Name, n, body[strings.Index(body, "<nav"):strings.Index(body, "</nav>")])
			}
			tbody := body[strings.Index(body, "<tbody>"):]
			for _, row := range rowRe.FindAllStringSubmatch(tbody, -1) {
				var cells []string
				for _, c := range cellRe.FindAllStringSubmatch(row[1], -1) {
					cells = append(cells, html.UnescapeString(tagRe.ReplaceAllString(c[1], "")))
				}
				got = append(got, cells)
			}
		}
		if len(got) != len(tab.Rows) {
			t.Errorf("%s: %d rows in its pages, want %d", tab.Name, len(got), len(tab.Rows))
			continue
		}
		for i, row := range tab.Rows {
			for j, c := range row {
				if want := report.CellText(c, tab.Columns[j].Kind); got[i][j] != want {
					t.Errorf("%s row %d column %s: %q in its page, want %q", tab.Name, i+1, tab.Columns[j].Name, got[i][j], want)
				}
			}
		}
		for _, bad := range []string{"0", strconv.Itoa(pages + 1), "x"} {
			pq := url.Values{"id": ids, "by": {"sex"}, "name": {tab.Name}, "page": {bad}}
			if resp, body := b.do(http.MethodGet, "/pooled/table?"+pq.Encode(), nil, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "page: want a number from 1 to") {
				t.Errorf("%s page %s: %d %s, want 400 naming the page", tab.Name, bad, resp.StatusCode, body)
			}
		}
	}
	if long < 2 {
		t.Fatalf("only %d long tables: the test shows nothing", long)
	}
	if resp, body := b.do(http.MethodGet, "/pooled/table?"+url.Values{"id": ids, "name": {"<b>nope</b>"}, "page": {"1"}}.Encode(), nil, nil); resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("unknown table: %d %s, want 404 as plain text", resp.StatusCode, body)
	}
}

// An evidence page links back to the figure it lists the cases of: the
// live page's link to it carries the id the way back names.
func TestLiveView_EvidenceLinksBackToItsFigure(t *testing.T) {
	l := newLiveEnv(t)
	id := actionFixture(t, l)
	b := l.browser(t)
	signedInTo(t, b.signIn(l.admin))
	_, page := b.do(http.MethodGet, "/inspections/"+id+"/", nil, nil)
	link := `<a href="evidence?question=2.1.1&amp;value=yes" id="fig-question=2.1.1&amp;value=yes">`
	if !strings.Contains(page, link) {
		t.Fatalf("live page lacks %s", link)
	}
	resp, ev := b.do(http.MethodGet, "/inspections/"+id+"/evidence?question=2.1.1&value=yes", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(ev, `<a href="./#fig-question=2.1.1&amp;value=yes">Back to the figure</a>`) ||
		!strings.Contains(ev, `<a href="./">This inspection</a>`) || !strings.Contains(ev, `action="/logout"`) || !strings.Contains(ev, `<main id="main"`) {
		t.Errorf("evidence page (%d) lacks its navigation:\n%.1500s", resp.StatusCode, ev)
	}
}
