package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// Answers to questions that no longer apply to their case (its attributes
// changed after they were given) count in no figure: not in the single
// report, the pooled report from kept counts, a breakdown or recount.

const ppHeader = "case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n"

func ppCase(ref, sentence, suspended string) string {
	return fmt.Sprintf("%s,%s,male,26-39,white,medium,none,Gwent,%s,insp.a\n", ref, sentence, suspended)
}

func importCasesCSV(tb testing.TB, db *store.DB, id, csv string) {
	tb.Helper()
	rows, err := interchange.ReadCases(strings.NewReader(csv))
	if err != nil {
		tb.Fatal(err)
	}
	if _, _, err := db.ImportCases(context.Background(), admin, id, rows); err != nil {
		tb.Fatalf("import cases: %v (a change that makes answers no longer apply is accepted)", err)
	}
}

func importAnswersCSV(tb testing.TB, db *store.DB, id, csv string) {
	tb.Helper()
	rows, err := interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer,note\n" + csv))
	if err != nil {
		tb.Fatal(err)
	}
	if _, _, err := db.ImportAnswers(context.Background(), admin, id, rows); err != nil {
		tb.Fatal(err)
	}
}

// reports computes the report of the inspections from every answer (with a
// breakdown by sentence_type) and from the kept counts.
func reports(tb testing.TB, db *store.DB, ids ...string) (full, kept *aggregate.Report) {
	tb.Helper()
	ctx := context.Background()
	fw, in, err := db.ReportInput(ctx, ids...)
	if err != nil {
		tb.Fatal(err)
	}
	full = aggregate.ComputeWith(fw, in, aggregate.Options{By: []string{"sentence_type"}})
	fw, in, err = db.PooledCounts(ctx, ids...)
	if err != nil {
		tb.Fatal(err)
	}
	checkByCounts(tb, db, ids...)
	return full, aggregate.Compute(fw, in)
}

func figure(tb testing.TB, r *aggregate.Report, qid string) aggregate.QuestionFigure {
	tb.Helper()
	f, ok := r.Question(qid)
	if !ok {
		tb.Fatalf("no figure for %s", qid)
	}
	return f
}

// checkShare checks a question's yes/relevant, answered and na in the full
// and kept-count reports, that the breakdown's "all" column agrees for key
// questions, and that recount finds the kept counts right.
func checkShare(tb testing.TB, db *store.DB, when, qid string, yes, relevant, answered, na int, ids ...string) {
	tb.Helper()
	full, kept := reports(tb, db, ids...)
	for name, r := range map[string]*aggregate.Report{"report": full, "kept counts": kept} {
		f := figure(tb, r, qid)
		if f.Yes != yes || f.Relevant != relevant || f.Answered != answered || f.NotApplicable != na {
			tb.Errorf("%s: %s %s = %d/%d (answered %d, na %d), want %d/%d (answered %d, na %d)",
				when, name, qid, f.Yes, f.Relevant, f.Answered, f.NotApplicable, yes, relevant, answered, na)
		}
	}
	if f := figure(tb, full, qid); f.Kind == framework.QuestionKey {
		for _, b := range full.Breakdowns {
			if b.Attribute != "sentence_type" {
				continue
			}
			for _, row := range b.Rows {
				var cy, cr int
				for _, c := range row.Cells {
					cy, cr = cy+c.Yes, cr+c.Relevant
				}
				if row.ID == qid && (row.All.Yes != yes || row.All.Relevant != relevant || cy != yes || cr != relevant) {
					tb.Errorf("%s: breakdown of %s by sentence_type: all %d/%d, cells sum %d/%d; want %d/%d",
						when, qid, row.All.Yes, row.All.Relevant, cy, cr, yes, relevant)
				}
			}
		}
	}
	if ms, err := db.Recount(context.Background(), false); err != nil || len(ms) != 0 {
		tb.Errorf("%s: recount = %+v, %v; want the kept counts equal to a full recount", when, ms, err)
	}
}

// checkListed checks the report's list of answers that no longer apply
// (case question value, in order).
func checkListed(tb testing.TB, db *store.DB, when string, want []string, ids ...string) {
	tb.Helper()
	full, _ := reports(tb, db, ids...)
	var got []string
	for _, s := range full.NoLongerApplies {
		got = append(got, s.CaseRef+" "+s.QuestionID+" "+s.Value)
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		tb.Errorf("%s: no longer applies = %q, want %q", when, got, want)
	}
}

func TestNoLongerApplies_ReimportLeavesAnswersOutOfEveryFigure(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	a, err := db.CreateInspection(ctx, admin, "Gwent PP", "Gwent", "probation-public-protection-2025", 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.CreateInspection(ctx, admin, "Cardiff PP", "Cardiff", "probation-public-protection-2025", 0)
	if err != nil {
		t.Fatal(err)
	}
	importCasesCSV(t, db, a.ID, ppHeader+ppCase("P-1", "community", "false")+ppCase("P-2", "licence", "false")+
		ppCase("P-3", "community", "false")+ppCase("P-4", "licence", "false"))
	importAnswersCSV(t, db, a.ID, "P-1,C1,yes,seen weekly\nP-2,C1,yes,\nP-3,C1,no,\nP-4,C1,no,\nP-1,C1a,yes,\nP-2,C1a,no,\n")
	importCasesCSV(t, db, b.ID, ppHeader+ppCase("Q-1", "community", "false")+ppCase("Q-2", "licence", "false"))
	importAnswersCSV(t, db, b.ID, "Q-1,C1,no,\nQ-2,C1,no,\n")
	checkShare(t, db, "before", "C1", 2, 4, 4, 0, a.ID)
	checkShare(t, db, "before, pooled", "C1", 2, 6, 6, 0, a.ID, b.ID)
	checkListed(t, db, "before", nil, a.ID)

	// Contact is suspended in P-1 and P-2: C1 and its prompts no longer
	// apply to them; the A-questions do.
	importCasesCSV(t, db, a.ID, ppHeader+ppCase("P-1", "community", "true")+ppCase("P-2", "licence", "true")+
		ppCase("P-3", "community", "false")+ppCase("P-4", "licence", "false"))
	checkShare(t, db, "after suspension", "C1", 0, 2, 2, 0, a.ID)
	checkShare(t, db, "after suspension", "C1a", 0, 0, 0, 0, a.ID)
	checkShare(t, db, "after suspension, pooled", "C1", 0, 4, 4, 0, a.ID, b.ID)
	checkShare(t, db, "after suspension, pooled", "C1a", 0, 0, 0, 0, a.ID, b.ID)
	checkListed(t, db, "after suspension", []string{"P-1 C1 yes", "P-1 C1a yes", "P-2 C1 yes", "P-2 C1a no"}, a.ID)
	checkListed(t, db, "after suspension, pooled", []string{"Gwent:P-1 C1 yes", "Gwent:P-1 C1a yes", "Gwent:P-2 C1 yes", "Gwent:P-2 C1a no"}, a.ID, b.ID)
	// The same answers.csv loads again: the rows that no longer apply are
	// unchanged, not refused; changing one to anything but na is refused.
	rows, _ := interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer,note\nP-1,C1,Yes,seen weekly\nP-2,C1,yes,\nP-3,C1,no,\n"))
	if applied, unchanged, err := db.ImportAnswers(ctx, admin, a.ID, rows); err != nil || applied != 0 || unchanged != 3 {
		t.Errorf("re-import of the same answers: %d applied, %d unchanged, %v; want 0 and 3", applied, unchanged, err)
	}
	rows, _ = interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer,note\nP-1,C1,no,seen weekly\n"))
	if _, _, err := db.ImportAnswers(ctx, admin, a.ID, rows); framework.ErrorCode(err) != framework.CodeInvalid || !strings.Contains(err.Error(), "only na is allowed") {
		t.Errorf("import of a changed answer that does not apply: %v, want it refused", err)
	}
	rows, _ = interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer,note\nP-1,C1,yes,another note\n"))
	if _, _, err := db.ImportAnswers(ctx, admin, a.ID, rows); framework.ErrorCode(err) != framework.CodeInvalid {
		t.Errorf("import of a new note on an answer that does not apply: %v, want it refused", err)
	}
	checkListed(t, db, "after re-import of answers", []string{"P-1 C1 yes", "P-1 C1a yes", "P-2 C1 yes", "P-2 C1a no"}, a.ID)
	// The submit check asks for what applies now: the A-questions.
	if _, err := db.SetCaseStatus(ctx, adminUser(), "test", a.ID, "P-1", framework.CaseSubmitted, ""); framework.ErrorCode(err) != framework.CodePrecondition ||
		!strings.Contains(err.Error(), "A1") || strings.Contains(err.Error(), "C1") {
		t.Errorf("submitting P-1: %v; want it refused for the A-questions only", err)
	}

	// The answers themselves and their history are untouched.
	as, err := db.Answers(ctx, a.ID, "P-1")
	if err != nil || len(as) != 2 || as[0].QuestionID != "C1" || as[0].Value != "yes" || as[0].Note != "seen weekly" || as[0].Revision != 1 {
		t.Fatalf("P-1 answers = %+v, %v; want C1 yes (seen weekly) kept at revision 1", as, err)
	}
	entries, err := db.Audit(ctx, a.ID, "P-1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	versions := 0
	for _, e := range entries {
		if e.Action == "answer.write" && strings.HasSuffix(e.Entity, "/C1") && strings.Contains(e.After, `"value":"yes"`) {
			versions++
		}
	}
	if versions != 1 {
		t.Errorf("history of P-1 C1 has %d version(s) with yes, want 1:\n%+v", versions, entries)
	}

	// While suspended, P-2 gets an A1 answer; P-1's C1 is cleared with na.
	ops := []framework.Op{op(a.ID, "P-2", "A1", "yes", 0), op(a.ID, "P-1", "C1", "na", 1)}
	acks, err := db.ApplyOps(ctx, adminUser(), ops)
	if err != nil {
		t.Fatal(err)
	}
	for i, ack := range acks {
		if ack.Result != framework.OpApplied {
			t.Fatalf("op %d (%s %s) = %+v, want applied", i, ops[i].QuestionID, ops[i].Value, ack)
		}
	}
	checkShare(t, db, "after na", "C1", 0, 2, 3, 1, a.ID)
	checkShare(t, db, "after na", "A1", 1, 1, 1, 0, a.ID)
	checkListed(t, db, "after na", []string{"P-1 C1a yes", "P-2 C1 yes", "P-2 C1a no"}, a.ID)

	// Contact resumes: P-2's C1 yes counts again, its A1 no longer applies.
	importCasesCSV(t, db, a.ID, ppHeader+ppCase("P-1", "community", "false")+ppCase("P-2", "licence", "false")+
		ppCase("P-3", "community", "false")+ppCase("P-4", "licence", "false"))
	checkShare(t, db, "after resumption", "C1", 1, 3, 4, 1, a.ID)
	checkShare(t, db, "after resumption", "C1a", 1, 2, 2, 0, a.ID)
	checkShare(t, db, "after resumption", "A1", 0, 0, 0, 0, a.ID)
	checkShare(t, db, "after resumption, pooled", "C1", 1, 5, 6, 1, a.ID, b.ID)
	checkListed(t, db, "after resumption", []string{"P-2 A1 yes"}, a.ID)
}

// adultFramework loads testdata's probation-adult-2018 (rated, with key
// questions that apply to licence cases only).
func adultFramework(tb testing.TB, db *store.DB) {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "testdata", "frameworks", "probation-adult-2018.json"))
	if err != nil {
		tb.Fatal(err)
	}
	putFramework(tb, db, raw)
}

// Counting the answers that no longer apply would publish 3.2.1 one band
// too high: 8 of 10 licence cases (80%, Outstanding) before four of the
// "yes" cases turn out to be community sentences; 4 of 6 (67%, Good) after.
func TestNoLongerApplies_WouldMoveAShareAcrossABand(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	adultFramework(t, db)
	in, err := db.CreateInspection(ctx, admin, "Adult", "North", "probation-adult-2018", 0)
	if err != nil {
		t.Fatal(err)
	}
	casesCSV := func(community int) string {
		var b strings.Builder
		b.WriteString("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,provider,inspector\n")
		for i := 1; i <= 10; i++ {
			st := "licence"
			if i <= community {
				st = "community"
			}
			fmt.Fprintf(&b, "L-%02d,%s,male,26-39,white,medium,none,North,nps,insp.a\n", i, st)
		}
		return b.String()
	}
	importCasesCSV(t, db, in.ID, casesCSV(0))
	var answers strings.Builder
	for i := 1; i <= 10; i++ {
		v := "yes"
		if i > 8 {
			v = "no"
		}
		fmt.Fprintf(&answers, "L-%02d,3.2.1,%s,\nL-%02d,3.2.2,yes,\n", i, v, i)
	}
	importAnswersCSV(t, db, in.ID, answers.String())
	check := func(when string, yes, relevant int, band string) {
		t.Helper()
		full, kept := reports(t, db, in.ID)
		for name, r := range map[string]*aggregate.Report{"report": full, "kept counts": kept} {
			f := figure(t, r, "3.2.1")
			s, _ := r.Standard("3.2")
			if f.Yes != yes || f.Relevant != relevant || f.Band != band || s.Rating != band {
				t.Errorf("%s: %s 3.2.1 = %d/%d %d%% %s, standard 3.2 %q; want %d/%d %s", when, name, f.Yes, f.Relevant, f.Percent, f.Band, s.Rating, yes, relevant, band)
			}
		}
		if ms, err := db.Recount(ctx, false); err != nil || len(ms) != 0 {
			t.Errorf("%s: recount = %+v, %v", when, ms, err)
		}
	}
	check("before", 8, 10, "Outstanding")
	importCasesCSV(t, db, in.ID, casesCSV(4))
	check("after four cases turn out community", 4, 6, "Good")
	importCasesCSV(t, db, in.ID, casesCSV(0))
	check("after they are licence again", 8, 10, "Outstanding")
}
