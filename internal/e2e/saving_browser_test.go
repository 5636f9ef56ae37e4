package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// After Save answers the inspector is where they were (not at the top);
// a failed save lists its problems at the top, each a link to its
// question, the first focused; Submit saves first, and its refusal lists
// every unanswered question (today: cut after 40, as text) as a link.
func TestBrowser_SavingKeepsYourPlaceAndListsProblems(t *testing.T) {
	r := startRecording(t)
	r.open("C-01")

	// A late question answered by keyboard, then Alt+S.
	eval[bool](r.page, `document.getElementById("v-2.4.2-yes").focus(), true`)
	r.keys("y")
	r.keys("late note")
	r.leaving()
	r.accessKey('s')
	r.arrived(`document.querySelector(".flash") && document.querySelector(".flash").innerText.indexOf("Saved") >= 0`)
	if got := r.active(); got != "n-2.4.2" {
		t.Errorf("after Save answers the focus is on %q, want the note n-2.4.2 it was in", got)
	}
	if y := eval[float64](r.page, `scrollY`); y < 2000 {
		t.Errorf("after Save answers the page is at scrollY %v: sent back to the top", y)
	}
	if got := r.local("C-01")["2.4.2"]; got != "yes|late note" {
		t.Errorf("2.4.2 = %q", got)
	}

	// A failed save: two refused inputs, listed at the top as links, the
	// first focused; the link takes the cursor to its question.
	eval[bool](r.page, `document.getElementById("v-2.3.S1").value = "0"; document.getElementById("n-2.1.2").value = "a note with no answer"; true`)
	r.leaving()
	eval[bool](r.page, `document.querySelector('button[accesskey="s"]').click(), true`)
	r.arrived(`document.getElementById("problems")`)
	links := eval[string](r.page, `Array.prototype.map.call(document.querySelectorAll("#problems a"), function (a) { return a.getAttribute("href"); }).join(" ")`)
	if links != "#q-2.1.2 #q-2.3.S1" {
		t.Errorf("problem links = %q, want #q-2.1.2 #q-2.3.S1 in page order", links)
	}
	if got := eval[string](r.page, `document.activeElement.getAttribute("href") || document.activeElement.id`); got != "#q-2.1.2" {
		t.Errorf("focus after a failed save is on %q, want the first problem's link", got)
	}
	r.keys(kb.Enter)
	if got := r.active(); !strings.HasPrefix(got, "v-2.1.2") {
		t.Errorf("the problem's link took the cursor to %q, want 2.1.2's choices", got)
	}

	// Submit right after a keyboard answer (the page's save not yet back):
	// saved first, then refused for the questions still unanswered, every
	// one listed as a link (more than 40 of them).
	eval[bool](r.page, `document.getElementById("v-2.3.S1").value = "2"; document.getElementById("n-2.1.2").value = ""; document.getElementById("v-2.1.3-yes").focus(); true`)
	r.keys("y")
	r.leaving()
	eval[bool](r.page, `document.getElementById("submit").click(), true`)
	r.arrived(`document.querySelector(".flash") && document.querySelector(".flash").innerText.indexOf("Not submitted") >= 0`)
	got := r.local("C-01")
	if got["2.1.3"] != "yes|" || got["2.3.S1"] != "2|" {
		t.Errorf("Submit did not save first: 2.1.3=%q 2.3.S1=%q", got["2.1.3"], got["2.3.S1"])
	}
	want := 65 - len(got)
	n := eval[int](r.page, `document.querySelectorAll('#problems a[href^="#q-"]').length`)
	if n != want || n <= 40 {
		t.Errorf("the refusal lists %d question(s), want all %d unanswered", n, want)
	}
	if f := eval[string](r.page, `document.activeElement.getAttribute("href") || ""`); !strings.HasPrefix(f, "#q-") {
		t.Errorf("focus after the refusal = %q, want the first missing question's link", f)
	}
}

// A section (or a key question with its prompts) marked not applicable
// in one action: each unanswered question recorded na as its own answer,
// those already answered left alone and named.
func TestBrowser_SectionNotApplicableInOneAction(t *testing.T) {
	r := startRecording(t)
	r.open("C-01")
	eval[bool](r.page, `document.getElementById("v-2.4.1a-yes").click(), true`)
	r.settled()
	r.leaving()
	eval[bool](r.page, `document.querySelector('button.na-all[value="P2.4"]').click(), true`)
	r.arrived(`document.querySelector(".flash")`)
	flash := eval[string](r.page, `document.querySelector(".flash").innerText`)
	if !strings.Contains(flash, "Marked 13 question(s) of P2.4 not applicable") || !strings.Contains(flash, "2.4.1a") {
		t.Errorf("flash = %q", flash)
	}
	got := r.local("C-01")
	na := 0
	for q, v := range got {
		if strings.HasPrefix(q, "2.4.") && v == "na|" {
			na++
		}
	}
	if na != 13 || got["2.4.1a"] != "yes|" {
		t.Errorf("P2.4: %d na, 2.4.1a=%q; want 13 na and 2.4.1a left yes (%v)", na, got["2.4.1a"], got)
	}
	// Each is its own op in the outbox, as a one-by-one answer would be.
	if n, _ := r.insp.Local.PendingCount(t.Context()); n != 14 {
		t.Errorf("%d op(s) queued, want 14 (one per answer)", n)
	}
	if got := r.active(); got != "q-2.4.1" && !strings.HasPrefix(got, "v-2.4.1") {
		t.Errorf("after the action the cursor is on %q, want the section's first question", got)
	}
	// A key question with its prompts.
	r.leaving()
	eval[bool](r.page, `document.querySelector('button.na-all[value="2.1.2"]').click(), true`)
	r.arrived(`document.querySelector(".flash")`)
	got = r.local("C-01")
	if got["2.1.2"] != "na|" || got["2.1.2a"] != "na|" || got["2.1.1"] != "" || got["2.1.3"] != "" {
		t.Errorf("key question 2.1.2 na: 2.1.2=%q 2.1.2a=%q 2.1.1=%q 2.1.3=%q", got["2.1.2"], got["2.1.2a"], got["2.1.1"], got["2.1.3"])
	}
}

// A submitted case is shown read-only, with all its attributes; its
// printable view lists every answer and note.
func TestBrowser_SubmittedCaseReadOnlyWithAttributesAndPrint(t *testing.T) {
	r := startRecording(t)
	r.open("C-02")
	for _, a := range []string{"Sentence type", "community", "Risk of serious harm", "medium", "MAPPA level", "none", "Sex", "Age band", "Ethnicity", "Probation delivery unit", "Contact suspended", "insp.a"} {
		if !strings.Contains(eval[string](r.page, `document.querySelector("dl.attrs").innerText`), a) {
			t.Errorf("the case page does not show %q among its attributes", a)
		}
	}
	// Answer everything (a note on 2.1.1), submit.
	eval[bool](r.page, `document.querySelectorAll('fieldset:not(.na) input[type=radio][value=yes]').forEach(function (r) { r.click(); });
		document.getElementById("v-2.3.S1").value = "3"; document.getElementById("n-2.1.1").value = "<b>seen</b> plan"; true`)
	r.settled()
	r.leaving()
	eval[bool](r.page, `document.getElementById("submit").click(), true`)
	r.arrived(`document.querySelector(".flash") && document.querySelector(".flash").innerText.indexOf("submitted") >= 0`)
	if f := eval[string](r.page, `document.querySelector(".flash").innerText`); f != "Case submitted." {
		t.Fatalf("submit: %q", f)
	}
	if ro := eval[string](r.page, `(document.getElementById("readonly") || {}).innerText || ""`); !strings.Contains(ro, "submitted") {
		t.Errorf("the submitted case does not say it is read-only: %q", ro)
	}
	if n := eval[int](r.page, `Array.prototype.filter.call(document.querySelectorAll("#answers input:not([type=hidden]), #answers textarea"), function (e) { return !e.matches(":disabled"); }).length`); n != 0 {
		t.Errorf("%d input(s) still editable on a submitted case", n)
	}
	if n := eval[int](r.page, `document.querySelectorAll('#answers button[type=submit]:not([disabled]), #submit, .na-all').length`); n != 0 {
		t.Errorf("%d save/submit/na button(s) on a submitted case", n)
	}
	// The printable view.
	r.leaving()
	eval[bool](r.page, `document.querySelector('a[href$="/print"]').click(), true`)
	r.arrived(`location.pathname.endsWith("/print")`)
	row := eval[string](r.page, `document.getElementById("p-2.1.1").innerText`)
	if !strings.Contains(row, "Yes") || !strings.Contains(row, "<b>seen</b> plan") || !strings.Contains(row, "insp.a") {
		t.Errorf("print row for 2.1.1 = %q", row)
	}
	if n := eval[int](r.page, `document.querySelectorAll("b").length`); n != 0 {
		t.Error("a note's markup was rendered as HTML in the print view")
	}
	if got := eval[string](r.page, `document.getElementById("p-2.3.S1").innerText`); !strings.Contains(got, "3") {
		t.Errorf("print row for the count = %q", got)
	}
	c, _ := r.insp.Local.Cases(t.Context(), r.w.InspectionID)
	for _, x := range c {
		if x.Ref == "C-02" && x.Status != framework.CaseSubmitted {
			t.Errorf("C-02 is %s on the laptop", x.Status)
		}
	}
}
