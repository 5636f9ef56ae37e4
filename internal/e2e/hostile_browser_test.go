package e2e

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
)

// Hostile unit names and case attribute values reach every table a live
// page draws (report.RowsHTML: a breakdown's rows, the sample profile, a
// table page's rows): in Chromium none of it becomes an element or runs
// (the page's policy allows inline script, so a handler that got through
// would run), each is read back as the very text, and the pages still pass
// axe-core.
func TestBrowser_HostileTextInTheTablesIsText(t *testing.T) {
	l := startLiveView(t)
	ctx := context.Background()
	admin := framework.Actor{User: "admin", Device: "e2e", Admin: true}
	units := []string{`<img src=x onerror="window.__pwned='unit'">`, `</td></tr></table><script>window.__pwned='unit2'</script>`}
	pdus := []string{`<svg onload="window.__pwned='pdu'">`, `"><b id=bold>Gwent</b> & 'x' +1 =SUM(A1)`}
	var ids []string
	for i, unit := range units {
		in, err := l.w.Srv.DB().CreateInspection(ctx, admin, "Hostile "+unit, unit, "probation-pdu-2023", 0)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, in.ID)
		var b strings.Builder
		cw := csv.NewWriter(&b)
		cw.Write([]string{"case_ref", "sentence_type", "sex", "age_band", "ethnicity", "rosh", "mappa", "pdu", "contact_suspended", "inspector"})
		cw.Write([]string{"H-1", "community", "male", "26-39", "white", "medium", "none", pdus[0], "false", "insp.a"})
		cw.Write([]string{"H-2", "licence", "female", "40-49", "black", "high", "none", pdus[1], "false", "insp.a"})
		cw.Flush()
		rows, err := interchange.ReadCases(strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := l.w.Srv.DB().ImportCases(ctx, admin, in.ID, rows); err != nil {
			t.Fatal(err)
		}
		answers, err := interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer,note\nH-1,2.1.1,yes,\nH-2,2.1.1," + []string{"no", "yes"}[i] + ",\nH-1,2.3.S1,4,\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := l.w.Srv.DB().ImportAnswers(ctx, admin, in.ID, answers); err != nil {
			t.Fatal(err)
		}
		if err := l.w.Srv.DB().AddTeamMember(ctx, admin, in.ID, "lead", framework.RoleLead); err != nil {
			t.Fatal(err)
		}
	}
	l.open("/login", `document.getElementById("token")`)
	l.leaving()
	if err := chromedp.Do(l.ctx, chromedp.SendKeys(chromedp.CSS(`#token`), l.lead), chromedp.Submit(chromedp.CSS(`#token`))); err != nil {
		t.Fatal(err)
	}
	l.arrived(`location.pathname === "/"`)

	pooled := url.Values{"id": ids, "by": {"pdu", "sex"}}.Encode()
	pages := []struct {
		path string
		want []string // texts some cell holds exactly
	}{
		{"/pooled/?" + pooled, append(pdus, units...)},
		{"/pooled/table?" + pooled + "&name=key_questions_by_pdu&page=1", pdus},
		{"/pooled/table?" + pooled + "&name=key_questions_by_unit&page=1", units},
		{"/pooled/table?" + pooled + "&name=sample_profile&page=1", pdus},
		{"/inspections/" + ids[0] + "/", pdus},
		{"/inspections/" + ids[0] + "/table?name=sample_profile&page=1", pdus},
	}
	for _, p := range pages {
		l.open(p.path, `document.querySelector("main table")`)
		if got := eval[string](l.page, `String(window.__pwned)`); got != "undefined" {
			t.Errorf("%s: hostile text ran (%s)", p.path, got)
		}
		if n := eval[int](l.page, `document.querySelectorAll("td img, td svg, td script, td b, td table, #bold, main img, main script").length`); n != 0 {
			t.Errorf("%s: %d elements made of hostile text", p.path, n)
		}
		cells := eval[[]string](l.page, `Array.from(document.querySelectorAll("main td")).map(function (td) { return td.textContent; })`)
		for _, w := range p.want {
			found := false
			for _, c := range cells {
				found = found || c == w
			}
			if !found {
				js, _ := json.Marshal(cells)
				t.Errorf("%s: no cell reads %q; cells %.1500s", p.path, w, js)
			}
		}
		l.noSeriousViolation(p.path)
	}
}
