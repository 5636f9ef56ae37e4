package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// formSeq orders the saves of one rendered case page. The page numbers its
// saves; saves can arrive out of order (an autosave still in flight when a
// button posts the page, a beacon sent as the tab closes), and an answer is
// only ever replaced by a later save of the same page.
type formSeq struct {
	made time.Time
	last map[string]int64 // question → sequence number of the save that last carried it
	// shown is each answer (value, note) as the page knows it: as stored
	// when it was rendered, then as its own saves left it. An answer the
	// store holds otherwise was changed under the page (a sync pulled
	// someone else's, another tab saved one): the page may not overwrite
	// it unseen.
	shown map[string][2]string
}

// maxForms bounds the remembered pages; the oldest go first.
const maxForms = 1000

// newForm registers a freshly rendered case page and returns its id.
func (u *UI) newForm(answers map[string]framework.Answer) string {
	id := randomHex()[:32]
	u.saveMu.Lock()
	defer u.saveMu.Unlock()
	if len(u.forms) >= maxForms {
		oldest := ""
		for k, f := range u.forms {
			if oldest == "" || f.made.Before(u.forms[oldest].made) {
				oldest = k
			}
		}
		delete(u.forms, oldest)
	}
	shown := make(map[string][2]string, len(answers))
	for q, a := range answers {
		shown[q] = [2]string{a.Value, a.Note}
	}
	u.forms[id] = &formSeq{made: u.Now(), last: map[string]int64{}, shown: shown}
	return id
}

// saveResult is what saving a posted case form did.
type saveResult struct {
	Saved int `json:"saved"`
	// Pending holds the inputs not saved (value, note), Msgs why, by question.
	Pending map[string][2]string `json:"-"`
	Msgs    map[string]string    `json:"errors"`
	// Unsynced is the outbox's length after the save.
	Unsynced int `json:"unsynced"`
	// Shown says, for each question whose rules name answers, whether the
	// page shows it now (frameworks with such rules only).
	Shown map[string]shown `json:"shown,omitempty"`
}

// saveForm is the one save of the case form, used by Save, autosave, Sync
// now and Submit alike: every applicable question the form carries
// (v-ID value, n-ID note) whose answer or note differs from the local store
// is recorded there, with its outbox op, exactly as `fieldwork answer`
// does. A question the form does not carry is left alone, so the page may
// send only what changed. An input that cannot be saved is returned with
// the reason, never dropped unsaid.
func (u *UI) saveForm(ctx context.Context, id, ref string, form url.Values) (saveResult, error) {
	u.saveMu.Lock()
	defer u.saveMu.Unlock()
	res := saveResult{Pending: map[string][2]string{}, Msgs: map[string]string{}}
	fw, c, answers, err := u.loadCase(ctx, id, ref)
	if err != nil {
		return res, err
	}
	seq, _ := strconv.ParseInt(form.Get("seq"), 10, 64)
	page := u.forms[form.Get("form_id")]
	order := page
	if seq <= 0 {
		order = nil // a page without script: every post is the newest
	}
	// In dependency order, so that an answer and the answers it makes
	// apply, saved together, are recorded with it first.
	for _, q := range fw.InDependencyOrder() {
		if st, _ := fw.Applies(q, framework.Facts{Attributes: c.Attributes}); st == framework.DoesNotApply {
			continue // outside the case's attributes: the page has no controls for it
		}
		vs, hasV := form["v-"+q.ID]
		ns, hasN := form["n-"+q.ID]
		if !hasV && !hasN {
			continue
		}
		if order != nil {
			if order.last[q.ID] > seq {
				continue // a later save of this page already carried it
			}
			order.last[q.ID] = seq
		}
		var v, note string
		if len(vs) > 0 {
			v = strings.TrimSpace(vs[0])
		}
		cur := answers[q.ID]
		if page != nil {
			known := page.shown[q.ID] // ("", "") for a question unanswered when shown
			if known != [2]string{cur.Value, cur.Note} {
				pv, pn := known[0], known[1] // what the page posts, where it posts nothing
				if hasV && len(vs) > 0 {
					pv = v
				}
				if hasN && len(ns) > 0 {
					pn = ns[0]
				}
				switch {
				case pv == known[0] && pn == known[1]:
					continue // not changed on this page: the newer answer stands
				case pv == cur.Value && pn == cur.Note:
					page.shown[q.ID] = [2]string{cur.Value, cur.Note} // the page now says what the store does
					continue
				}
				res.Pending[q.ID] = [2]string{pv, pn}
				now := "no answer"
				if cur.Value != "" {
					now = fmt.Sprintf("%s, by %s", cur.Value, cur.UpdatedBy)
				}
				res.Msgs[q.ID] = fmt.Sprintf("This answer changed since the page was opened (now %s): reload the page to see it, then change it if you still mean to.", now)
				continue
			}
		}
		note = cur.Note
		if hasN && len(ns) > 0 {
			note = ns[0]
		}
		if v == "" {
			switch {
			case cur.Value == "" && strings.TrimSpace(note) != "" && note != cur.Note:
				res.Pending[q.ID] = [2]string{v, note}
				res.Msgs[q.ID] = "Choose an answer to keep this note: a note is saved with its answer."
			case cur.Value != "" && (hasV || note != cur.Note):
				res.Pending[q.ID] = [2]string{v, note}
				res.Msgs[q.ID] = fmt.Sprintf("An answer cannot be removed, only changed (the saved answer is %s; na if the question does not apply).", cur.Value)
			}
			continue
		}
		if v == cur.Value && note == cur.Note {
			continue
		}
		op, err := u.recordFormAnswer(ctx, Edit{InspectionID: id, CaseRef: ref, QuestionID: q.ID, Value: v, Note: note})
		if err != nil {
			res.Pending[q.ID] = [2]string{v, note}
			res.Msgs[q.ID] = refusal(err)
			continue
		}
		if page != nil {
			page.shown[q.ID] = [2]string{op.Value, op.Note}
		}
		res.Saved++
	}
	res.Unsynced, _ = u.local.PendingCount(ctx)
	if fw.AnswerConditions() {
		// What the page shows and hides now, as the saved answers say.
		_, c, answers, err := u.loadCase(ctx, id, ref)
		if err != nil {
			return res, err
		}
		facts := answerFacts(c.Attributes, answers)
		res.Shown = map[string]shown{}
		for _, q := range fw.Questions() {
			if st := questionState(fw, q, c.Attributes, facts); st.Waits && !st.Outside {
				res.Shown[q.ID] = shown{Hidden: st.Hidden, Stale: st.Stale, Why: st.Why}
			}
		}
	}
	return res, nil
}

// shown is how the page is to show a question whose rules name answers.
type shown struct {
	Hidden bool   `json:"hidden"`
	Stale  bool   `json:"stale"`
	Why    string `json:"why"`
}

// saveAndRender saves the posted case form. If some input could not be
// saved it shows the form again with it and the reasons, flash(res) as the
// page's message, and returns false.
func (u *UI) saveAndRender(w http.ResponseWriter, r *http.Request, flash func(saveResult) string) (saveResult, bool) {
	id, ref := r.PathValue("id"), r.PathValue("ref")
	res, err := u.saveForm(r.Context(), id, ref, r.PostForm)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return res, false
	}
	if len(res.Msgs) == 0 {
		return res, true
	}
	r.URL.RawQuery = url.Values{"flash": {flash(res)}, "err": {"1"}}.Encode()
	u.renderCase(w, r, res.Pending, res.Msgs)
	return res, false
}
