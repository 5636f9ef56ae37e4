package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

// browser starts headless Chromium (Debian's, installed by
// scripts/browsers.sh); the test skips only when it is not installed.
func browser(t *testing.T) context.Context {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (bash scripts/browsers.sh installs it); browser tests skipped")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1100, 1400))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	bctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

func TestBrowser_AnswerSubmitSyncAndSeeTheLeadsFigureChange(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	insp := w.NewDevice(t, filepath.Join(dir, "insp"), "insp.a", w.Addr)
	if _, err := insp.Client.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	ui := client.NewUI(insp.Client, "insp.a")
	uiSrv := httptest.NewServer(ui.Handler())
	defer uiSrv.Close()
	live := httptest.NewServer(w.Srv.HTTPHandler())
	defer live.Close()
	leadToken, _, err := w.Srv.DB().IssueToken(t.Context(), framework.Actor{User: "admin", Admin: true}, "lead", 0)
	if err != nil {
		t.Fatal(err)
	}

	// Without the session key the form is closed; writes need the CSRF token.
	if resp, err := http.Get(uiSrv.URL + "/cases"); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /cases without the session key: %v %v, want 403", resp.StatusCode, err)
	}
	jar := &cookieJar{}
	hc := &http.Client{Jar: jar}
	if _, err := hc.Get(ui.StartURL(uiSrv.URL)); err != nil {
		t.Fatal(err)
	}
	resp, err := hc.PostForm(uiSrv.URL+"/sync", url.Values{"back": {"/cases"}})
	if err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST /sync without the CSRF token: %v %v, want 403", resp.StatusCode, err)
	}

	ctx := browser(t)
	// flashSays waits (through the navigation a form post causes) for the
	// page's message to contain one of words, and for the page to have
	// loaded: the message is at the top, the rest may still be parsing.
	flashSays := func(words ...string) string {
		last := ""
		for range 200 {
			text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function () { var f = document.querySelector(".flash"); return f && document.readyState === "complete" ? f.innerText : ""; })()`))
			if err == nil {
				last = text
				for _, w := range words {
					if strings.Contains(text, w) {
						return text
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("the page never said any of %q (it said %q)", words, last)
		return ""
	}
	leadPage := live.URL + "/inspections/" + w.InspectionID + "/"
	figure := func() string {
		if err := chromedp.Do(ctx, chromedp.Navigate(leadPage)); err != nil {
			t.Fatalf("lead's view: %v", err)
		}
		if body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`)); err != nil || !strings.Contains(body, "Key questions") {
			t.Fatalf("lead's view is not the report: %v\n%.500s", err, body)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(`//h2[@id="key_questions"]/following-sibling::table[1]//tr[td[1][normalize-space()="2.1.1"]]`))
		if err != nil {
			t.Fatalf("lead's view: %v", err)
		}
		return strings.Join(strings.Fields(text), " ")
	}
	// The lead signs in with their token and sees no figure for 2.1.1 yet.
	if err := chromedp.Do(ctx, chromedp.Navigate(live.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), leadToken), chromedp.Submit(chromedp.CSS(`#token`)), chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`))); err != nil {
		t.Fatal(err)
	}
	before := figure()
	if !strings.Contains(before, "2.1.1 P2.1") || !strings.Contains(before, " 0 0 –") {
		t.Fatalf("lead's 2.1.1 before = %q, want 0 of 0 and no figure", before)
	}

	// The inspector opens the form, answers C-01 through the page and saves.
	err = chromedp.Do(ctx,
		chromedp.Navigate(ui.StartURL(uiSrv.URL)),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/cases/C-01"]`)),
		chromedp.Click(chromedp.CSS(`a[href$="/cases/C-01"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#q-2\.1\.1`)),
		// A real click and a keyboard shortcut…
		chromedp.Click(chromedp.CSS(`input[name="v-2.1.1"][value="yes"]`)),
		chromedp.Focus(chromedp.CSS(`#q-2\.1\.2`)),
		chromedp.KeyEvent("n"),
		typeInto(chromedp.CSS(`#n-2\.1\.1`), "seen the OASys review"),
	)
	if err != nil {
		t.Fatalf("answering through the page: %v", err)
	}
	// …then every other applicable question answered Yes, and a count below its minimum.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelectorAll('fieldset:not(.na) input[type=radio][value=yes]').forEach(function (r) {
			if (!document.querySelector('input[name="' + r.name + '"]:checked')) { r.click(); } });
			document.querySelector('#v-2\\.3\\.S1').value = '0'; true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[accesskey="s"]`))); err != nil {
		t.Fatal(err)
	}
	// The page saved most answers as they were chosen; the button saves the
	// rest and refuses the count.
	if f := flashSays("need attention"); !strings.Contains(f, "answer(s); 1 need attention") {
		t.Errorf("first save: %q, want 1 to fix", f)
	}
	if msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("msg-2.3.S1").innerText`)); err != nil || !strings.Contains(msg, "below the minimum 1") {
		t.Errorf("validation message for a count of 0 = %q, %v", msg, err)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`#v-2\.3\.S1`), "2"), chromedp.Click(chromedp.CSS(`button[accesskey="s"]`))); err != nil {
		t.Fatal(err)
	}
	// Saved by the page as it changed, or by the button: either way no
	// message is left (the local answers are checked below).
	flash := flashSays("on this laptop")
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
	if err != nil {
		t.Fatal(err)
	}
	// 200% zoom on a 1280-pixel screen is a 640-pixel-wide CSS viewport: the
	// case page must still fit without scrolling sideways.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(640, 900, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || overflow {
		t.Errorf("at 200%% zoom the case page scrolls sideways (%v)", err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 1400)); err != nil {
		t.Fatal(err)
	}
	if msgs, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("p.msg").length`)); err != nil || msgs != 0 {
		t.Errorf("after correcting the count: %q, and %d message(s) left (%v)", flash, msgs, err)
	}
	if len(shot) < 20_000 {
		t.Errorf("screenshot of the case page is %d bytes", len(shot))
	}
	if d := os.Getenv("FIELDWORK_RENDER_DIR"); d != "" {
		os.WriteFile(filepath.Join(d, "case-page.jpg"), shot, 0o644)
	}
	local, _ := insp.Local.Answers(t.Context(), w.InspectionID, "C-01")
	got := map[string]string{}
	for _, a := range local {
		got[a.QuestionID] = a.Value + "|" + a.Note
	}
	if got["2.1.1"] != "yes|seen the OASys review" || got["2.1.2"] != "no|" || got["2.3.S1"] != "2|" || len(got) != 65 {
		t.Errorf("local answers: 2.1.1=%q 2.1.2=%q 2.3.S1=%q, %d in all; want yes+note, no (keyboard), 2, 65", got["2.1.1"], got["2.1.2"], got["2.3.S1"], len(got))
	}

	// Submit (which syncs first), then the lead's figure has changed.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[formaction$="/submit"]`))); err != nil {
		t.Fatal(err)
	}
	if flash = flashSays("submitted"); !strings.Contains(flash, "Case submitted") {
		t.Fatalf("submit: %q", flash)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#sync-now`))); err != nil {
		t.Fatal(err)
	}
	flashSays("Synced", "Sync failed")
	// Read through JavaScript: after a form's navigation chromedp's cached
	// node ids may point into the previous document.
	status, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#sync-status").innerText`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status, "0 unsynced") {
		t.Errorf("sync status after syncing = %q", status)
	}
	after := figure()
	if !strings.Contains(after, " 1 1 100%") {
		t.Errorf("lead's 2.1.1 after the sync = %q, want 1 of 1 (100%%)", after)
	}
}

// cookieJar is a minimal jar for one host.
type cookieJar struct{ cookies []*http.Cookie }

func (j *cookieJar) SetCookies(_ *url.URL, cs []*http.Cookie) { j.cookies = append(j.cookies, cs...) }
func (j *cookieJar) Cookies(*url.URL) []*http.Cookie          { return j.cookies }
