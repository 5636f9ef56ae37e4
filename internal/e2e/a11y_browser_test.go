package e2e

import (
	_ "embed"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axe is axe-core 4.14.1, vendored unmodified (testdata/axe/README.md).
//
//go:embed testdata/axe/axe.min.js
var axe string

// axeViolations runs axe-core on the tab's page with every rule it runs
// by default (WCAG A/AA and best practices) and returns its violations of
// any impact, one line each.
func axeViolations(t *testing.T, p page) []string {
	t.Helper()
	if !eval[bool](p, `typeof window.axe === "object"`) {
		if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[any](axe+";true")); err != nil {
			t.Fatalf("injecting axe-core: %v", err)
		}
	}
	out, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
		return r.violations.map(function (v) { return v.impact + " " + v.id + ": " + v.help + " — " + v.nodes.slice(0, 3).map(function (n) { return n.target.join(" "); }).join(" | "); });
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe.run: %v", err)
	}
	return out
}

// Every page of the form has a main landmark and passes axe-core with no
// violation of any impact: My cases, a case (fresh, with problems listed,
// with a change waiting for its note, submitted and read-only), its print
// view, Conflicts and Refused edits.
func TestBrowser_PagesPassAxe(t *testing.T) {
	r := startRecording(t)
	check := func(what string) {
		t.Helper()
		if n := eval[int](r.page, `document.querySelectorAll("main").length`); n != 1 {
			t.Errorf("%s: %d main landmark(s), want 1", what, n)
		}
		for _, v := range axeViolations(t, r.page) {
			t.Errorf("%s: %s", what, v)
		}
	}
	check("My cases")
	r.open("C-01")
	check("case page")

	// A change waiting for its note (the keep/clear prompt on the page).
	eval[bool](r.page, `document.getElementById("v-2.1.1-yes").focus(), true`)
	r.keys("y")
	r.keys("seen")
	r.settled()
	eval[bool](r.page, `document.getElementById("n-2.1.1").blur(), true`)
	r.settled()
	if err := chromedp.Do(r.ctx, chromedp.Click(chromedp.CSS(`#v-2\.1\.1-no`))); err != nil {
		t.Fatal(err)
	}
	r.waitFor("the keep-or-clear prompt", `!!document.querySelector(".keep")`)
	check("case page asking about a note")
	eval[bool](r.page, `document.querySelector(".keep-note").click(), true`)
	r.settled()

	// Problems listed at the top.
	eval[bool](r.page, `document.getElementById("v-2.3.S1").value = "0"; true`)
	r.leaving()
	eval[bool](r.page, `document.querySelector('button[accesskey="s"]').click(), true`)
	r.arrived(`document.getElementById("problems")`)
	check("case page with problems")
	// The missing list of a refused submit.
	eval[bool](r.page, `document.getElementById("v-2.3.S1").value = "2"; true`)
	r.leaving()
	eval[bool](r.page, `document.getElementById("submit").click(), true`)
	r.arrived(`document.querySelector("#problems a")`)
	check("case page with a refused submit")

	// A submitted case, read-only, and its print view.
	r.open("C-02")
	eval[bool](r.page, `document.querySelectorAll('fieldset:not(.na) input[type=radio][value=yes]').forEach(function (r) { r.click(); });
		document.getElementById("v-2.3.S1").value = "3"; true`)
	r.settled()
	r.leaving()
	eval[bool](r.page, `document.getElementById("submit").click(), true`)
	r.arrived(`document.getElementById("readonly")`)
	check("submitted case")
	r.leaving()
	eval[bool](r.page, `document.querySelector('a[href$="/print"]').click(), true`)
	r.arrived(`location.pathname.endsWith("/print")`)
	check("print view")
	for _, to := range []string{"/conflicts", "/refused"} {
		r.leaving()
		eval[bool](r.page, `document.querySelector('header a[href="`+to+`"]').click(), true`)
		r.arrived(`location.pathname === "` + to + `"`)
		check(strings.TrimPrefix(to, "/"))
	}
}
