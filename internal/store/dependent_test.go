package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// Questions that depend on answers, on the built-in public-protection
// framework's version 2: PP.IE4 (was the children's-services response
// sufficient?) is asked only where PP.IE3 (was the information requested?)
// is yes.

func ppV2(tb testing.TB, db *store.DB, cases ...string) string {
	tb.Helper()
	in, err := db.CreateInspection(context.Background(), admin, "Gwent PP", "Gwent", "probation-public-protection-2025", 0)
	if err != nil {
		tb.Fatal(err)
	}
	if in.FrameworkVersion != 2 {
		tb.Fatalf("a new inspection is on version %d, want the latest (2)", in.FrameworkVersion)
	}
	csv := ppHeader
	for _, ref := range cases {
		csv += ppCase(ref, "community", "false")
	}
	importCasesCSV(tb, db, in.ID, csv)
	return in.ID
}

func applyAll(tb testing.TB, db *store.DB, ops ...framework.Op) []framework.Ack {
	tb.Helper()
	acks, err := db.ApplyOps(context.Background(), adminUser(), ops)
	if err != nil {
		tb.Fatal(err)
	}
	return acks
}

func TestDependent_BatchJudgedAsItLeavesTheCase(t *testing.T) {
	db := mustOpen(t)
	id := ppV2(t, db, "P-1", "P-2")
	// The dependent answer first, the answer it waits on after it, in one
	// batch: judged on the case as the batch leaves it, both apply.
	acks := applyAll(t, db, op(id, "P-1", "PP.IE4", "yes", 0), op(id, "P-1", "PP.IE3", "yes", 0))
	for i, a := range acks {
		if a.Result != framework.OpApplied {
			t.Fatalf("op %d: %+v, want applied", i, a)
		}
	}
	// Alone, with nothing it waits on: refused, saying what it waits for.
	acks = applyAll(t, db, op(id, "P-2", "PP.IE4", "yes", 0))
	if acks[0].Result != framework.OpRejected || !strings.Contains(acks[0].Reason, "PP.IE3 is not answered yet") {
		t.Errorf("PP.IE4 before PP.IE3 in another batch: %+v, want refused as not asked yet", acks[0])
	}
	// Where the information was not requested, PP.IE4 takes only na.
	acks = applyAll(t, db, op(id, "P-2", "PP.IE3", "no", 0), op(id, "P-2", "PP.IE4", "no", 0))
	if acks[0].Result != framework.OpApplied || acks[1].Result != framework.OpRejected || !strings.Contains(acks[1].Reason, "PP.IE3 is no") {
		t.Errorf("PP.IE4 where PP.IE3 is no: %+v, want PP.IE3 applied and PP.IE4 refused", acks)
	}
	checkShare(t, db, "before", "PP.IE4", 1, 1, 1, 0, id)

	// PP.IE3 changes to no: never refused for what it does to PP.IE4,
	// whose answer is kept, counted nowhere, listed.
	acks = applyAll(t, db, op(id, "P-1", "PP.IE3", "no", 1))
	if acks[0].Result != framework.OpApplied {
		t.Fatalf("changing the answer PP.IE4 waits on: %+v, want applied", acks[0])
	}
	checkShare(t, db, "after PP.IE3 no", "PP.IE4", 0, 0, 0, 0, id)
	checkShare(t, db, "after PP.IE3 no", "PP.IE3", 0, 2, 2, 0, id)
	checkListed(t, db, "after PP.IE3 no", []string{"P-1 PP.IE4 yes"}, id)
	if as, err := db.Answers(t.Context(), id, "P-1"); err != nil || len(as) != 2 || as[1].QuestionID != "PP.IE4" || as[1].Value != "yes" || as[1].Revision != 1 {
		t.Errorf("P-1's answers = %+v, %v; want PP.IE4 yes kept at revision 1", as, err)
	}
	// Submitting asks only for what applies now: PP.IE4 is not missing.
	if _, err := db.SetCaseStatus(t.Context(), adminUser(), "test", id, "P-1", framework.CaseSubmitted, ""); err == nil || strings.Contains(err.Error(), "PP.IE4") {
		t.Errorf("submit P-1: %v; want it refused for other questions, not PP.IE4", err)
	}

	// Back to yes in the same batch as a write to another case: PP.IE4
	// counts again, and the kept counts follow (checkShare recounts).
	applyAll(t, db, op(id, "P-1", "PP.IE3", "yes", 2), op(id, "P-2", "PP.IE1", "yes", 0))
	checkShare(t, db, "after PP.IE3 yes again", "PP.IE4", 1, 1, 1, 0, id)
	checkListed(t, db, "after PP.IE3 yes again", nil, id)

	// Both changes in one batch, the dependent cleared with na: it counts
	// as na (na always does), and nothing is listed.
	applyAll(t, db, op(id, "P-1", "PP.IE4", "na", 1), op(id, "P-1", "PP.IE3", "no", 3))
	checkShare(t, db, "cleared", "PP.IE4", 0, 0, 1, 1, id)
	checkListed(t, db, "cleared", nil, id)
}

func TestDependent_ImportJudgedAsTheFileLeavesTheCase(t *testing.T) {
	db := mustOpen(t)
	id := ppV2(t, db, "P-1", "P-2")
	// PP.IE4 before PP.IE3 in the file: one file, judged as it leaves P-1.
	importAnswersCSV(t, db, id, "P-1,PP.IE4,no,response late\nP-1,PP.IE3,yes,\n")
	checkShare(t, db, "imported", "PP.IE4", 0, 1, 1, 0, id)
	// Every bad row of a file is reported, with its line.
	rows, err := interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer,note\nP-2,PP.IE4,yes,\nP-2,PP.IE2,no,\nP-2,PP.IE1,no,\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = db.ImportAnswers(t.Context(), admin, id, rows)
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "PP.IE3 is not answered yet") ||
		!strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "PP.IE1 is no") {
		t.Errorf("import of dependent answers that do not apply: %v; want lines 2 and 3 refused, each saying why", err)
	}
	checkShare(t, db, "after the refused file", "PP.IE2", 0, 0, 0, 0, id)
	// A file that changes PP.IE3 to no leaves PP.IE4 as it is, listed; the
	// same file again is unchanged, not refused.
	importAnswersCSV(t, db, id, "P-1,PP.IE3,no,\nP-1,PP.IE4,no,response late\n")
	checkListed(t, db, "after the file that changed PP.IE3", []string{"P-1 PP.IE4 no"}, id)
	checkShare(t, db, "after the file that changed PP.IE3", "PP.IE4", 0, 0, 0, 0, id)
}

// An inspection created on version 1 stays there: PP.IE4 has no rule.
func TestDependent_InspectionsKeepTheirVersion(t *testing.T) {
	db := mustOpen(t)
	in, err := db.CreateInspection(t.Context(), admin, "Old", "Gwent", "probation-public-protection-2025", 1)
	if err != nil || in.FrameworkVersion != 1 {
		t.Fatalf("create on version 1: %+v, %v", in, err)
	}
	importCasesCSV(t, db, in.ID, ppHeader+ppCase("P-1", "community", "false"))
	if acks := applyAll(t, db, op(in.ID, "P-1", "PP.IE4", "yes", 0)); acks[0].Result != framework.OpApplied {
		t.Errorf("PP.IE4 on version 1: %+v, want applied (no rule there)", acks[0])
	}
	checkShare(t, db, "version 1", "PP.IE4", 1, 1, 1, 0, in.ID)
}

// A device's offline order: PP.IE3 yes, PP.IE4 no, then PP.IE3 changed to
// no, all in one batch. PP.IE4 applied when it was made, so it is kept and
// listed as no longer applying — as the laptop shows it, and as if the
// device had synced between the edits — not refused.
func TestDependent_BatchInTheOrderTheDeviceMadeIt(t *testing.T) {
	db := mustOpen(t)
	id := ppV2(t, db, "P-1")
	first := op(id, "P-1", "PP.IE3", "yes", 0)
	later := op(id, "P-1", "PP.IE3", "no", 0)
	later.Supersedes = []string{first.ID}
	acks := applyAll(t, db, first, op(id, "P-1", "PP.IE4", "no", 0), later)
	for i, a := range acks {
		if a.Result != framework.OpApplied {
			t.Fatalf("op %d: %+v, want applied", i, a)
		}
	}
	checkListed(t, db, "after the batch", []string{"P-1 PP.IE4 no"}, id)
	checkShare(t, db, "after the batch", "PP.IE4", 0, 0, 0, 0, id)
	// An answer that applies neither way is still refused.
	if a := applyAll(t, db, op(id, "P-1", "PP.IE2", "yes", 0)); a[0].Result != framework.OpRejected {
		t.Errorf("PP.IE2 with PP.IE1 unanswered: %+v, want refused", a[0])
	}
}
