package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// The form's second-marking mode (`fieldwork ui --second`, docs/qa.md): the
// same form over one case's second marking. Every read of the form's
// answers is the marking's (MarkingAnswers), every save records a marking
// answer (RecordMarking, framework.CheckMarkingWrite), Submit submits the
// marking (SubmitMarking), and the page serves that case only: nothing of
// the first marking is read, so none of it is shown to its QA marker.

// secondTarget is the one case a second-marking form marks.
type secondTarget struct{ inspectionID, caseRef string }

// NewSecondUI makes a UI over the second marking of one case, marked by
// user (the case's QA marker; the store refuses anyone else).
func NewSecondUI(c *Client, user, inspectionID, caseRef string) *UI {
	u := NewUI(c, user)
	u.second = &secondTarget{inspectionID, caseRef}
	return u
}

// SecondCaseURL is the address of the case a second-marking form marks
// ("" for the ordinary form).
func (u *UI) SecondCaseURL() string {
	if u.second == nil {
		return ""
	}
	return caseURL(u.second.inspectionID, u.second.caseRef)
}

// formAnswers reads the answers the form shows and saves: the case's, or in
// second-marking mode its second marking (of that case only).
func (u *UI) formAnswers(ctx context.Context, id, ref string) ([]framework.Answer, error) {
	if u.second == nil {
		return u.local.Answers(ctx, id, ref)
	}
	if id != u.second.inspectionID || ref != u.second.caseRef {
		return nil, framework.Errorf(framework.CodeNotFound, "this form marks the second marking of case %s only", u.second.caseRef)
	}
	return u.local.MarkingAnswers(ctx, id, ref)
}

// recordFormAnswer saves one answer of the form.
func (u *UI) recordFormAnswer(ctx context.Context, e Edit) (framework.Op, error) {
	if u.second != nil {
		return u.local.RecordMarking(ctx, u.user, e)
	}
	return u.local.Record(ctx, u.user, e)
}

// secondReadOnly says why the marker may not change the second marking now
// ("" if they may), by the rule the store and the server apply.
func (u *UI) secondReadOnly(ctx context.Context, in framework.Inspection, ref string) string {
	sels, err := u.local.Selections(ctx, in.ID)
	if err != nil {
		return err.Error()
	}
	var sel *framework.QASelection
	for i := range sels {
		if sels[i].CaseRef == ref {
			sel = &sels[i]
		}
	}
	if err := framework.CheckMarkingWrite(u.user, in.ID, ref, in.Status, sel); err != nil {
		return refusal(err)
	}
	return ""
}

// submitSecond is Submit on a second-marking form, after the page is
// saved: the marking's submission queued here (CheckMarkingSubmit on this
// laptop's copy), sent on the next sync.
func (u *UI) submitSecond(w http.ResponseWriter, r *http.Request) {
	id, ref := r.PathValue("id"), r.PathValue("ref")
	if _, err := u.local.SubmitMarking(r.Context(), u.user, id, ref); err != nil {
		// Unanswered questions are listed at the top, each a link.
		var extra url.Values
		if missing, _ := u.local.MarkingMissing(r.Context(), u.user, id, ref); len(missing) > 0 {
			r.PostForm.Del("at")
			extra = url.Values{"missing": {"1"}}
		}
		redirectCase(w, r, "Second marking not submitted: "+refusal(err), true, extra)
		return
	}
	redirectCase(w, r, "Second marking submitted on this laptop: it is sent to the server on the next sync.", false, nil)
}
