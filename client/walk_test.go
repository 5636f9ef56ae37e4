package client_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

// walkStore is a synced device for insp.a on the sample inspection.
func walkStore(t *testing.T) (*syncsim.World, *syncsim.Device) {
	t.Helper()
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	d := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	if _, err := d.Client.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	return w, d
}

func walk(t *testing.T, off *client.Offline, user, inspectionID, ref string, lines ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := client.Walk(context.Background(), off, user, inspectionID, ref, strings.NewReader(strings.Join(lines, "\n")+"\n"), &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func stored(t *testing.T, l *localstore.Store, inspectionID, ref string) map[string]string {
	t.Helper()
	answers, err := l.Answers(t.Context(), inspectionID, ref)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range answers {
		got[a.QuestionID] = a.Value + "|" + a.Note
	}
	return got
}

func wantIn(t *testing.T, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("walk output lacks %q:\n%s", want, text)
		}
	}
}

func TestWalk_AnswersSkipsBacksJumpsAndResumes(t *testing.T) {
	w, d := walkStore(t)
	text := walk(t, d.Client.Offline(), "insp.a", w.InspectionID, "C-01",
		"y: home visit notes seen",  // 2.1.1 = yes with a note
		"n",                         // 2.1.1a = no
		"maybe",                     // refused, asked again
		"na",                        // 2.1.1b = na
		"b",                         // back to 2.1.1b
		"note: checked with the PO", // note only
		"g 2.3.3f",                  // does not apply (mappa none)
		"g 2.3.S1",
		"0", // below the minimum
		"3",
		"q",
	)
	wantIn(t, text,
		"65 applicable questions; 1 do not apply",
		"P2.1 Assessment: 0 of 19 answered (19 unanswered, marked *)",
		"* [1/65] 2.1.1 (key)",
		"saved 2.1.1 = Yes, note: home visit notes seen",
		"P2.1 Assessment: 1 of 19 answered",
		"(prompt of 2.1.1)",
		"saved 2.1.1a = No (no note)",
		`value "maybe" is not yes, no, na`,
		"current: 2.1.1b = Not applicable (no note)",
		"saved 2.1.1b = Not applicable, note: checked with the PO",
		"2.3.3f does not apply to this case (mappa is \"none\"",
		"count 0 is below the minimum 1",
		"saved 2.3.S1 = 3 (no note)",
		"Position saved",
	)
	got := stored(t, d.Local, w.InspectionID, "C-01")
	want := map[string]string{"2.1.1": "yes|home visit notes seen", "2.1.1a": "no|", "2.1.1b": "na|checked with the PO", "2.3.S1": "3|"}
	for q, v := range want {
		if got[q] != v {
			t.Errorf("%s = %q, want %q", q, got[q], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("answers = %v, want exactly %v", got, want)
	}
	// Every answer went to the outbox at once: 4 answers + 1 note change.
	if n, _ := d.Local.PendingCount(t.Context()); n != 5 {
		t.Errorf("outbox holds %d ops, want 5", n)
	}
	// Resuming starts where the walk stopped (after 2.3.S1).
	if text := walk(t, d.Client.Offline(), "insp.a", w.InspectionID, "C-01", "q"); !strings.Contains(text, "2.4.1 (key)") {
		t.Errorf("resumed walk does not start at 2.4.1:\n%s", text)
	}
	res, err := d.Client.Sync(t.Context())
	if err != nil || res.Applied != 5 {
		t.Errorf("sync after the walk = %+v, %v; want 5 applied", res, err)
	}
}

// Walk takes no guesses: words after an answer without a colon are
// refused (or, when they join into an answer, asked about), never stored
// as an answer with a note.
func TestWalk_AmbiguousInputIsAskedAboutOrRefused(t *testing.T) {
	w, d := walkStore(t)
	text := walk(t, d.Client.Offline(), "insp.a", w.InspectionID, "C-01",
		"n a",            // asked: did you mean na?
		"n",              // no: nothing saved
		"n a",            // asked again
		"y",              // yes: 2.1.1 = na
		"y seen in plan", // refused: the note needs a colon
		"yes please no",  // refused
		"y:seen in plan", // 2.1.1a = yes, note
		"q",
	)
	wantIn(t, text,
		"? did you mean na (Not applicable)?",
		"nothing saved",
		"saved 2.1.1 = Not applicable (no note)",
		`a note follows a colon: "y: seen in plan", or "y" for the answer alone — nothing saved`,
		"saved 2.1.1a = Yes, note: seen in plan",
	)
	got := stored(t, d.Local, w.InspectionID, "C-01")
	if len(got) != 2 || got["2.1.1"] != "na|" || got["2.1.1a"] != "yes|seen in plan" {
		t.Errorf("answers = %v; want 2.1.1 na and 2.1.1a yes with its note, nothing else", got)
	}
}

// Changing an answer that has a note shows the note and asks: kept,
// dropped or replaced by the walker's word, never carried on silently.
func TestWalk_ChangingAnAnswerAsksAboutItsNote(t *testing.T) {
	w, d := walkStore(t)
	text := walk(t, d.Client.Offline(), "insp.a", w.InspectionID, "C-01",
		"y: risk plan seen", "g 2.1.1",
		"n", "whatever", // not k, d or a note: nothing saved
		"n", "d", // 2.1.1 = no, note dropped
		"g 2.1.1", "y: plan found later", // replaced, the old one shown
		"g 2.1.1", "na", "k", // kept
		"g 2.1.1", "y", "", // Ctrl-D stands in below; here: Enter is not an answer
		"q",
	)
	wantIn(t, text,
		"2.1.1 was Yes, note: risk plan seen",
		"keep this note with No? k keeps it, d drops it",
		`answer k, d or ": NOTE" — nothing saved; 2.1.1 stays Yes`,
		"saved 2.1.1 = No (no note)",
		"saved 2.1.1 = Yes, note: plan found later",
		"2.1.1 was Yes, note: plan found later",
		"saved 2.1.1 = Not applicable, note: plan found later",
	)
	if got := stored(t, d.Local, w.InspectionID, "C-01")["2.1.1"]; got != "na|plan found later" {
		t.Errorf("2.1.1 = %q, want na with the kept note", got)
	}
}

// u goes to the next unanswered question; m and the end of the case list
// every unanswered one as a g line, none left out.
func TestWalk_UnansweredMarkedNextAndListedWhole(t *testing.T) {
	w, d := walkStore(t)
	off := d.Client.Offline()
	_, fw, _ := off.InspectionFramework(t.Context(), w.InspectionID)
	c := localCase(t, off, w.InspectionID, "C-01")
	qs := fw.Applicable(framework.Facts{Attributes: c.Attributes})
	// Everything but the 3rd and the last two answered.
	for i, q := range qs {
		if i == 2 || i >= len(qs)-2 {
			continue
		}
		if _, err := off.Record(t.Context(), "insp.a", client.Edit{InspectionID: w.InspectionID, CaseRef: "C-01", QuestionID: q.ID, Value: "na"}); err != nil {
			t.Fatal(err)
		}
	}
	text := walk(t, off, "insp.a", w.InspectionID, "C-01", "g "+qs[0].ID, "u", "u", "m", "g "+qs[len(qs)-1].ID, "", "q")
	wantIn(t, text,
		"* [3/65] "+qs[2].ID,
		"* [64/65] "+qs[63].ID,
		"  3 unanswered:\n  g "+qs[2].ID,
		"End of the case: 3 question(s) still unanswered",
		"  g "+qs[64].ID,
	)
	if i := strings.Index(text, "End of the case"); i < 0 || !strings.Contains(text[i:], "g "+qs[2].ID) || !strings.Contains(text[i:], "g "+qs[63].ID) {
		t.Errorf("the end of the case does not list every unanswered question:\n%s", text)
	}
	// Beyond 40 missing (the old cut-off), the list stays whole.
	text = walk(t, off, "insp.a", w.InspectionID, "C-02", "m", "q")
	if n := strings.Count(text, "\n  g "); n != 65 {
		t.Errorf("m on an unanswered case lists %d questions, want all 65", n)
	}
}

// na! marks a key question and its prompts not applicable, each its own
// answer and op; one already answered otherwise stops it, nothing saved.
func TestWalk_NotApplicableWithPrompts(t *testing.T) {
	w, d := walkStore(t)
	off := d.Client.Offline()
	_, fw, _ := off.InspectionFramework(t.Context(), w.InspectionID)
	var prompts []string
	for _, q := range fw.Questions() {
		if q.KeyQuestionID == "2.1.1" && q.Kind == framework.QuestionPrompt {
			prompts = append(prompts, q.ID)
		}
	}
	if len(prompts) < 2 {
		t.Fatalf("2.1.1 has prompts %v", prompts)
	}
	text := walk(t, off, "insp.a", w.InspectionID, "C-01", "g "+prompts[0], "y", "g 2.1.1", "na!", "g "+prompts[0], "na", "g 2.1.1", "na!: no assessment due", "q")
	wantIn(t, text, "not marked: 2.1.1 already answered ("+prompts[0]+" is yes)", "saved 2.1.1 = Not applicable, note: no assessment due",
		"saved "+prompts[len(prompts)-1]+" = Not applicable, note: no assessment due")
	got := stored(t, d.Local, w.InspectionID, "C-01")
	for _, id := range append([]string{"2.1.1"}, prompts...) {
		if got[id] != "na|no assessment due" {
			t.Errorf("%s = %q, want na with the note", id, got[id])
		}
	}
	// One op each: prompt yes, prompt na, then the key and every prompt.
	if n, _ := d.Local.PendingCount(t.Context()); n != 2+1+len(prompts) {
		t.Errorf("outbox holds %d ops, want %d", n, 2+1+len(prompts))
	}
}

// A complete case opens for review, not closed at once; a submitted one
// opens read-only for its inspector, saying so, and for correction for QA.
func TestWalk_CompleteAndSubmittedCases(t *testing.T) {
	w, d := walkStore(t)
	off := d.Client.Offline()
	answerAll(t, off, w.InspectionID, "C-01")
	text := walk(t, off, "insp.a", w.InspectionID, "C-01", "y", "q")
	wantIn(t, text, "All 65 applicable questions are answered: reviewing.", "[1/65] 2.1.1", "2.1.1 = Yes")
	if _, err := off.QueueCaseStatus(t.Context(), "insp.a", w.InspectionID, "C-01", framework.CaseSubmitted, ""); err != nil {
		t.Fatal(err)
	}
	text = walk(t, off, "insp.a", w.InspectionID, "C-01", "g 2.1.1", "n", "na!", "q")
	wantIn(t, text, "Read-only: case C-01: case is submitted", "queued on this laptop", "! read-only: case C-01: case is submitted")
	if strings.Contains(text, "Submit with") {
		t.Errorf("a submitted case is told to submit:\n%s", text)
	}
	if got := stored(t, d.Local, w.InspectionID, "C-01")["2.1.1"]; got != "yes|" {
		t.Errorf("2.1.1 = %q after a read-only walk, want yes", got)
	}
	if _, err := d.Client.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	// QA, on their own laptop, may correct the submitted case.
	qa := w.NewDevice(t, filepath.Join(t.TempDir(), "qa"), "qa", w.Addr)
	if _, err := qa.Client.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	text = walk(t, qa.Client.Offline(), "qa", w.InspectionID, "C-01", "n: not evidenced", "q")
	wantIn(t, text, "Case is submitted: you may correct it (every change is audited).", "saved 2.1.1 = No, note: not evidenced")
}

// A locked case says it is locked, by what (its own status, or the
// inspection) and who may unlock it, with the command; it is never told to
// submit, and nothing typed is saved.
func TestWalk_LockedCaseSaysByWhatAndWhoUnlocks(t *testing.T) {
	w, d := walkStore(t)
	off := d.Client.Offline()
	ctx := t.Context()
	answerAll(t, off, w.InspectionID, "C-01")
	if _, err := d.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	admin := framework.User{Name: "admin", Admin: true}
	for _, to := range []framework.CaseStatus{framework.CaseSubmitted, framework.CaseQAChecked, framework.CaseLocked} {
		if _, err := w.Srv.DB().SetCaseStatus(ctx, admin, "test", w.InspectionID, "C-01", to, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	text := walk(t, off, "insp.a", w.InspectionID, "C-01", "n", "q")
	wantIn(t, text, "Locked: case C-01 is locked (its status is locked, after QA); only the lead inspector can reopen it "+
		"(fieldwork case-status --inspection "+w.InspectionID+" --case C-01 --status qa_checked --reason TEXT)",
		"! read-only: case C-01 is locked — nothing saved")
	if strings.Contains(text, "ubmit") {
		t.Errorf("a locked case is told to submit:\n%s", text)
	}

	if _, err := w.Srv.DB().SetInspectionStatus(ctx, admin, "test", w.InspectionID, framework.InspectionLocked, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	answerAllLocked := walk(t, off, "insp.a", w.InspectionID, "C-02", "y", "q")
	wantIn(t, answerAllLocked, "Locked: the inspection "+w.InspectionID+" is locked, so no answer of case C-02 can change; "+
		"only its lead inspector can unlock it (fieldwork inspection unlock --inspection "+w.InspectionID+" --reason TEXT)", "— nothing saved")
	if got := stored(t, d.Local, w.InspectionID, "C-02"); len(got) != 0 {
		t.Errorf("a walk of a locked inspection saved %v", got)
	}
}
