package client_test

import (
	"context"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Found in review (each failed before its fix): the case page carries no base revision. A page rendered before a
// pull brought in the lead's new answer still has the old choice checked;
// editing only the note autosaves v-Q (the stale choice, the script sends it
// whenever a radio is checked) with the new note, and saveForm records it
// as a fresh edit on the *current* revision. The lead's answer is reverted
// with no conflict: the op's base is the lead's revision, so the server
// applies it.
func TestReview_StalePageNoteEditRevertsPulledAnswer(t *testing.T) {
	l, _ := offlineStore(t)
	ctx := context.Background()
	now := time.Now()
	if err := l.ApplyChanges(ctx, []framework.Change{{InspectionID: "I", Answer: &framework.Answer{CaseRef: "T-1", QuestionID: "2.1.1",
		Value: "yes", Revision: 1, UpdatedBy: "insp.a", UpdatedAt: now}}}, 100); err != nil {
		t.Fatal(err)
	}
	_, srv, hc := uiSession(t, l)
	caseURL := srv.URL + "/inspections/I/cases/T-1"
	page, csrf := getPage(t, hc, caseURL) // shows 2.1.1 = yes
	formID := regexp.MustCompile(`name="form_id" value="([0-9a-f]+)"`).FindStringSubmatch(page)[1]
	// Meanwhile a sync (another tab, or the CLI) pulls the lead's change.
	if err := l.ApplyChanges(ctx, []framework.Change{{InspectionID: "I", Answer: &framework.Answer{CaseRef: "T-1", QuestionID: "2.1.1",
		Value: "no", Note: "lead: evidence says no", Revision: 2, UpdatedBy: "lead", UpdatedAt: now}}}, 101); err != nil {
		t.Fatal(err)
	}
	// The inspector types a note on the old page; the script posts the
	// still-checked "yes" with it.
	status(t, hc, "POST", caseURL+"/autosave", url.Values{"csrf": {csrf}, "form_id": {formID}, "seq": {"1"},
		"v-2.1.1": {"yes"}, "n-2.1.1": {"my added note"}}, nil)
	ops, err := l.OutboxAfter(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if op.QuestionID == "2.1.1" && op.Value == "yes" && op.BaseRevision == 2 {
			t.Errorf("a note edit on a stale page queued 2.1.1=yes on base revision 2 (the lead's \"no\"): it will replace it with no conflict: %+v", op)
		}
	}
}
