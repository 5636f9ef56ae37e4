package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
)

// ppStore is a real client store holding one inspection on the built-in
// public-protection framework's latest version (PP.IE4 asked only where
// PP.IE3 is yes), with case P-1 assigned to insp.a, as a sync leaves it.
func ppStore(t *testing.T) *localstore.Store {
	t.Helper()
	ctx := context.Background()
	l, err := localstore.Open(ctx, filepath.Join(t.TempDir(), "client.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	fw, raw, err := framework.BuiltinByID("probation-public-protection-2025")
	if err != nil {
		t.Fatal(err)
	}
	if len(fw.References("PP.IE4")) == 0 {
		t.Fatal("the latest public-protection framework has no rule on PP.IE4")
	}
	if err := l.PutFramework(ctx, fw.ID, fw.Version, raw); err != nil {
		t.Fatal(err)
	}
	in := &framework.Inspection{ID: "I", Name: "PP", FrameworkID: fw.ID, FrameworkVersion: fw.Version, Status: framework.InspectionFieldwork, Role: "inspector"}
	changes := []framework.Change{{InspectionID: "I", Inspection: in}, {InspectionID: "I", Case: &framework.Case{Ref: "P-1", Inspector: "insp.a",
		Status: framework.CaseInProgress, Attributes: map[string]string{"sentence_type": "community", "sex": "male", "age_band": "26-39",
			"ethnicity": "white", "rosh": "medium", "mappa": "none", "pdu": "Test", "contact_suspended": "false"}}}}
	if err := l.ApplyChanges(ctx, changes, 2); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestOffline_DependentAnswersJudgedOnTheCaseOnThisLaptop(t *testing.T) {
	l := ppStore(t)
	off := client.NewOffline(l)
	rec := func(q, v string) error {
		_, err := off.Record(t.Context(), "insp.a", client.Edit{InspectionID: "I", CaseRef: "P-1", QuestionID: q, Value: v})
		return err
	}
	if err := rec("PP.IE4", "yes"); framework.ErrorCode(err) != framework.CodeInvalid || !strings.Contains(err.Error(), "PP.IE3 is not answered yet") {
		t.Errorf("PP.IE4 before PP.IE3: %v, want refused as not asked yet", err)
	}
	if err := rec("PP.IE3", "yes"); err != nil {
		t.Fatal(err)
	}
	if err := rec("PP.IE4", "yes"); err != nil {
		t.Errorf("PP.IE4 after PP.IE3 yes: %v", err)
	}
	if err := rec("PP.IE3", "no"); err != nil {
		t.Errorf("changing PP.IE3 is never refused for what it does to PP.IE4: %v", err)
	}
	if err := rec("PP.IE4", "no"); framework.ErrorCode(err) != framework.CodeInvalid || !strings.Contains(err.Error(), "PP.IE3 is no") {
		t.Errorf("PP.IE4 after PP.IE3 no: %v, want refused", err)
	}
	as, err := l.Answers(t.Context(), "I", "P-1")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range as {
		got[a.QuestionID] = a.Value
	}
	if got["PP.IE4"] != "yes" || got["PP.IE3"] != "no" {
		t.Errorf("answers on the laptop = %v; want PP.IE4 yes kept, PP.IE3 no", got)
	}
}

func TestWalk_ShowsAndHidesDependentQuestions(t *testing.T) {
	l := ppStore(t)
	script := strings.Join([]string{
		"g PP.IE4", // not asked yet
		"g PP.IE3",
		"y: requested on allocation", // brings PP.IE4 in, and walks on to it
		"n: response thin",           // PP.IE4 = no
		"g PP.IE3",
		"n",        // takes PP.IE4 out again; its answer stays
		"k",        // the note given with yes still holds
		"g PP.IE4", // does not apply now
		"q",
	}, "\n") + "\n"
	var out bytes.Buffer
	if err := client.Walk(t.Context(), client.NewOffline(l), "insp.a", "I", "P-1", strings.NewReader(script), &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"! PP.IE4 is not asked yet (it applies only where PP.IE3 is yes, and PP.IE3 is not answered yet)",
		"→ now asked: PP.IE4 Where requested, was the children's-services response",
		"PP.IE4 (supplementary) Where requested",
		"→ no longer asked: PP.IE4 (PP.IE3 is no; it applies only where PP.IE3 is yes)",
		"! PP.IE4 does not apply to this case (PP.IE3 is no",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("walk output lacks %q:\n%s", want, text)
		}
	}
	// The question after PP.IE3 once PP.IE4 is asked is PP.IE4 itself.
	if i, j := strings.Index(text, "→ now asked: PP.IE4"), strings.Index(text, "] PP.IE4 (supplementary)"); j < i {
		t.Errorf("walk did not go on to PP.IE4 after it was brought in:\n%s", text)
	}
	as, _ := l.Answers(t.Context(), "I", "P-1")
	got := map[string]string{}
	for _, a := range as {
		got[a.QuestionID] = a.Value + "|" + a.Note
	}
	if got["PP.IE3"] != "no|requested on allocation" || got["PP.IE4"] != "no|response thin" {
		t.Errorf("answers after the walk = %v", got)
	}
}

func TestUI_DependentQuestionsShownAndHiddenAsAnswersAreSaved(t *testing.T) {
	l := ppStore(t)
	_, srv, hc := uiSession(t, l)
	caseURL := srv.URL + "/inspections/I/cases/P-1"
	page, csrf := getPage(t, hc, caseURL)
	fieldset := func(page, q string) string {
		return regexp.MustCompile(`<fieldset id="q-` + regexp.QuoteMeta(q) + `"[^>]*>`).FindString(page)
	}
	if fs := fieldset(page, "PP.IE4"); !strings.Contains(fs, "hidden disabled") || !strings.Contains(fs, "data-waits") {
		t.Errorf("PP.IE4 before PP.IE3 is answered: %s, want hidden and disabled (its inputs not sent)", fs)
	}
	if fs := fieldset(page, "PP.IE3"); strings.Contains(fs, "hidden") {
		t.Errorf("PP.IE3: %s, want shown", fs)
	}
	autosave := func(form url.Values) map[string]map[string]any {
		t.Helper()
		form.Set("csrf", csrf)
		_, body := status(t, hc, "POST", caseURL+"/autosave", form, nil)
		var res struct {
			Shown  map[string]map[string]any `json:"shown"`
			Errors map[string]string         `json:"errors"`
		}
		if err := json.Unmarshal([]byte(body), &res); err != nil || len(res.Errors) > 0 {
			t.Fatalf("autosave: %s (%v)", body, err)
		}
		return res.Shown
	}
	// The two saved together, the dependent first in the form: both saved.
	shown := autosave(url.Values{"v-PP.IE4": {"no"}, "n-PP.IE4": {"late"}, "v-PP.IE3": {"yes"}, "n-PP.IE3": {""}})
	if s := shown["PP.IE4"]; s == nil || s["hidden"] != false || s["stale"] != false {
		t.Errorf("after PP.IE3 yes: shown[PP.IE4] = %v, want shown", shown)
	}
	page, _ = getPage(t, hc, caseURL)
	if fs := fieldset(page, "PP.IE4"); strings.Contains(fs, "hidden") {
		t.Errorf("PP.IE4 after PP.IE3 yes: %s, want shown", fs)
	}
	shown = autosave(url.Values{"v-PP.IE3": {"no"}, "n-PP.IE3": {""}})
	if s := shown["PP.IE4"]; s == nil || s["hidden"] != false || s["stale"] != true || !strings.Contains(s["why"].(string), "PP.IE3 is no") {
		t.Errorf("after PP.IE3 no: shown[PP.IE4] = %v, want shown to be cleared (its answer no longer applies)", shown)
	}
	page, _ = getPage(t, hc, caseURL)
	if !strings.Contains(page, `<p class="why stale" id="why-PP.IE4">Not asked now: PP.IE3 is no`) {
		t.Errorf("the page does not say PP.IE4's answer no longer applies:\n%s", page[strings.Index(page, `id="q-PP.IE4"`):][:600])
	}
	// Cleared with na: hidden again, nothing left to clear.
	shown = autosave(url.Values{"v-PP.IE4": {"na"}, "n-PP.IE4": {"late"}})
	if s := shown["PP.IE4"]; s == nil || s["hidden"] != true {
		t.Errorf("after PP.IE4 na: shown[PP.IE4] = %v, want hidden", shown)
	}
}

// fwdStore holds a case on a framework whose FIRST question depends on a
// later one (R), so walk must go back to it once R brings it in.
func fwdStore(t *testing.T) *localstore.Store {
	t.Helper()
	ctx := context.Background()
	l, err := localstore.Open(ctx, filepath.Join(t.TempDir(), "client.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	raw := []byte(`{"id":"fwd","version":1,"attributes":[],
	"domains":[{"id":"D","title":"d","standards":[{"id":"S","title":"s","kind":"case_rated","key_questions":[
		{"id":"K","text":"key","prompts":[{"id":"EARLY","text":"asked where R is yes","applies_when":[{"question":"R","in":["yes"]}]}]}]}]}],
	"supplementary":[{"id":"MID","text":"mid"},{"id":"R","text":"the reference"},{"id":"END","text":"end"}]}`)
	fw, err := framework.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.PutFramework(ctx, fw.ID, fw.Version, raw); err != nil {
		t.Fatal(err)
	}
	in := &framework.Inspection{ID: "I", Name: "F", FrameworkID: fw.ID, FrameworkVersion: fw.Version, Status: framework.InspectionFieldwork, Role: "inspector"}
	if err := l.ApplyChanges(ctx, []framework.Change{{InspectionID: "I", Inspection: in}, {InspectionID: "I", Case: &framework.Case{Ref: "F-1",
		Inspector: "insp.a", Status: framework.CaseInProgress, Attributes: map[string]string{}}}}, 2); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestWalk_GoesBackToAnEarlierQuestionBroughtIn(t *testing.T) {
	l := fwdStore(t)
	var out bytes.Buffer
	script := "g R\ny\nn\nq\n" // R = yes brings EARLY in: walk goes back to it; EARLY = no
	if err := client.Walk(t.Context(), client.NewOffline(l), "insp.a", "I", "F-1", strings.NewReader(script), &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.Contains(text, "→ now asked: EARLY") || !strings.Contains(text, "(going back to EARLY, which comes earlier)") {
		t.Errorf("walk does not go back to EARLY:\n%s", text)
	}
	as, _ := l.Answers(t.Context(), "I", "F-1")
	got := map[string]string{}
	for _, a := range as {
		got[a.QuestionID] = a.Value
	}
	if got["R"] != "yes" || got["EARLY"] != "no" || got["END"] != "" {
		t.Errorf("answers = %v, want R yes and EARLY no (the answer after R's went to EARLY, not END)", got)
	}

	// Quit on EARLY; then R changes so EARLY is no longer asked: the next
	// walk resumes after EARLY (at MID), not at the start.
	out.Reset()
	if err := client.Walk(t.Context(), client.NewOffline(l), "insp.a", "I", "F-1", strings.NewReader("g EARLY\nq\n"), &out); err != nil {
		t.Fatal(err)
	}
	if _, err := client.NewOffline(l).Record(t.Context(), "insp.a", client.Edit{InspectionID: "I", CaseRef: "F-1", QuestionID: "R", Value: "no"}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := client.Walk(t.Context(), client.NewOffline(l), "insp.a", "I", "F-1", strings.NewReader("q\n"), &out); err != nil {
		t.Fatal(err)
	}
	if text := out.String(); !strings.Contains(text, "] MID ") {
		t.Errorf("resumed walk does not start at MID, the question after EARLY:\n%s", text)
	}
}

// Submit case on the web form works offline: checked on the laptop,
// queued behind the answers, the case shown submitted, sent on the next
// sync (client.QueueCaseStatus, as `fieldwork submit`).
func TestUI_SubmitOfflineIsQueued(t *testing.T) {
	l := ppStore(t)
	off := client.NewOffline(l)
	_, srv, hc := uiSession(t, l)
	caseURL := srv.URL + "/inspections/I/cases/P-1"
	_, csrf := getPage(t, hc, caseURL)
	post := func() string {
		resp, err := hc.PostForm(caseURL+"/submit", url.Values{"csrf": {csrf}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if page := post(); !strings.Contains(page, "Not submitted") || !strings.Contains(page, "unanswered") {
		t.Errorf("submitting an unanswered case offline: the page does not say it was refused here:\n%.600s", page)
	}
	_, fw, err := off.InspectionFramework(t.Context(), "I")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range fw.Applicable(framework.Facts{Attributes: map[string]string{"contact_suspended": "false", "mappa": "none"}}) {
		if _, err := off.Record(t.Context(), "insp.a", client.Edit{InspectionID: "I", CaseRef: "P-1", QuestionID: q.ID, Value: "na"}); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := l.PendingCount(t.Context())
	if page := post(); !strings.Contains(page, "Submitted on this laptop: you are working offline, so it is sent to the server on the next sync.") {
		t.Errorf("offline submit: the page does not say it is queued:\n%.600s", page)
	}
	if n, _ := l.PendingCount(t.Context()); n != before+1 {
		t.Errorf("outbox %d → %d, want the status op queued", before, n)
	}
	cs, _ := l.Cases(t.Context(), "I")
	if len(cs) != 1 || cs[0].Status != framework.CaseSubmitted {
		t.Errorf("laptop case after the offline submit: %+v, want submitted", cs)
	}
}
