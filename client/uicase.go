package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// The case page: the form that records a case's answers, its read-only
// view once the inspector may no longer change them, and its printable
// view for QA.

type uiQuestion struct {
	ID, Text, Kind, Value, Note, Why, Msg string
	Key, Count                            bool
	// Applies is false for a question outside the case's attributes (no
	// controls). Waits marks a question whose rules name other answers:
	// the page shows or hides it as those answers change (Hidden now).
	Applies, Waits, Hidden bool
	// Todo marks a question asked now and not answered: required before
	// the case can be submitted (framework.Missing).
	Todo bool
	Min  int64
	// Prompts is the number of prompts of a key question (its "not
	// applicable, with its prompts" action says how many).
	Prompts int
	// Saved is the stored answer (Value may be an input not yet saved);
	// By and At say who last changed it and when (print view).
	Saved, By, At string
}

// qState is how the case page shows a question (uiQuestion), from its
// applicability (framework.Applies).
type qState struct {
	Outside bool   // does not apply by the case's attributes: shown without controls
	Waits   bool   // its rules name answers
	Hidden  bool   // not asked now (not yet, or an answer makes it not apply), and nothing to clear
	Stale   bool   // not asked now, but holds an answer other than na: shown, to be cleared
	Why     string // why it is not asked
}

func questionState(fw *framework.Framework, q *framework.Question, attrs map[string]string, facts framework.Facts) qState {
	if st, why := fw.Applies(q, framework.Facts{Attributes: attrs}); st == framework.DoesNotApply {
		return qState{Outside: true, Why: why} // by its attributes alone: no answer changes that
	}
	st, why := fw.Applies(q, facts)
	s := qState{Waits: len(fw.References(q.ID)) > 0, Why: why}
	if st != framework.Applies {
		v, answered := facts.Answer(q.ID)
		s.Stale = answered && v != "na"
		s.Hidden = !s.Stale
	}
	return s
}

// answerFacts are the facts of a case with the given stored answers.
func answerFacts(attrs map[string]string, answers map[string]framework.Answer) framework.Facts {
	return framework.Facts{Attributes: attrs, Answer: func(q string) (string, bool) {
		a, ok := answers[q]
		return a.Value, ok && a.Value != ""
	}}
}

type uiGroup struct {
	// ID is the standard's id ("" for the supplementary questions): its
	// "not applicable" action names it.
	ID, Title string
	Questions []uiQuestion
}

// sections are the case page's groups of questions, in page order: each
// case-rated standard's key questions, each followed by its prompts, then
// its supplementary questions; then the framework's supplementary ones.
func sections(fw *framework.Framework) []struct {
	ID, Title string
	Qs        []*framework.Question
} {
	var out []struct {
		ID, Title string
		Qs        []*framework.Question
	}
	for _, s := range fw.Standards() {
		if s.Kind != framework.KindCaseRated {
			continue
		}
		var qs []*framework.Question
		for _, kq := range s.KeyQuestions {
			qs = append(qs, kq)
			qs = append(qs, kq.Prompts...)
		}
		out = append(out, struct {
			ID, Title string
			Qs        []*framework.Question
		}{s.ID, s.ID + " " + s.Title, append(qs, s.Supplementary...)})
	}
	if len(fw.Supplementary) > 0 {
		out = append(out, struct {
			ID, Title string
			Qs        []*framework.Question
		}{"", "Supplementary questions", fw.Supplementary})
	}
	return out
}

func (u *UI) loadCase(ctx context.Context, id, ref string) (*framework.Framework, framework.Case, map[string]framework.Answer, error) {
	in, err := u.local.Inspection(ctx, id)
	if err != nil {
		return nil, framework.Case{}, nil, err
	}
	fw, err := u.local.Framework(ctx, in.FrameworkID, in.FrameworkVersion)
	if err != nil {
		return nil, framework.Case{}, nil, err
	}
	cases, err := u.local.Cases(ctx, id)
	if err != nil {
		return nil, framework.Case{}, nil, err
	}
	for _, c := range cases {
		if c.Ref == ref {
			as, err := u.formAnswers(ctx, id, ref)
			if err != nil {
				return nil, c, nil, err
			}
			m := map[string]framework.Answer{}
			for _, a := range as {
				m[a.QuestionID] = a
			}
			return fw, c, m, nil
		}
	}
	return nil, framework.Case{}, nil, framework.Errorf(framework.CodeNotFound, "case %s is not on this laptop", ref)
}

// uiAttr is one of the case's attributes as the page shows it.
type uiAttr struct{ Name, Title, Value string }

// caseAttrs lists every attribute the case holds: the framework's in its
// order, under their titles, then any others by name.
func caseAttrs(fw *framework.Framework, c framework.Case) []uiAttr {
	var out []uiAttr
	seen := map[string]bool{}
	for _, a := range fw.Attributes {
		seen[a.Name] = true
		title := a.Title
		if title == "" {
			title = a.Name
		}
		v, ok := c.Attributes[a.Name]
		if !ok {
			v = "—"
		}
		out = append(out, uiAttr{a.Name, title, v})
	}
	var rest []string
	for k := range c.Attributes {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, uiAttr{k, k, c.Attributes[k]})
	}
	return out
}

// readOnly says why this user may not change the case's answers now ("" if
// they may), by the one rule the store and the server apply
// (framework.CheckAnswerWrite, as localstore.Record calls it).
func (u *UI) readOnly(ctx context.Context, id string, c framework.Case) string {
	in, err := u.local.Inspection(ctx, id)
	if err != nil {
		return err.Error()
	}
	if u.second != nil {
		return u.secondReadOnly(ctx, in, c.Ref)
	}
	if err := framework.CheckAnswerWrite(in.Role, c.Inspector == u.user, id, in.Status, c); err != nil {
		return refusal(err)
	}
	return ""
}

// problem is one entry of the list at the top of a page that could not do
// everything: the question (a link to it) and what is wrong.
type problem struct{ ID, Text, Msg string }

func (u *UI) casePage(w http.ResponseWriter, r *http.Request) {
	u.renderCase(w, r, nil, nil)
}

// caseQuestions builds the page's groups from the store's answers, with
// pending (value, note) inputs and msgs from a failed save in their place.
func caseQuestions(fw *framework.Framework, c framework.Case, answers map[string]framework.Answer, pending map[string][2]string, msgs map[string]string) []uiGroup {
	var groups []uiGroup
	facts := answerFacts(c.Attributes, answers)
	for _, s := range sections(fw) {
		g := uiGroup{ID: s.ID, Title: s.Title}
		for _, q := range s.Qs {
			a := answers[q.ID]
			st := questionState(fw, q, c.Attributes, facts)
			uq := uiQuestion{ID: q.ID, Text: q.Text, Kind: string(q.Kind), Value: a.Value, Note: a.Note, Why: st.Why, Key: q.Kind == framework.QuestionKey,
				Applies: !st.Outside, Waits: st.Waits, Hidden: st.Hidden, Count: q.Type == framework.TypeCount, Msg: msgs[q.ID], Prompts: len(q.Prompts), Saved: a.Value, By: a.UpdatedBy}
			if !a.UpdatedAt.IsZero() {
				uq.At = a.UpdatedAt.Local().Format("2 Jan 2006 15:04")
			}
			if q.Min != nil {
				uq.Min = *q.Min
			}
			if p, ok := pending[q.ID]; ok {
				uq.Value, uq.Note = p[0], p[1]
			}
			uq.Todo = uq.Applies && !uq.Hidden && a.Value == ""
			g.Questions = append(g.Questions, uq)
		}
		groups = append(groups, g)
	}
	return groups
}

// renderCase shows the case form; pending and msgs carry a failed save's
// inputs and messages so nothing typed is lost, listed at the top too.
func (u *UI) renderCase(w http.ResponseWriter, r *http.Request, pending map[string][2]string, msgs map[string]string) {
	id, ref := r.PathValue("id"), r.PathValue("ref")
	fw, c, answers, err := u.loadCase(r.Context(), id, ref)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	groups := caseQuestions(fw, c, answers, pending, msgs)
	facts := answerFacts(c.Attributes, answers)
	var problems []problem
	for _, q := range fw.Questions() {
		if m, ok := msgs[q.ID]; ok {
			problems = append(problems, problem{q.ID, q.Text, m})
		}
	}
	var missing []problem
	if r.URL.Query().Get("missing") == "1" {
		// The submit refusal: every question still to answer, each a link.
		for _, qid := range fw.Missing(facts) {
			q, _ := fw.Question(qid)
			missing = append(missing, problem{ID: qid, Text: q.Text})
		}
	}
	answered, required := fw.Completeness(facts)
	if len(msgs) > 0 {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnprocessableEntity)
	}
	title := "Case " + ref
	if u.second != nil {
		title += ": second marking"
	}
	u.page(w, r, "case", map[string]any{"Title": title, "Second": u.second != nil, "Case": c, "CaseURL": caseURL(id, ref), "FormID": u.newForm(answers),
		"Groups": groups, "Answered": answered, "Required": required, "Attrs": caseAttrs(fw, c), "ReadOnly": u.readOnly(r.Context(), id, c),
		"Problems": problems, "Missing": missing})
}

// printPage is one case's answers and notes on a page to print (for QA's
// discussion of the case): its attributes, then every question in page
// order with the answer in words, the note, and who gave it when.
func (u *UI) printPage(w http.ResponseWriter, r *http.Request) {
	id, ref := r.PathValue("id"), r.PathValue("ref")
	fw, c, answers, err := u.loadCase(r.Context(), id, ref)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	answered, required := fw.Completeness(answerFacts(c.Attributes, answers))
	in, _ := u.local.Inspection(r.Context(), id)
	title := "Case " + ref + " (print)"
	if u.second != nil {
		title = "Case " + ref + ": second marking (print)"
	}
	u.page(w, r, "print", map[string]any{"Title": title, "Second": u.second != nil, "Case": c, "Inspection": in, "CaseLink": caseURL(id, ref),
		"Groups": caseQuestions(fw, c, answers, nil, nil), "Answered": answered, "Required": required, "Attrs": caseAttrs(fw, c)})
}

// redirectCase sends the browser back to the case page with a message, at
// the place on it the inspector was (the posted "at": the id of the
// question's element last focused), so a save never moves them to the top.
func redirectCase(w http.ResponseWriter, r *http.Request, msg string, isErr bool, extra url.Values) {
	q := url.Values{"flash": {msg}}
	if isErr {
		q.Set("err", "1")
	}
	for k, v := range extra {
		q[k] = v
	}
	to := caseURL(r.PathValue("id"), r.PathValue("ref")) + "?" + q.Encode()
	if at := r.PostFormValue("at"); validAt(at) {
		to += "#" + at // validAt's characters need no escaping in a fragment
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// validAt accepts the ids of the case page's question elements (q-, n-,
// v- and a question id, a radio's with its value): nothing else becomes
// part of an address.
func validAt(at string) bool {
	if len(at) < 3 || len(at) > 80 || !slices.Contains([]string{"q-", "n-", "v-"}, at[:2]) {
		return false
	}
	for _, ch := range at {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '-' || ch == '_') {
			return false
		}
	}
	return true
}

func (u *UI) saveCase(w http.ResponseWriter, r *http.Request) {
	res, ok := u.saveAndRender(w, r, func(res saveResult) string {
		return fmt.Sprintf("Saved %d answer(s); %d need attention (listed here and marked below).", res.Saved, len(res.Msgs))
	})
	if ok {
		redirectCase(w, r, fmt.Sprintf("Saved %d answer(s) on this laptop. They are sent on the next sync.", res.Saved), false, nil)
	}
}

// autosave is the page's save as each answer or note is made: the same
// save as the Save button, answered in JSON for the page to show.
func (u *UI) autosave(w http.ResponseWriter, r *http.Request) {
	res, err := u.saveForm(r.Context(), r.PathValue("id"), r.PathValue("ref"), r.PostForm)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(res)
}

// markNA is "not applicable" for a whole section (a standard) or a key
// question with its prompts: the page's changes are saved first, then
// every question of it that is asked now and not yet answered is recorded
// na through the same save (saveForm), each as its own answer. Answers
// already given are left as they are, and the page says how many.
func (u *UI) markNA(w http.ResponseWriter, r *http.Request) {
	if _, ok := u.saveAndRender(w, r, func(res saveResult) string {
		return fmt.Sprintf("Nothing marked not applicable: %d answer(s) need attention first (listed here); %d saved.", len(res.Msgs), res.Saved)
	}); !ok {
		return
	}
	id, ref, scope := r.PathValue("id"), r.PathValue("ref"), r.PostFormValue("na")
	fw, c, answers, err := u.loadCase(r.Context(), id, ref)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	var in []*framework.Question
	for _, s := range sections(fw) {
		for _, q := range s.Qs {
			if s.ID != "" && s.ID == scope || q.ID == scope && q.Kind == framework.QuestionKey || q.KeyQuestionID == scope && q.Kind == framework.QuestionPrompt {
				in = append(in, q)
			}
		}
	}
	if len(in) == 0 {
		redirectCase(w, r, fmt.Sprintf("%q is neither a section nor a key question of this case's framework.", scope), true, nil)
		return
	}
	// Judged as the answers accumulate, in dependency order: a question
	// that the na just given makes not apply is not asked, so not marked.
	planned := map[string]framework.Answer{}
	for k, v := range answers {
		planned[k] = v
	}
	form := url.Values{"form_id": {r.PostFormValue("form_id")}, "seq": {r.PostFormValue("seq")}}
	var left []string
	marked := 0
	for _, q := range fw.InDependencyOrder() {
		if !slices.Contains(in, q) {
			continue
		}
		if st, _ := fw.Applies(q, answerFacts(c.Attributes, planned)); st != framework.Applies {
			continue
		}
		if planned[q.ID].Value != "" || q.Type == framework.TypeCount {
			// Answered already, or a count: its number input cannot show na.
			left = append(left, q.ID)
			continue
		}
		planned[q.ID] = framework.Answer{Value: "na"}
		form.Set("v-"+q.ID, "na")
		marked++
	}
	res, err := u.saveForm(r.Context(), id, ref, form)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	if len(res.Msgs) > 0 {
		r.URL.RawQuery = url.Values{"flash": {fmt.Sprintf("%d of %d question(s) of %s could not be marked not applicable (listed here).", len(res.Msgs), marked, scope)}, "err": {"1"}}.Encode()
		u.renderCase(w, r, res.Pending, res.Msgs)
		return
	}
	msg := fmt.Sprintf("Marked %d question(s) of %s not applicable, each recorded as its own answer.", res.Saved, scope)
	if len(left) > 0 {
		msg += fmt.Sprintf(" Left as they are, answered already or a count (%s): change them one by one if they do not apply either.", joinIDs(left))
	}
	r.PostForm.Set("at", "q-"+in[0].ID)
	redirectCase(w, r, msg, false, nil)
}

func joinIDs(ids []string) string {
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ", "
		}
		s += id
	}
	return s
}

func (u *UI) submitCase(w http.ResponseWriter, r *http.Request) {
	id, ref := r.PathValue("id"), r.PathValue("ref")
	// Save what the page holds first (the page saves as it goes; this is
	// the fallback when it could not), so nothing on it is lost and the
	// server judges completeness on everything.
	if _, ok := u.saveAndRender(w, r, func(res saveResult) string {
		return fmt.Sprintf("Not submitted: %d answer(s) need attention (listed here and marked below); %d saved.", len(res.Msgs), res.Saved)
	}); !ok {
		return
	}
	if u.second != nil {
		u.submitSecond(w, r)
		return
	}
	// A refusal for unanswered questions lists every one of them, each a
	// link (the store's list, fresh after the sync a submit runs first).
	missing := func() url.Values {
		fw, c, answers, err := u.loadCase(r.Context(), id, ref)
		if err != nil || len(fw.Missing(answerFacts(c.Attributes, answers))) == 0 {
			return nil
		}
		// No fragment: the list is at the top, and its first link takes the
		// focus (a fragment naming the list would take it away again).
		r.PostForm.Del("at")
		return url.Values{"missing": {"1"}}
	}
	u.syncMu.Lock()
	defer u.syncMu.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), CallTimeout)
	defer cancel()
	// The offline way, which is also the way online (Client.QueueCaseStatus):
	// checked here by the server's rule, queued as a status op behind the
	// answers, sent at once when the server answers, else on the next sync.
	q, err := u.c.QueueCaseStatus(ctx, u.user, id, ref, framework.CaseSubmitted, "")
	switch {
	case err != nil:
		if u.c.Online() {
			// Refused here (incomplete, say): what the page saved still goes
			// to the server now, as pressing Submit promises.
			u.c.Sync(ctx)
		}
		redirectCase(w, r, "Not submitted: "+refusal(err), true, missing())
	case q.Refused != nil:
		redirectCase(w, r, "Not submitted: the server refused it ("+q.Refused.Reason+"). It is kept on this laptop under refused edits.", true, missing())
	case errors.Is(q.Unsent, ErrOffline):
		redirectCase(w, r, "Submitted on this laptop: you are working offline, so it is sent to the server on the next sync.", false, nil)
	case q.Unsent != nil:
		redirectCase(w, r, "Submitted on this laptop, but the server could not be reached ("+q.Unsent.Error()+"): it is sent on the next sync.", false, nil)
	default:
		redirectCase(w, r, "Case submitted.", false, nil)
	}
}

// syncCase is Sync now pressed on a case page: the button posts the page,
// which is saved first, so an answer just made is in what is sent.
func (u *UI) syncCase(w http.ResponseWriter, r *http.Request) {
	id, ref := r.PathValue("id"), r.PathValue("ref")
	res, err := u.saveForm(r.Context(), id, ref, r.PostForm)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	msg, isErr := u.syncNow(r.Context())
	if len(res.Msgs) > 0 {
		r.URL.RawQuery = url.Values{"flash": {fmt.Sprintf("%s %d answer(s) need attention (listed here and marked below): they are not saved yet.", msg, len(res.Msgs))}, "err": {"1"}}.Encode()
		u.renderCase(w, r, res.Pending, res.Msgs)
		return
	}
	redirectCase(w, r, msg, isErr, nil)
}
