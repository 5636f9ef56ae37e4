package store_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// The QA amendment rate is read from the history on a real database: of
// the answers each case had when first submitted, those QA or the lead
// later changed to another value. Not counted: the inspector's own
// changes (before submission, or after the case was returned to them), a
// changed note, changes on a case never submitted, and answers QA adds
// after submission (they were not submitted).
func TestQAAmendments_FromTheHistory(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := mustInspection(t, db)
	importCasesCSV(t, db, id, casesCSV+"T-3,community,male,26-39,white,medium,none,Test,false,insp.a\n")
	for user, role := range map[string]framework.Role{"qa.q": framework.RoleQA, "lead.l": framework.RoleLead, "an.n": framework.RoleAnalyst} {
		if err := db.AddTeamMember(ctx, admin, id, user, role); err != nil {
			t.Fatal(err)
		}
	}
	fw, _, err := framework.BuiltinByID("probation-pdu-2023")
	if err != nil {
		t.Fatal(err)
	}
	// Every question of T-1 and T-2 answered na, but for three key questions.
	var csv strings.Builder
	n := 0
	for _, q := range fw.Questions() {
		if q.ID == "2.1.1" || q.ID == "2.1.2" || q.ID == "2.1.3" {
			continue
		}
		n++
		for _, ref := range []string{"T-1", "T-2", "T-3"} {
			fmt.Fprintf(&csv, "%s,%s,na,\n", ref, q.ID)
		}
	}
	importAnswersCSV(t, db, id, csv.String()+"T-1,2.1.1,yes,\nT-1,2.1.2,yes,\nT-1,2.1.3,no,\nT-2,2.1.1,yes,\nT-2,2.1.2,yes,\nT-2,2.1.3,no,\n")
	n += 3
	apply := func(u string, ops ...framework.Op) {
		t.Helper()
		acks, err := db.ApplyOps(ctx, framework.User{Name: u}, ops)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range acks {
			if a.Result != framework.OpApplied {
				t.Fatalf("%s's op %+v: %+v", u, ops, a)
			}
		}
	}
	status := func(u, ref string, to framework.CaseStatus) {
		t.Helper()
		if _, err := db.SetCaseStatus(ctx, framework.User{Name: u}, "dev-1", id, ref, to, "because"); err != nil {
			t.Fatalf("%s sets %s %s: %v", u, ref, to, err)
		}
	}
	// Before submission the inspector changes their own answer: the
	// submitted value is the changed one (yes).
	apply("insp.a", op(id, "T-1", "2.1.3", "yes", 1))
	status("insp.a", "T-1", framework.CaseSubmitted)
	status("insp.b", "T-2", framework.CaseSubmitted)

	// After submission: QA changes 2.1.1 (amended), changes 2.1.3 and back
	// (amended: it was changed), and changes only the note of 2.1.2 (not).
	apply("qa.q", op(id, "T-1", "2.1.1", "no", 1))
	apply("qa.q", op(id, "T-1", "2.1.3", "no", 2))
	apply("qa.q", op(id, "T-1", "2.1.3", "yes", 3))
	note := op(id, "T-1", "2.1.2", "yes", 1)
	note.Note = "QA: the plan is dated"
	apply("qa.q", note)
	// The lead amends T-2's 2.1.3, returns the case, and the inspector
	// changes 2.1.2 themselves (not QA's amendment); they resubmit.
	apply("lead.l", op(id, "T-2", "2.1.3", "yes", 1))
	status("lead.l", "T-2", framework.CaseInProgress)
	apply("insp.b", op(id, "T-2", "2.1.2", "no", 1))
	status("insp.b", "T-2", framework.CaseSubmitted)
	// T-3 is never submitted: QA's change there counts nowhere.
	apply("qa.q", op(id, "T-3", "2.1.1", "yes", 0))

	got, err := db.QAAmendments(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.InspectorAmendments{{Inspector: "insp.a", Submitted: n, Amended: 2}, {Inspector: "insp.b", Submitted: n, Amended: 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("QAAmendments = %+v, want %+v (%d answers per submitted case)", got, want, n)
	}

	// Another inspection's history is not this one's.
	other := mustInspection(t, db)
	if got, err := db.QAAmendments(ctx, other); err != nil || len(got) != 0 {
		t.Errorf("an empty inspection's amendments = %+v, %v", got, err)
	}
}
