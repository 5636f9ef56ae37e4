package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// One whole case of the GW-001 shape (issue 15) recorded in real Chromium
// as an experienced inspector would, by keyboard alone and by mouse, with
// every keystroke, click and wheel notch counted (BENCHMARKS.md); then the
// mistakes the issue lists, made on purpose, must change no answer.
//
// FIELDWORK_FORM_BEFORE=1 drives the form as it was before issue 15 (no
// section action, Tab to reach each note, no cursor moved for you): run
// this file against that tree for the "before" figures.

// gw001 is the plan: the case page's questions in order, each with the
// answer to give and, on every fourth outside section P2.4, a note.
// P2.4 does not apply to the case (14 na); of the other 50 yes/no
// questions 31 are yes, 16 no, 3 na; 2.3.S1 is a count, 2.
type gwAnswer struct{ Q, V, Note string }

func gw001(qs []string) []gwAnswer {
	var plan []gwAnswer
	yn, other := 0, 0
	for _, q := range qs {
		a := gwAnswer{Q: q}
		switch {
		case strings.HasPrefix(q, "2.4."):
			a.V = "na"
		case q == "2.3.S1":
			a.V = "2"
		default:
			switch {
			case yn == 7 || yn == 23 || yn == 39:
				a.V = "na"
			case yn%3 == 1:
				a.V = "no"
			default:
				a.V = "yes"
			}
			yn++
		}
		if !strings.HasPrefix(q, "2.4.") {
			if other%4 == 3 {
				a.Note = "seen in OASys"
			}
			other++
		}
		plan = append(plan, a)
	}
	return plan
}

type tally struct{ keys, clicks, notches, typed int }

func (r *recording) plan() []gwAnswer {
	r.t.Helper()
	qs := eval[[]string](r.page, `Array.prototype.filter.call(document.querySelectorAll("fieldset[data-q]"), function (fs) { return fs.querySelector("textarea") && !fs.hidden; }).map(function (fs) { return fs.getAttribute("data-q"); })`)
	plan := gw001(qs)
	counts := map[string]int{}
	for _, a := range plan {
		counts[a.V]++
	}
	if len(plan) != 65 || counts["yes"] != 31 || counts["no"] != 16 || counts["na"] != 17 || counts["2"] != 1 {
		r.t.Fatalf("the plan is not GW-001's shape: %d questions, %v", len(plan), counts)
	}
	return plan
}

// recorded checks the laptop's answers against the plan and returns how
// many differ.
func (r *recording) recorded(ref string, plan []gwAnswer) int {
	r.t.Helper()
	r.settled()
	got := r.local(ref)
	wrong := 0
	for _, a := range plan {
		if want := a.V + "|" + a.Note; got[a.Q] != want {
			wrong++
			r.t.Logf("%s %s: %q, planned %q", ref, a.Q, got[a.Q], want)
		}
	}
	return wrong
}

func (r *recording) press(t *tally, keys string, opts ...chromedp.KeyOption) {
	r.keys(keys, opts...)
	t.keys += len([]rune(keys))
}

func (r *recording) typeText(t *tally, text string) {
	r.keys(text)
	t.keys += len([]rune(text))
	t.typed += len([]rune(text))
}

// byKeyboard records the plan with keys only.
func (r *recording) byKeyboard(plan []gwAnswer, before bool) tally {
	var t tally
	key := map[string]string{"yes": "y", "no": "n", "na": "a"}
	if before {
		r.press(&t, strings.Repeat(kb.Tab, 5)) // My cases, Conflicts, Refused edits, Sync now, the first choice
	} else {
		r.accessKey('u') // Next unanswered: the first question
		t.keys++
	}
	for i := 0; i < len(plan); i++ {
		a := plan[i]
		if !before && strings.HasPrefix(a.Q, "2.4.") {
			// The section's action: back past the key question's own, Enter.
			r.press(&t, kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
			r.press(&t, kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
			if got := eval[string](r.page, `document.activeElement.value`); got != "P2.4" {
				r.t.Fatalf("Shift+Tab twice from 2.4.1 reached %q, not the P2.4 action", got)
			}
			r.leaving()
			r.press(&t, kb.Enter)
			r.arrived(`document.querySelector(".flash")`)
			r.press(&t, "u")
			for i+1 < len(plan) && strings.HasPrefix(plan[i+1].Q, "2.4.") {
				i++
			}
			continue
		}
		if a.V == "2" {
			r.press(&t, "2")
			if a.Note != "" {
				r.press(&t, kb.Tab)
				r.typeText(&t, a.Note)
			}
			if before {
				if a.Note == "" {
					r.press(&t, kb.Tab)
				}
				r.press(&t, kb.Tab)
			} else {
				r.press(&t, kb.Enter)
			}
			continue
		}
		r.press(&t, key[a.V])
		if before {
			r.press(&t, kb.Tab) // to the note
		}
		if a.Note != "" {
			r.typeText(&t, a.Note)
		}
		r.press(&t, kb.Tab) // the next question (after the last: Save answers before, Submit now)
	}
	if before {
		r.press(&t, kb.Tab) // Submit case
	}
	if got := eval[string](r.page, `document.activeElement.textContent`); got != "Submit case" {
		r.t.Fatalf("at the end the focus is on %q, not Submit case", got)
	}
	r.settled()
	r.leaving()
	r.press(&t, kb.Enter)
	return t
}

// click clicks the middle of the element sel names, scrolling first with
// the mouse wheel (counted) until it is clear of the sticky bar.
func (r *recording) click(t *tally, sel string) {
	r.t.Helper()
	for range 400 {
		pos := eval[[]float64](r.page, `(function () { var e = document.querySelector('`+sel+`'), b = document.querySelector(".sticky");
			var q = e.getBoundingClientRect(), top = b && !b.contains(e) ? b.getBoundingClientRect().top : innerHeight;
			return [q.left + q.width / 2, q.top + q.height / 2, q.top, q.bottom, top]; })()`)
		switch {
		case pos[3] > pos[4]-4:
			r.wheel(100)
		case pos[2] < 4:
			r.wheel(-100)
		default:
			if err := chromedp.Do(r.ctx, chromedp.MouseClickXY(pos[0], pos[1])); err != nil {
				r.t.Fatal(err)
			}
			t.clicks++
			return
		}
		t.notches++
	}
	r.t.Fatalf("never reached %s", sel)
}

func (r *recording) wheel(dy float64) {
	y0 := eval[float64](r.page, `scrollY`)
	if _, err := chromedp.Call(r.ctx, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseWheel, X: 500, Y: 300, DeltaX: 0.001, DeltaY: dy}); err != nil { // DeltaX: 0 would be left out, and it is required
		r.t.Fatal(err)
	}
	for range 40 {
		if eval[float64](r.page, `scrollY`) != y0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(30 * time.Millisecond) // let a smooth scroll end
}

// byMouse records the plan with the mouse (and the notes typed).
func (r *recording) byMouse(plan []gwAnswer, before bool) tally {
	var t tally
	for i := 0; i < len(plan); i++ {
		a := plan[i]
		esc := strings.ReplaceAll(a.Q, ".", `\\.`)
		if !before && strings.HasPrefix(a.Q, "2.4.") {
			r.leaving()
			r.click(&t, `button.na-all[value="P2.4"]`)
			r.arrived(`document.querySelector(".flash")`)
			for i+1 < len(plan) && strings.HasPrefix(plan[i+1].Q, "2.4.") {
				i++
			}
			continue
		}
		if a.V == "2" {
			r.click(&t, `#v-`+esc)
			r.typeText(&t, "2")
		} else {
			r.click(&t, `input[name="v-`+a.Q+`"][value="`+a.V+`"]`)
		}
		if a.Note != "" {
			if before || a.V == "2" {
				r.click(&t, `#n-`+esc)
			} else if got := r.active(); got != "n-"+a.Q {
				r.t.Fatalf("after a click on %s's choice the cursor is in %q, not its note", a.Q, got)
			}
			r.typeText(&t, a.Note)
		}
	}
	r.settled()
	r.leaving()
	r.click(&t, `button[formaction$="/submit"]`)
	return t
}

func TestBrowser_GW001ByKeyboardAndByMouse(t *testing.T) {
	before := os.Getenv("FIELDWORK_FORM_BEFORE") == "1"
	r := startRecording(t)
	submitted := func(ref string) {
		t.Helper()
		r.arrived(`document.querySelector(".flash")`)
		if f := eval[string](r.page, `document.querySelector(".flash").innerText`); f != "Case submitted." {
			t.Errorf("%s: submit said %q", ref, f)
		}
		cs, _ := r.insp.Local.Cases(t.Context(), r.w.InspectionID)
		for _, c := range cs {
			if c.Ref == ref && c.Status != framework.CaseSubmitted {
				t.Errorf("%s is %s after the submit", ref, c.Status)
			}
		}
	}
	report := []string{}

	r.open("C-01")
	plan := r.plan()
	k := r.byKeyboard(plan, before)
	submitted("C-01")
	if wrong := r.recorded("C-01", plan); wrong != 0 {
		t.Errorf("keyboard: %d answer(s) not as planned", wrong)
	}
	report = append(report, fmt.Sprintf("keyboard: %d keys (%d of them the notes' text), 0 clicks", k.keys, k.typed))

	r.open("C-02")
	m := r.byMouse(plan, before)
	submitted("C-02")
	if wrong := r.recorded("C-02", plan); wrong != 0 {
		t.Errorf("mouse: %d answer(s) not as planned", wrong)
	}
	report = append(report, fmt.Sprintf("mouse: %d clicks, %d wheel notches, %d keys (the notes' text)", m.clicks, m.notches, m.keys))

	// The mistakes, on C-03 answered as planned (through the page): text
	// typed on an answered question's choices (a mistyped Tab), the down
	// arrow pressed to scroll, Alt+Y, and Space on the choices.
	r.open("C-03")
	for _, a := range plan {
		if a.V == "2" {
			eval[bool](r.page, `document.getElementById("v-2.3.S1").value = "2", true`)
		} else {
			eval[bool](r.page, `document.querySelector('input[name="v-`+a.Q+`"][value="`+a.V+`"]').click(), true`)
		}
		if a.Note != "" {
			eval[bool](r.page, `document.getElementById("n-`+a.Q+`").value = "`+a.Note+`", true`)
		}
	}
	r.leaving()
	eval[bool](r.page, `document.querySelector('button[accesskey="s"]').click(), true`)
	r.arrived(`document.querySelector(".flash")`)
	if wrong := r.recorded("C-03", plan); wrong != 0 {
		t.Fatalf("C-03 not recorded as planned before the mistakes: %d", wrong)
	}
	focusChoice := func(q string) {
		eval[bool](r.page, `document.querySelector('input[name="v-`+q+`"]:checked').focus(), true`)
	}
	focusChoice(plan[0].Q) // yes
	r.keys("no plan yet, a review is due\t")
	focusChoice(plan[1].Q) // no
	r.keys(kb.ArrowDown + kb.ArrowDown)
	focusChoice(plan[2].Q)
	r.keys("   ")
	r.leaving()
	r.accessKey('y')
	time.Sleep(500 * time.Millisecond)
	left := eval[bool](r.page, `window.__left !== true`) // a new document: Alt+Y navigated
	if left {
		r.arrived(`document.querySelector(".flash")`)
	}
	wrong := r.recorded("C-03", plan)
	report = append(report, fmt.Sprintf("mistakes: %d wrong answer(s) stored; Alt+Y left the page: %v", wrong, left))
	for _, l := range report {
		t.Log(l)
	}
	if !before && (wrong != 0 || left) {
		t.Errorf("the mistakes changed %d answer(s) (Alt+Y left the page: %v), want none", wrong, left)
	}
	if !before && (k.keys-k.typed > 110 || m.clicks > 55) {
		t.Errorf("keyboard %d keys besides notes (want at most 110), mouse %d clicks (want at most 55)", k.keys-k.typed, m.clicks)
	}
}
