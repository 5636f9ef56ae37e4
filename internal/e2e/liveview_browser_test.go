package e2e

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

// liveView is the lead's live view over a real server (syncsim), with an
// inspector's device that records and syncs over gRPC, in one Chromium tab.
type liveView struct {
	page
	w      *syncsim.World
	base   string
	device *syncsim.Device
	lead   string // the lead's token
	second string // a second inspection the lead may pool with the first
}

func startLiveView(t *testing.T) *liveView {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	srv := httptest.NewServer(w.Srv.HTTPHandler())
	t.Cleanup(srv.Close)
	ctx := context.Background()
	admin := framework.Actor{User: "admin", Device: "e2e", Admin: true}
	lead, _, err := w.Srv.DB().IssueToken(ctx, admin, "lead", 0)
	if err != nil {
		t.Fatal(err)
	}
	second, err := w.Srv.DB().CreateInspection(ctx, admin, "Second unit", "U", "probation-pdu-2023", 0)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := interchange.ReadCases(strings.NewReader("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n" +
		"U-01,licence,female,40-49,black,high,none,U,false,insp.a\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Srv.DB().ImportCases(ctx, admin, second.ID, rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Srv.DB().AddTeamMember(ctx, admin, second.ID, "lead", framework.RoleLead); err != nil {
		t.Fatal(err)
	}
	d := w.NewDevice(t, filepath.Join(dir, "insp"), "insp.a", w.Addr)
	if _, err := d.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// An open conflict: a second device of insp.a edits the same answer
	// from the same base.
	d2 := w.NewDevice(t, filepath.Join(dir, "insp2"), "insp.a", w.Addr)
	if _, err := d2.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	d.Record(t, w.InspectionID, "C-01", "2.1.2", "yes")
	d2.Record(t, w.InspectionID, "C-01", "2.1.2", "no")
	for _, dev := range []*syncsim.Device{d, d2} {
		if _, err := dev.Client.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return &liveView{page: page{t: t, ctx: browser(t)}, w: w, base: srv.URL, device: d, lead: lead, second: second.ID}
}

// open opens a path and waits for its document to load.
func (l *liveView) open(path, cond string) {
	l.t.Helper()
	l.leaving()
	if err := chromedp.Do(l.ctx, chromedp.Navigate(l.base+path)); err != nil {
		l.t.Fatal(err)
	}
	l.arrived(cond)
}

// waitFor waits up to d for a JavaScript condition.
func (l *liveView) waitFor(what, js string, d time.Duration) {
	l.t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if eval[bool](l.page, `!!(`+js+`)`) {
			return
		}
	}
	l.t.Fatalf("never %s (%s)\n%.800s", what, js, eval[string](l.page, `document.body.innerText`))
}

func (l *liveView) press(key string) {
	l.t.Helper()
	if err := chromedp.Do(l.ctx, chromedp.KeyEvent(key)); err != nil {
		l.t.Fatal(err)
	}
}

// answer records an answer on the inspector's laptop and syncs it.
func (l *liveView) answer(ref, q, v string) {
	l.t.Helper()
	l.device.Record(l.t, l.w.InspectionID, ref, q, v)
	if _, err := l.device.Client.Sync(context.Background()); err != nil {
		l.t.Fatal(err)
	}
}

// noSeriousViolation runs axe-core: no serious or critical violation; the
// others are logged.
func (l *liveView) noSeriousViolation(what string) {
	l.t.Helper()
	if n := eval[int](l.page, `document.querySelectorAll("main").length`); n != 1 {
		l.t.Errorf("%s: %d main landmarks, want 1", what, n)
	}
	for _, v := range axeViolations(l.t, l.page) {
		if strings.HasPrefix(v, "serious ") || strings.HasPrefix(v, "critical ") {
			l.t.Errorf("%s: %s", what, v)
		} else {
			l.t.Logf("%s (not serious): %s", what, v)
		}
	}
}

// The lead signs in (a wrong token first), goes through the links to
// every page and back, keeps their place while an answer synced over gRPC
// appears without a reload, pauses and resumes the updates, and signs
// out; every page passes axe-core with no serious or critical violation.
func TestBrowser_LiveView(t *testing.T) {
	l := startLiveView(t)
	livePath := "/inspections/" + l.w.InspectionID + "/"

	// Sign in: a wrong token is refused with a message, the right one opens the list.
	l.open("/login", `document.getElementById("token")`)
	l.noSeriousViolation("sign-in page")
	l.leaving()
	if err := chromedp.Do(l.ctx, chromedp.SendKeys(chromedp.CSS(`#token`), "fw_not-a-token"), chromedp.Submit(chromedp.CSS(`#token`))); err != nil {
		t.Fatal(err)
	}
	l.arrived(`document.querySelector(".err")`)
	if msg := eval[string](l.page, `document.querySelector('.err[role="alert"]').innerText`); msg != "That token is not valid." {
		t.Errorf("wrong token: %q", msg)
	}
	l.leaving()
	if err := chromedp.Do(l.ctx, chromedp.SendKeys(chromedp.CSS(`#token`), l.lead), chromedp.Submit(chromedp.CSS(`#token`))); err != nil {
		t.Fatal(err)
	}
	l.arrived(`location.pathname === "/" && document.querySelector('a[href="` + livePath + `"]')`)
	l.noSeriousViolation("inspection list")

	// List → live page: what needs action first, the conflict listed.
	l.leaving()
	eval[bool](l.page, `document.querySelector('a[href="`+livePath+`"]').click(), true`)
	l.arrived(`document.getElementById("live-data")`)
	if got := eval[string](l.page, `Array.from(document.querySelectorAll("#live-data > section, #live-data > div")).map(function (e) { return e.id; }).join(" ")`); got != "summary conflicts refused qa progress figures" {
		t.Errorf("sections in order: %q", got)
	}
	if c := eval[string](l.page, `document.getElementById("conflicts").innerText`); !strings.Contains(c, "C-01") || !strings.Contains(c, "Open conflicts (1)") {
		t.Errorf("conflicts section: %q", c)
	}
	l.noSeriousViolation("live page")

	// A summary link, by keyboard, moves the focus to its section.
	eval[bool](l.page, `document.querySelector('#summary a[href="#qa"]').focus(), true`)
	l.press("\r")
	l.waitFor("focus on the QA section", `location.hash === "#qa" && document.activeElement.id === "qa"`, 2*time.Second)

	// A figure → its cases → back to the figure.
	const fig = "fig-question=2.1.1&value=relevant"
	l.leaving()
	eval[bool](l.page, `document.getElementById("`+fig+`").click(), true`)
	l.arrived(`location.pathname.endsWith("/evidence")`)
	l.noSeriousViolation("evidence page")
	l.leaving()
	eval[bool](l.page, `Array.from(document.querySelectorAll("nav a")).filter(function (a) { return a.textContent === "Back to the figure"; })[0].click(), true`)
	l.arrived(`document.getElementById("live-data")`)
	if h := eval[string](l.page, `decodeURIComponent(location.hash)`); h != "#"+fig {
		t.Errorf("back from the evidence page at %q, want #%s", h, fig)
	}

	// The list → the pooled view, ticking both inspections by keyboard → back.
	l.leaving()
	eval[bool](l.page, `Array.from(document.querySelectorAll("nav a")).filter(function (a) { return a.textContent === "All inspections"; })[0].click(), true`)
	l.arrived(`location.pathname === "/"`)
	for _, id := range []string{l.w.InspectionID, l.second} {
		eval[bool](l.page, `document.getElementById("pool-`+id+`").focus(), true`)
		l.press(" ")
	}
	l.leaving()
	l.press("\t") // to the button
	l.press("\r")
	l.arrived(`location.pathname === "/pooled/" && document.getElementById("live-data")`)
	if got := eval[string](l.page, `document.querySelector("#summary").innerText`); !strings.Contains(got, "2 inspections pooled") {
		t.Errorf("pooled summary: %q", got)
	}
	l.noSeriousViolation("pooled page")
	l.leaving()
	eval[bool](l.page, `document.querySelector('#pooled-inspections a[href="`+livePath+`"]').click(), true`)
	l.arrived(`location.pathname === "` + livePath + `" && document.getElementById("live-data")`)

	// Auto-refresh: an answer synced over gRPC appears without a reload;
	// the focused link keeps the focus and its place on screen.
	const yes = "fig-question=2.1.1&value=yes"
	eval[bool](l.page, `window.__same = true; document.getElementById("`+yes+`").scrollIntoView({block: "center"}); document.getElementById("`+yes+`").focus(), true`)
	before := eval[float64](l.page, `document.getElementById("`+yes+`").getBoundingClientRect().top`)
	if n := eval[string](l.page, `document.getElementById("`+yes+`").textContent`); n != "0" {
		t.Fatalf("2.1.1 Yes before = %q", n)
	}
	l.answer("C-01", "2.1.1", "yes")
	l.waitFor("the new answer on the page", `document.getElementById("`+yes+`").textContent === "1"`, 15*time.Second)
	if !eval[bool](l.page, `window.__same === true`) {
		t.Error("the page reloaded")
	}
	if id := eval[string](l.page, `document.activeElement.id`); id != yes {
		t.Errorf("focus after the update on %q, want %q", id, yes)
	}
	if after := eval[float64](l.page, `document.getElementById("`+yes+`").getBoundingClientRect().top`); after < before-2 || after > before+2 {
		t.Errorf("the focused figure moved on screen from %v to %v", before, after)
	}
	if s := eval[string](l.page, `document.getElementById("live-status").textContent`); !strings.HasPrefix(s, "Updated at") {
		t.Errorf("status after the update: %q", s)
	}

	// Paused, nothing changes; resumed, the next answer appears.
	eval[bool](l.page, `document.getElementById("live-pause").focus(), true`)
	l.press("\r")
	if p := eval[string](l.page, `document.getElementById("live-pause").getAttribute("aria-pressed")`); p != "true" {
		t.Fatalf("pause by Enter: aria-pressed=%q", p)
	}
	l.answer("C-02", "2.1.1", "yes")
	time.Sleep(5 * time.Second) // more than two polls
	if n := eval[string](l.page, `document.getElementById("`+yes+`").textContent`); n != "1" {
		t.Errorf("paused, the page changed anyway: %q", n)
	}
	l.press(" ")
	l.waitFor("the answer after resuming", `document.getElementById("`+yes+`").textContent === "2"`, 15*time.Second)
	if id := eval[string](l.page, `document.activeElement.id`); id != "live-pause" {
		t.Errorf("focus after resuming on %q, want the pause button", id)
	}

	l.keyboardOnly(livePath)

	// Sign out by keyboard: the cookie is gone from the browser and every
	// page sends it to sign in.
	l.open(livePath, `document.getElementById("live-data")`)
	eval[bool](l.page, `document.querySelector('form[action="/logout"] button').focus(), true`)
	l.leaving()
	l.press("\r")
	l.arrived(`location.pathname === "/login"`)
	cookies, err := chromedp.Call(l.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{l.base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies.Cookies {
		if c.Name == "fieldwork_session" {
			t.Errorf("after signing out the browser still holds %s", c.Name)
		}
	}
	for _, p := range []string{livePath, "/", "/pooled/?id=" + l.w.InspectionID + "&id=" + l.second, livePath + "evidence?question=2.1.1"} {
		l.open(p, `location.pathname === "/login"`)
	}
}

// keyboardOnly tabs through the whole live page from the top: Tab reaches
// every control in document order, each shows a visible focus, and the
// skip link (the first stop) moves to the main content.
func (l *liveView) keyboardOnly(livePath string) {
	l.t.Helper()
	l.open(livePath, `document.getElementById("live-data")`)
	key := `function (e) { return e.id || e.getAttribute("href") || e.textContent.trim(); }`
	want := eval[[]string](l.page, `Array.from(document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')).filter(function (e) {
		return e.tabIndex >= 0 && !e.disabled && !e.hidden && e.type !== "hidden" && e.getClientRects().length > 0; }).map(`+key+`)`)
	if len(want) < 20 {
		l.t.Fatalf("only %d controls on the live page: %q", len(want), want)
	}
	var got []string
	for i := range want {
		l.press("\t")
		got = append(got, eval[string](l.page, `(function () { var e = document.activeElement, s = getComputedStyle(e);
			return (`+key+`)(e) + (s.outlineStyle === "none" || parseFloat(s.outlineWidth) < 2 ? " [no visible focus]" : ""); })()`))
		if got[i] != want[i] {
			l.t.Fatalf("Tab %d reached %q, want %q (order so far %q)", i+1, got[i], want[i], got)
		}
	}
	// The skip link: visible when focused, and Enter moves to main.
	eval[bool](l.page, `document.activeElement.blur(), window.scrollTo(0, 0), true`)
	l.open(livePath, `document.getElementById("live-data")`)
	l.press("\t")
	if first := eval[string](l.page, `document.activeElement.className + " " + (document.activeElement.getBoundingClientRect().left >= 0)`); first != "skip true" {
		l.t.Errorf("first Tab stop: %q, want the skip link, on screen", first)
	}
	l.press("\r")
	l.waitFor("focus on main", `document.activeElement.id === "main"`, 2*time.Second)
}
