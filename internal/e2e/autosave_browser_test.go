package e2e

import (
	"context"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

// page drives one browser tab through the web form.
type page struct {
	t   *testing.T
	ctx context.Context
}

// eval runs JavaScript in the tab.
func eval[T any](p page, js string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// leaving marks the current document, so arrived can tell the next one.
func (p page) leaving() {
	p.t.Helper()
	eval[bool](p, `window.__left = true`)
}

// arrived waits for a new document (one leaving did not mark) to have
// loaded and for cond, a JavaScript expression, to hold on it.
func (p page) arrived(cond string) {
	p.t.Helper()
	js := `(function () { return !window.__left && document.readyState === "complete" && !!(` + cond + `); })()`
	var last error
	for range 200 {
		ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	body, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	p.t.Fatalf("never arrived at a page where %s (%v)\n%.600s", cond, last, body)
}

// The inspector chooses an answer and at once presses Sync now: the answer
// is saved on the laptop and reaches the server in that very sync. Today's
// form lost it (only Save answers saved).
func TestBrowser_AnswerThenSyncAtOnce(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	insp := w.NewDevice(t, filepath.Join(dir, "insp"), "insp.a", w.Addr)
	if _, err := insp.Client.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	ui := client.NewUI(insp.Client, "insp.a")
	uiSrv := httptest.NewServer(ui.Handler())
	defer uiSrv.Close()
	p := page{t, browser(t)}

	// Opened as `fieldwork ui` opens it: the start page file posts its
	// one-time code, and the session cookie is in place for what follows.
	start, remove, err := ui.WriteStartPage(uiSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	if err := chromedp.Do(p.ctx, chromedp.Navigate("file://"+start)); err != nil {
		t.Fatal(err)
	}
	p.arrived(`location.pathname === "/cases" && document.querySelector('a[href$="/cases/C-01"]')`)
	p.leaving()
	eval[bool](p, `document.querySelector('a[href$="/cases/C-01"]').click(), true`)
	p.arrived(`document.getElementById("q-2.1.1")`)

	server := func() map[string]string {
		t.Helper()
		as, err := w.Srv.DB().Answers(t.Context(), w.InspectionID, "C-01")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, a := range as {
			m[a.QuestionID] = a.Value + "|" + a.Note
		}
		return m
	}
	local := func() map[string]string {
		t.Helper()
		as, err := insp.Local.Answers(t.Context(), w.InspectionID, "C-01")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, a := range as {
			m[a.QuestionID] = a.Value + "|" + a.Note
		}
		return m
	}

	// In one go: the choice's autosave has not even been sent when the
	// button posts the page.
	p.leaving()
	eval[bool](p, `document.querySelector('input[name="v-2.1.1"][value="yes"]').click();
		document.querySelector('#sync-now').click(); true`)
	p.arrived(`document.querySelector(".flash") && document.querySelector(".flash").innerText.indexOf("Synced") >= 0`)
	if got := server()["2.1.1"]; got != "yes|" {
		t.Errorf("server 2.1.1 after choosing and syncing at once = %q, want yes", got)
	}

	// With the mouse, a note typed and not yet saved by its pause, then Sync now.
	if err := chromedp.Do(p.ctx,
		chromedp.Click(chromedp.CSS(`input[name="v-2.1.2"][value="no"]`)),
		typeInto(chromedp.CSS(`#n-2\.1\.2`), "no plan on file"),
	); err != nil {
		t.Fatal(err)
	}
	p.leaving()
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(`#sync-now`))); err != nil {
		t.Fatal(err)
	}
	p.arrived(`document.querySelector(".flash") && document.querySelector(".flash").innerText.indexOf("Synced") >= 0`)
	srv, loc := server(), local()
	for q, want := range map[string]string{"2.1.1": "yes|", "2.1.2": "no|no plan on file"} {
		if srv[q] != want || loc[q] != want {
			t.Errorf("%s: server %q, laptop %q, want %q", q, srv[q], loc[q], want)
		}
	}
	if n, _ := insp.Local.PendingCount(t.Context()); n != 0 {
		t.Errorf("%d op(s) left unsynced", n)
	}
	if text := eval[string](p, `document.getElementById("sync-status").innerText`); !strings.Contains(text, "0 unsynced") {
		t.Errorf("sync status = %q", text)
	}

	// Submit case right after a choice: saved, synced and then submitted
	// (refused here as incomplete, but the answer is on the server).
	p.leaving()
	eval[bool](p, `document.querySelector('input[name="v-2.1.3"][value="yes"]').click();
		document.querySelector('button[formaction$="/submit"]').click(); true`)
	p.arrived(`document.querySelector(".flash")`)
	if got := server()["2.1.3"]; got != "yes|" {
		t.Errorf("server 2.1.3 after choosing and submitting at once = %q, want yes", got)
	}
}

// Leaving the case page by a link, by typing an address or by a reload
// right after an answer or a note keeps it; an answer the store refuses is
// shown beside its question. The case's reference holds every character a
// link must encode.
func TestBrowser_LeavingTheCasePageKeepsTheAnswer(t *testing.T) {
	const ref = "GW/001 #a?b%"
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	insp := w.NewDevice(t, filepath.Join(dir, "insp"), "insp.a", w.Addr)
	if _, err := insp.Client.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A reference the importer now refuses may still be on a laptop; the
	// form must open it all the same.
	cs, err := insp.Local.Cases(t.Context(), w.InspectionID)
	if err != nil || len(cs) == 0 {
		t.Fatal(cs, err)
	}
	odd := cs[0]
	odd.Ref = ref
	cursor, _ := insp.Local.Meta(t.Context(), "cursor")
	at, _ := strconv.ParseInt(cursor, 10, 64)
	if err := insp.Local.ApplyChanges(t.Context(), []framework.Change{{InspectionID: w.InspectionID, Case: &odd}}, at); err != nil {
		t.Fatal(err)
	}
	ui := client.NewUI(client.New(nil, client.NewOffline(insp.Local)), "insp.a")
	uiSrv := httptest.NewServer(ui.Handler())
	defer uiSrv.Close()
	p := page{t, browser(t)}
	answer := func(q string) string {
		t.Helper()
		as, err := insp.Local.Answers(t.Context(), w.InspectionID, ref)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if a.QuestionID == q {
				return a.Value + "|" + a.Note
			}
		}
		return ""
	}
	caseURL := "/inspections/" + url.PathEscape(w.InspectionID) + "/cases/" + url.PathEscape(ref)
	openCase := func() {
		t.Helper()
		if eval[string](p, `location.pathname`) != "/cases" {
			p.leaving()
			eval[bool](p, `document.querySelector('header a[href="/cases"]').click(), true`)
			p.arrived(`location.pathname === "/cases"`)
		}
		p.leaving()
		eval[bool](p, `Array.prototype.find.call(document.querySelectorAll("a"), function (a) { return a.textContent === "`+ref+`"; }).click(), true`)
		p.arrived(`document.getElementById("q-2.1.1")`)
		if got := eval[string](p, `location.pathname`); got != caseURL {
			t.Fatalf("the link opened %q, want %q", got, caseURL)
		}
		if h1 := eval[string](p, `document.querySelector("h1").innerText`); h1 != "Case "+ref {
			t.Fatalf("the case page is %q", h1)
		}
	}

	if err := chromedp.Do(p.ctx, chromedp.Navigate(ui.StartURL(uiSrv.URL))); err != nil {
		t.Fatal(err)
	}
	p.arrived(`location.pathname === "/cases"`)
	openCase()

	// A choice, then at once My cases.
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(`input[name="v-2.1.1"][value="yes"]`))); err != nil {
		t.Fatal(err)
	}
	p.leaving()
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(`header a[href="/cases"]`))); err != nil {
		t.Fatal(err)
	}
	p.arrived(`document.querySelector("h1").innerText === "My cases"`)
	if got := answer("2.1.1"); got != "yes|" {
		t.Errorf("2.1.1 after choosing and going to My cases = %q, want yes", got)
	}
	if progress := eval[string](p, `document.querySelector('a[href="`+caseURL+`"]').closest("tr").innerText`); !strings.Contains(progress, "1/") {
		t.Errorf("My cases shows %q for the case, want 1 answered", progress)
	}

	// A choice and a link in the same moment, then a note typed and Conflicts.
	openCase()
	p.leaving()
	eval[bool](p, `document.querySelector('input[name="v-2.1.2"][value="no"]').click();
		document.querySelector('header a[href="/conflicts"]').click(); true`)
	p.arrived(`document.querySelector("h1").innerText === "Conflicts"`)
	if got := answer("2.1.2"); got != "no|" {
		t.Errorf("2.1.2 after choosing and going to Conflicts at once = %q, want no", got)
	}
	openCase()
	if err := chromedp.Do(p.ctx, typeInto(chromedp.CSS(`#n-2\.1\.2`), "plan not yet shared")); err != nil {
		t.Fatal(err)
	}
	p.leaving()
	eval[bool](p, `document.querySelector('header a[href="/conflicts"]').click(), true`)
	p.arrived(`document.querySelector("h1").innerText === "Conflicts"`)
	if got := answer("2.1.2"); got != "no|plan not yet shared" {
		t.Errorf("2.1.2 after a note and going to Conflicts = %q", got)
	}

	// A note typed, then the tab goes elsewhere without a link (an address
	// typed, a reload, the tab closed): saved as the page goes.
	openCase()
	if err := chromedp.Do(p.ctx,
		chromedp.Click(chromedp.CSS(`input[name="v-2.1.3"][value="na"]`)),
		typeInto(chromedp.CSS(`#n-2\.1\.3`), "transferred in"),
		chromedp.Navigate("about:blank"),
	); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for answer("2.1.3") != "na|transferred in" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := answer("2.1.3"); got != "na|transferred in" {
		t.Errorf("2.1.3 after leaving by the address bar = %q, want na with the note", got)
	}

	// An answer the store refuses is shown beside its question, and the
	// status says so.
	if err := chromedp.Do(p.ctx, chromedp.Navigate(uiSrv.URL+"/cases")); err != nil {
		t.Fatal(err)
	}
	p.arrived(`location.pathname === "/cases"`)
	openCase()
	if err := chromedp.Do(p.ctx,
		typeInto(chromedp.CSS(`#v-2\.3\.S1`), "0"),
		chromedp.Focus(chromedp.CSS(`#n-2\.3\.S1`)),
	); err != nil {
		t.Fatal(err)
	}
	p.arrived(`document.getElementById("msg-2.3.S1")`)
	if msg := eval[string](p, `document.getElementById("msg-2.3.S1").innerText`); !strings.Contains(msg, "below the minimum 1") {
		t.Errorf("message beside 2.3.S1 = %q", msg)
	}
	if st := eval[string](p, `document.getElementById("save-status").innerText`); !strings.Contains(st, "not saved") {
		t.Errorf("save status = %q", st)
	}
	if role := eval[string](p, `document.getElementById("save-status").getAttribute("role")`); role != "status" {
		t.Errorf("save status role = %q", role)
	}
	// Save answers then keeps the refused input and its message on the page.
	p.leaving()
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(`button[accesskey="s"]`))); err != nil {
		t.Fatal(err)
	}
	p.arrived(`document.querySelector(".flash") && document.getElementById("msg-2.3.S1")`)
	if f := eval[string](p, `document.querySelector(".flash").innerText`); !strings.Contains(f, "1 need attention") {
		t.Errorf("Save answers with a refused count: %q", f)
	}
	if v := eval[string](p, `document.getElementById("v-2.3.S1").value`); v != "0" {
		t.Errorf("the refused count on the page after Save answers = %q, want 0 kept", v)
	}
	// Corrected, it is saved and the message goes.
	if err := chromedp.Do(p.ctx,
		chromedp.SetValue(chromedp.CSS(`#v-2\.3\.S1`), ""),
		typeInto(chromedp.CSS(`#v-2\.3\.S1`), "3"),
		chromedp.Focus(chromedp.CSS(`#n-2\.3\.S1`)),
	); err != nil {
		t.Fatal(err)
	}
	p.arrived(`!document.getElementById("msg-2.3.S1") && document.getElementById("save-status").innerText.indexOf("All answers saved") >= 0`)
	if got := answer("2.3.S1"); got != "3|" {
		t.Errorf("2.3.S1 after correcting = %q, want 3", got)
	}
}

// typeInto focuses an input and types into it with key events. Not
// chromedp.SendKeys: it reads the node's attributes unlocked while the
// page's script changes them (aria-invalid as autosave answers), a data
// race inside chromedp v0.23 that -race reports.
func typeInto[S chromedp.Selectable](sel S, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Focus(sel), chromedp.KeyEvent(text))
}
