package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
)

// Attacks on the kept counts' write path as it keeps a write's changes to
// a breakdown row unpacked and adds the stored row into them at flush
// (countDeltas.flush, unpackInto).

// inspectionState is every table a write to an inspection changes, as text.
func inspectionState(t *testing.T, raw *sql.DB, id string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT c.case_ref, c.attributes, a.question_id, a.value, a.note, a.revision FROM answers a JOIN cases c ON c.id = a.case_id WHERE c.inspection_id = ? ORDER BY 1, 3`,
		`SELECT case_ref, attributes, inspector, status FROM cases WHERE inspection_id = ? ORDER BY 1`,
		`SELECT question_id, value, n FROM question_counts WHERE inspection_id = ? ORDER BY 1, 2`,
		`SELECT attribute, value, n FROM attribute_counts WHERE inspection_id = ? ORDER BY 1, 2`,
		`SELECT attribute, attr_value, hex(counts) FROM breakdown_counts WHERE inspection_id = ? ORDER BY 1, 2`,
		`SELECT count(*), coalesce(max(seq), 0) FROM changes WHERE inspection_id = ?`,
	} {
		rows, err := raw.Query(q, id)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%v\n", vals)
		}
		rows.Close()
		b.WriteString("--\n")
	}
	return b.String()
}

// A kept row by attribute that cannot be read refuses every write that
// would change it, with the error such a write gave before (the
// inspection and attribute named, not the value, and the fix), and leaves
// the inspection as it was, to the byte: answers.csv, a push (another
// inspection's push, grouped with it or not, goes through), cases.csv
// moving a case's answers to other attribute values. A write whose deltas
// touch no breakdown row (a case without answers moved, a note alone) is
// not refused. After recount --fix the refused writes go through and the
// kept counts equal a full recount.
func TestCountsAttack_MalformedRowRefusesWritesAndKeepsAll(t *testing.T) {
	ctx := context.Background()
	db, path := mustOpenPath(t)
	raw := rawDB(t, path)
	var ids []string
	for _, name := range []string{"Torn", "Sound"} {
		in, err := db.CreateInspection(ctx, admin, name, name, "probation-pdu-2023", 0)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, in.ID)
		importCasesCSV(t, db, in.ID, ppHeader+ppCase("T-1", "community", "false")+ppCase("T-2", "licence", "false"))
		importAnswersCSV(t, db, in.ID, "T-1,2.1.1,yes,\nT-1,2.3.S1,4,\n")
	}
	torn, sound := ids[0], ids[1]
	if _, err := raw.Exec(`UPDATE breakdown_counts SET counts = x'01ff' WHERE inspection_id = ? AND attribute = 'sentence_type' AND attr_value = 'community'`, torn); err != nil {
		t.Fatal(err)
	}
	want := "update counts: inspection " + torn + " sentence_type: malformed kept counts by attribute (fieldworkd recount --fix rewrites them)"

	// Touching no breakdown row: T-2 has no answer, so moving it moves
	// only the count of cases.
	importCasesCSV(t, db, torn, ppHeader+strings.Replace(ppCase("T-2", "licence", "false"), "male", "female", 1))
	before := inspectionState(t, raw, torn)
	refused := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.HasSuffix(err.Error(), want) || strings.Contains(err.Error(), "community") {
			t.Errorf("%s on the unreadable row: err = %v; want it refused ending %q, naming no value", what, err, want)
		}
		if after := inspectionState(t, raw, torn); after != before {
			t.Errorf("%s refused, yet the inspection changed:\nbefore\n%s\nafter\n%s", what, before, after)
		}
	}
	_, _, err := db.ImportAnswers(ctx, admin, torn, mustAnswers(t, "T-1,2.1.2,yes,\n"))
	refused("answers.csv", err)
	revs := map[string]int64{}
	for _, id := range ids {
		as, err := db.Answers(ctx, id, "T-1")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			revs[id+a.QuestionID] = a.Revision
		}
	}
	for i := range 5 {
		// The count question's answer through many numbers in one batch.
		var batch []framework.Op
		for n := range 30 {
			batch = append(batch, op(torn, "T-1", "2.3.S1", fmt.Sprint(5+n), revs[torn+"2.3.S1"]+int64(n)))
		}
		p1, err := db.SubmitOps(ctx, adminUser(), batch)
		if err != nil {
			t.Fatal(err)
		}
		o := op(sound, "T-1", "2.1.2", []string{"yes", "no"}[i%2], revs[sound+"2.1.2"])
		p2, err := db.SubmitOps(ctx, adminUser(), []framework.Op{o})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p1.Wait()
		refused(fmt.Sprintf("push %d", i), err)
		acks, err := p2.Wait()
		if err != nil || acks[0].Result != framework.OpApplied {
			t.Fatalf("push %d to the sound inspection beside it: %+v, %v; want applied", i, acks, err)
		}
		revs[sound+"2.1.2"] = acks[0].Answer.Revision
	}
	rows, err := interchange.ReadCases(strings.NewReader(ppHeader + strings.Replace(ppCase("T-1", "community", "false"), "male", "female", 1)))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = db.ImportCases(ctx, admin, torn, rows)
	refused("cases.csv moving T-1's answers", err)
	// A note alone moves no count: it is kept, the row not read.
	if _, _, err := db.ImportAnswers(ctx, admin, torn, mustAnswers(t, "T-1,2.1.1,yes,a note\n")); err != nil {
		t.Errorf("a note alone on a case of the unreadable row: %v; want it kept", err)
	}

	if _, err := db.Recount(ctx, true); err != nil {
		t.Fatalf("recount --fix: %v", err)
	}
	importAnswersCSV(t, db, torn, "T-1,2.1.2,yes,\n")
	applyAll(t, db, op(torn, "T-1", "2.3.S1", "17", revs[torn+"2.3.S1"]))
	if _, _, err := db.ImportCases(ctx, admin, torn, rows); err != nil {
		t.Fatal(err)
	}
	if ms, err := db.Recount(ctx, false); err != nil || len(ms) != 0 {
		t.Fatalf("recount after the fix and the writes = %+v, %v; want none", ms, err)
	}
	checkByCounts(t, db, torn)
	checkByCounts(t, db, torn, sound)
}
