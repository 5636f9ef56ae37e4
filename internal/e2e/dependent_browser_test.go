package e2e

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
)

// In real Chromium, offline (no server at all): the case page shows
// PP.IE4 only once PP.IE3 is answered yes, hides it again when PP.IE3
// changes — showing it, to be cleared, while it holds an answer — and
// never sends a hidden question's inputs.
func TestBrowser_DependentQuestionShownAndHiddenOffline(t *testing.T) {
	ctx := context.Background()
	l, err := localstore.Open(ctx, filepath.Join(t.TempDir(), "client.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fw, raw, err := framework.BuiltinByID("probation-public-protection-2025")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.PutFramework(ctx, fw.ID, fw.Version, raw); err != nil {
		t.Fatal(err)
	}
	in := &framework.Inspection{ID: "I", Name: "PP", FrameworkID: fw.ID, FrameworkVersion: fw.Version, Status: framework.InspectionFieldwork, Role: "inspector"}
	if err := l.ApplyChanges(ctx, []framework.Change{{InspectionID: "I", Inspection: in}, {InspectionID: "I", Case: &framework.Case{Ref: "P-1",
		Inspector: "insp.a", Status: framework.CaseInProgress, Attributes: map[string]string{"sentence_type": "community", "sex": "male",
			"age_band": "26-39", "ethnicity": "white", "rosh": "medium", "mappa": "none", "pdu": "Test", "contact_suspended": "false"}}}}, 2); err != nil {
		t.Fatal(err)
	}
	ui := client.NewUI(client.New(nil, client.NewOffline(l)), "insp.a")
	srv := httptest.NewServer(ui.Handler())
	defer srv.Close()
	p := page{t, browser(t)}
	if err := chromedp.Do(p.ctx, chromedp.Navigate(ui.StartURL(srv.URL)), chromedp.WaitVisible(chromedp.CSS(`a[href$="/cases/P-1"]`)),
		chromedp.Click(chromedp.CSS(`a[href$="/cases/P-1"]`)), chromedp.WaitVisible(chromedp.CSS(`#q-PP\.IE3`))); err != nil {
		t.Fatal(err)
	}
	visible := func(id string) bool { return eval[bool](p, `document.getElementById("`+id+`").offsetParent !== null`) }
	waitFor := func(what, js string) {
		t.Helper()
		for range 100 {
			if eval[bool](p, js) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("never: %s", what)
	}
	if visible("q-PP.IE4") {
		t.Error("PP.IE4 is shown before PP.IE3 is answered")
	}
	if err := chromedp.Do(p.ctx, chromedp.Focus(chromedp.CSS(`#q-PP\.IE3`)), chromedp.KeyEvent("y")); err != nil {
		t.Fatal(err)
	}
	waitFor("PP.IE4 shown after PP.IE3 yes", `document.getElementById("q-PP.IE4").offsetParent !== null`)
	if visible("why-PP.IE4") {
		t.Error("PP.IE4 says it is not asked, right after PP.IE3 yes brought it in")
	}
	// A click, near the page's end: the sticky save bar no longer covers
	// the choices there (it did: issue 15).
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(`#v-PP\.IE4-no`))); err != nil {
		t.Fatal(err)
	}
	answers := func() map[string]string {
		as, err := l.Answers(ctx, "I", "P-1")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, a := range as {
			m[a.QuestionID] = a.Value
		}
		return m
	}
	waitFor("PP.IE4 saved", `!document.getElementById("save-status").textContent.includes("Saving")`)
	for range 100 {
		if answers()["PP.IE4"] == "no" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := answers(); got["PP.IE3"] != "yes" || got["PP.IE4"] != "no" {
		t.Fatalf("answers on the laptop = %v, want PP.IE3 yes and PP.IE4 no (page says %q; checked %v)", got,
			eval[string](p, `document.getElementById("save-status").textContent + " | " + (document.getElementById("msg-PP.IE4") || {}).textContent`),
			eval[bool](p, `document.querySelector('input[name="v-PP.IE4"][value="no"]').checked`))
	}
	// PP.IE3 changes to no (a click: an answer given changes only by a
	// deliberate gesture): PP.IE4 holds an answer, so it stays shown,
	// saying it is not asked now and how to clear it.
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(`#v-PP\.IE3-no`))); err != nil {
		t.Fatal(err)
	}
	waitFor("PP.IE4 marked as not asked now", `document.getElementById("why-PP.IE4").offsetParent !== null`)
	if text := eval[string](p, `document.getElementById("why-PP.IE4").innerText`); !strings.Contains(text, "PP.IE3 is no") {
		t.Errorf("PP.IE4's note = %q", text)
	}
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(`#v-PP\.IE4-na`))); err != nil {
		t.Fatal(err)
	}
	waitFor("PP.IE4 hidden once cleared", `document.getElementById("q-PP.IE4").offsetParent === null`)
	if got := answers(); got["PP.IE3"] != "no" || got["PP.IE4"] != "na" {
		t.Errorf("answers on the laptop = %v, want PP.IE3 no and PP.IE4 na", got)
	}
	// Save answers posts the page: the hidden question's inputs are not sent.
	sent := eval[bool](p, `new FormData(document.getElementById("answers")).has("v-PP.IE4")`)
	if sent {
		t.Error("the form would send the hidden PP.IE4")
	}
}
