package e2e

import (
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

// The QA marker opens the second-marking form of a case (fieldwork ui
// --second) offline, in Chromium: it shows none of the first marking, the
// answer given through the page is saved to the second marking on the
// laptop (the case's answers untouched), it serves that case only, and the
// next sync delivers the marking to the server.
func TestBrowser_SecondMarkingFormSavesOffline(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	insp := w.InspectionID
	a := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	qa := w.NewDevice(t, filepath.Join(dir, "q"), "qa", w.Addr)
	lead := w.NewDevice(t, filepath.Join(dir, "l"), "lead", w.Addr)
	ctx := t.Context()
	if _, err := a.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Local.Record(ctx, "insp.a", insp, "C-01", "2.1.1", "no", "FIRSTNOTE"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Srv.DB().SelectForQA(ctx, framework.Actor{User: "lead", Device: "l"}, insp, "qa", []string{"C-01"}); err != nil {
		t.Fatal(err)
	}
	if _, err := qa.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	// Offline: a client with no connection over the QA marker's store.
	ui := client.NewSecondUI(client.New(nil, qa.Client.Offline()), "qa", insp, "C-01")
	srv := httptest.NewServer(ui.Handler())
	defer srv.Close()
	bctx := browser(t)
	body := func() string {
		t.Helper()
		text, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(ui.StartURL(srv.URL)), chromedp.WaitVisible(chromedp.CSS(`#second`)),
		chromedp.WaitVisible(chromedp.CSS(`#q-2\.1\.1`))); err != nil {
		t.Fatalf("opening the second-marking form: %v", err)
	}
	page := body()
	if !strings.Contains(page, "Case C-01: second marking") || strings.Contains(page, "FIRSTNOTE") {
		t.Fatalf("the second-marking form (want its heading and none of the first marking):\n%.1500s", page)
	}
	checked, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('input[type=radio]:checked').length`))
	if err != nil || checked != 0 {
		t.Fatalf("the form shows %d answer(s) checked before the marker answers (%v), want 0", checked, err)
	}
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`input[name="v-2.1.1"][value="yes"]`)),
		typeInto(chromedp.CSS(`#n-2\.1\.1`), "second look"),
		chromedp.Click(chromedp.CSS(`button[accesskey="s"]`)),
	); err != nil {
		t.Fatal(err)
	}
	// The page saves as it goes (autosave); Save waits for it to say so.
	for i := 0; ; i++ {
		if text, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("save-status").innerText`)); strings.Contains(text, "All answers saved") {
			break
		}
		if i > 200 {
			t.Fatalf("the page never said it saved:\n%.600s", body())
		}
		time.Sleep(50 * time.Millisecond)
	}
	ms, err := qa.Local.MarkingAnswers(ctx, insp, "C-01")
	if err != nil || len(ms) != 1 || ms[0].QuestionID != "2.1.1" || ms[0].Value != "yes" || ms[0].Note != "second look" || ms[0].UpdatedBy != "qa" {
		t.Fatalf("the second marking on the laptop after the save: %+v %v", ms, err)
	}
	if as, _ := qa.Local.Answers(ctx, insp, "C-01"); len(as) != 0 {
		t.Errorf("the form wrote the case's answers: %+v", as)
	}
	if n, _ := qa.Local.PendingCount(ctx); n == 0 {
		t.Error("nothing queued for the next sync after the save")
	}
	// The form serves this one case only.
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/inspections/"+insp+"/cases/C-02")); err != nil {
		t.Fatal(err)
	}
	if other := body(); !strings.Contains(other, "second marking of case C-01 only") {
		t.Errorf("another case on the second-marking form:\n%.500s", other)
	}

	// Online again: the next sync delivers it; the lead's laptop sees it.
	if _, err := qa.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := lead.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if ms, _ := lead.Local.MarkingAnswers(ctx, insp, "C-01"); len(ms) != 1 || ms[0].Value != "yes" {
		t.Errorf("the lead's laptop after the sync: %+v", ms)
	}
}
