package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// Attacks on the kept counts by attribute packed by question position
// (packed.go) and on a pooled report's per-question counts read from the
// first attribute's rows (sumUnitCounts).

// packV1 and packV2 are two versions of one framework whose questions and
// attributes differ: v2 puts a new question before the others (every
// position moves), a second count question, and another attribute first.
// Region is free text.
const packV1 = `{"id":"packed","version":1,
	"attributes":[{"name":"region"},{"name":"sentence","values":["community","custody"]}],
	"domains":[{"id":"D","title":"d","standards":[{"id":"S","title":"s","kind":"case_rated","key_questions":[
		{"id":"K","text":"k","prompts":[
			{"id":"A","text":"a"},
			{"id":"B","text":"b","applies_when":[{"question":"A","in":["yes"]}]},
			{"id":"CU","text":"cu","applies_when":[{"attribute":"sentence","in":["custody"]}]}]}]}]}],
	"supplementary":[{"id":"N","text":"n","type":"count","min":0}]}`

const packV2 = `{"id":"packed","version":2,
	"attributes":[{"name":"sentence","values":["community","custody"]},{"name":"region"},{"name":"band","values":["x","y"]}],
	"domains":[{"id":"D","title":"d","standards":[{"id":"S","title":"s","kind":"case_rated","key_questions":[
		{"id":"K","text":"k","prompts":[
			{"id":"Z","text":"z"},
			{"id":"A","text":"a"},
			{"id":"B","text":"b","applies_when":[{"question":"A","in":["yes"]}]},
			{"id":"CU","text":"cu","applies_when":[{"attribute":"sentence","in":["custody"]}]}]}]}]}],
	"supplementary":[{"id":"M","text":"m","type":"count","min":0},{"id":"N","text":"n","type":"count","min":0}]}`

type packedEnv struct {
	t    *testing.T
	db   *store.DB
	rnd  *rand.Rand
	refs []string
}

func (e *packedEnv) putFramework(raw string) *framework.Framework {
	return putFramework(e.t, e.db, []byte(raw))
}

// casesCSV gives every case random attribute values.
func (e *packedEnv) casesCSV(fw *framework.Framework) string {
	var b strings.Builder
	b.WriteString("case_ref")
	for _, a := range fw.Attributes {
		b.WriteString("," + a.Name)
	}
	b.WriteString(",inspector\n")
	for _, ref := range e.refs {
		b.WriteString(ref)
		for _, a := range fw.Attributes {
			v := []string{"West", "North", "South"}[e.rnd.IntN(3)]
			if len(a.Values) > 0 {
				v = a.Values[e.rnd.IntN(len(a.Values))]
			}
			b.WriteString("," + v)
		}
		b.WriteString(",insp.a\n")
	}
	return b.String()
}

// ops are random answers: yes/no/na, or one of hundreds of numbers.
func (e *packedEnv) ops(fw *framework.Framework, id string, revs map[string]int64) []framework.Op {
	var out []framework.Op
	qs := fw.Questions()
	for range 1 + e.rnd.IntN(8) {
		ref, q := e.refs[e.rnd.IntN(len(e.refs))], qs[e.rnd.IntN(len(qs))]
		v := []string{"yes", "no", "na"}[e.rnd.IntN(3)]
		if q.Type == framework.TypeCount {
			v = fmt.Sprint(e.rnd.IntN(400))
		}
		out = append(out, op(id, ref, q.ID, v, revs[ref+"/"+q.ID]))
	}
	return out
}

// revisions reads the stored answers' revisions: "ref/question" → revision.
func (e *packedEnv) revisions(id string) map[string]int64 {
	out := map[string]int64{}
	for _, ref := range e.refs {
		as, err := e.db.Answers(context.Background(), id, ref)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, a := range as {
			out[ref+"/"+a.QuestionID] = a.Revision
		}
	}
	return out
}

func TestPackedAttack_TwoVersionsSideBySideEqualEveryAnswer(t *testing.T) {
	ctx := context.Background()
	db, path := mustOpenPath(t)
	e := &packedEnv{t: t, db: db, rnd: rand.New(rand.NewPCG(20, 20)), refs: []string{"R-1", "R-2", "R-3", "R-4"}}
	fws := []*framework.Framework{e.putFramework(packV1), e.putFramework(packV2)}
	ids := [2][]string{}
	for v, fw := range fws {
		for i := range 3 { // the third has cases and never an answer
			in, err := e.db.CreateInspection(ctx, admin, fmt.Sprintf("v%d-%d", v+1, i), fmt.Sprintf("Unit %d", i), fw.ID, fw.Version)
			if err != nil {
				t.Fatal(err)
			}
			ids[v] = append(ids[v], in.ID)
			importCasesCSV(t, e.db, in.ID, e.casesCSV(fw))
		}
	}
	for round := range 30 {
		// Both versions' pushes at once: the committer may group them, one
		// flush packing each inspection's rows by its own positions.
		var wg sync.WaitGroup
		for v, fw := range fws {
			for _, id := range ids[v][:2] {
				ops := e.ops(fw, id, e.revisions(id))
				wg.Go(func() {
					if _, err := e.db.ApplyOps(ctx, adminUser(), ops); err != nil {
						t.Error(err)
					}
				})
			}
		}
		wg.Wait()
		for v, fw := range fws {
			for _, id := range ids[v][:2] {
				if e.rnd.IntN(3) == 0 {
					importCasesCSV(t, e.db, id, e.casesCSV(fw)) // attributes change under the answers
				}
			}
		}
		for v := range fws {
			checkByCounts(t, e.db, ids[v]...)
			checkByCounts(t, e.db, ids[v][0])
		}
		if ms, err := e.db.Recount(ctx, false); err != nil || len(ms) != 0 {
			t.Fatalf("round %d: recount = %+v, %v", round, ms, err)
		}
		if t.Failed() {
			t.Fatalf("round %d", round)
		}
	}
	// Cases of a file from before every attribute was required: the first
	// attribute absent on one, empty on another. Their answers are in the
	// "" rows, which still sum to the per-question counts.
	raw := rawDB(t, path)
	for ref, attrs := range map[string]string{"R-1": `{"region":"North","band":"x"}`, "R-2": `{"sentence":"","region":"","band":"y"}`} {
		if _, err := raw.Exec(`UPDATE cases SET attributes = ? WHERE inspection_id = ? AND case_ref = ?`, attrs, ids[1][0], ref); err != nil {
			t.Fatal(err)
		}
	}
	if ms, err := e.db.Recount(ctx, true); err != nil || len(ms) == 0 {
		t.Fatalf("recount after the attributes went = %+v, %v; want mismatches fixed", ms, err)
	}
	checkByCounts(t, e.db, ids[1]...)
	if ms, err := e.db.Recount(ctx, false); err != nil || len(ms) != 0 {
		t.Fatalf("recount after the fix = %+v, %v", ms, err)
	}
	if _, _, err := e.db.PooledSample(ctx, store.PoolOptions{}, ids[0][0], ids[1][0]); err == nil {
		t.Error("two versions pooled; want a refusal")
	}
}

// A kept row by attribute that cannot be read (a torn write, a hand edit,
// rows packed by another build) is what recount is for: it reports the row
// rather than failing, and --fix rewrites it, after which the writes that
// were refused on it go through. Its orphan (an inspection gone) likewise.
func TestPackedAttack_RecountFixesAnUnreadableRow(t *testing.T) {
	ctx := context.Background()
	db, path := mustOpenPath(t)
	in, err := db.CreateInspection(ctx, admin, "Torn", "North", "probation-pdu-2023", 0)
	if err != nil {
		t.Fatal(err)
	}
	importCasesCSV(t, db, in.ID, ppHeader+ppCase("T-1", "community", "false")+ppCase("T-2", "licence", "false"))
	importAnswersCSV(t, db, in.ID, "T-1,2.1.1,yes,\nT-2,2.1.1,no,\nT-1,2.3.S1,4,\n")
	raw := rawDB(t, path)
	for _, stmt := range []string{
		`UPDATE breakdown_counts SET counts = x'01ff' WHERE inspection_id = '` + in.ID + `' AND attribute = 'sentence_type' AND attr_value = 'community'`,
		`INSERT INTO breakdown_counts VALUES ('gone', 'sex', 'male', x'01ffffff7f')`, // claims 2^28 questions
	} {
		if res, err := raw.Exec(stmt); err != nil {
			t.Fatal(err)
		} else if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("%s: %d rows", stmt, n)
		}
	}
	if _, _, err := db.ImportAnswers(ctx, admin, in.ID, mustAnswers(t, "T-1,2.1.2,yes,\n")); err == nil || !strings.Contains(err.Error(), "recount --fix") {
		t.Errorf("a write on the unreadable row: err = %v; want it refused, naming the fix", err)
	}
	ms, err := db.Recount(ctx, false)
	if err != nil {
		t.Fatalf("recount: %v; want the unreadable rows reported", err)
	}
	var unreadable []string
	for _, m := range ms {
		if m.Unreadable {
			unreadable = append(unreadable, m.InspectionID+" "+m.Attribute+" "+m.AttributeValue)
		}
	}
	if want := []string{in.ID + " sentence_type community", "gone sex male"}; fmt.Sprint(unreadable) != fmt.Sprint(want) {
		t.Errorf("unreadable rows reported %v; want %v (all: %+v)", unreadable, want, ms)
	}
	if _, err := db.Recount(ctx, true); err != nil {
		t.Fatalf("recount --fix: %v", err)
	}
	if ms, err := db.Recount(ctx, false); err != nil || len(ms) != 0 {
		t.Fatalf("recount after --fix = %+v, %v; want none", ms, err)
	}
	importAnswersCSV(t, db, in.ID, "T-1,2.1.2,yes,\n")
	checkByCounts(t, db, in.ID)
}

func mustAnswers(t *testing.T, csv string) []framework.AnswerRow {
	t.Helper()
	rows, err := interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer,note\n" + csv))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// A pooled report on an unreadable row says which inspection and
// attribute, and what puts it right, but not the attribute's value: the
// error of an internal failure is logged, and a case attribute is
// personal data.
func TestPackedAttack_UnreadableRowErrorHoldsNoAttributeValue(t *testing.T) {
	ctx := context.Background()
	db, path := mustOpenPath(t)
	in, err := db.CreateInspection(ctx, admin, "Torn", "North", "probation-pdu-2023", 0)
	if err != nil {
		t.Fatal(err)
	}
	importCasesCSV(t, db, in.ID, ppHeader+ppCase("T-1", "community", "false"))
	importAnswersCSV(t, db, in.ID, "T-1,2.1.1,yes,\n")
	if _, err := rawDB(t, path).Exec(`UPDATE breakdown_counts SET counts = x'01ff' WHERE attribute = 'pdu'`); err != nil {
		t.Fatal(err)
	}
	_, _, err = db.PooledSample(ctx, store.PoolOptions{By: []string{"pdu"}}, in.ID)
	if err == nil || strings.Contains(err.Error(), "Gwent") || !strings.Contains(err.Error(), in.ID) ||
		!strings.Contains(err.Error(), "pdu") || !strings.Contains(err.Error(), "recount --fix") {
		t.Errorf("pooled report on an unreadable row: %v; want the inspection, attribute and fix named, not the value", err)
	}
}

// A framework may declare a case attribute named "unit", the name a pooled
// report gives each inspection's unit: pooled, each case's own value was
// overwritten in the report from every answer and added beside the units
// in the one from kept counts, two different wrong profiles. Pooling its
// inspections is refused, saying why; each inspection's own report stands.
func TestPackedAttack_AnAttributeNamedUnitIsNotPooled(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	raw := []byte(`{"id":"teams","version":1,"title":"Teams","attributes":[{"name":"unit"}],
	"domains":[{"id":"D","title":"d","standards":[{"id":"S","title":"s","kind":"case_rated","key_questions":[
		{"id":"K","text":"key","prompts":[{"id":"P","text":"prompt"}]}]}]}]}`)
	putFramework(t, db, raw)
	var ids []string
	for i := range 2 {
		in, err := db.CreateInspection(ctx, admin, fmt.Sprintf("Teams %d", i), fmt.Sprintf("Unit %d", i), "teams", 1)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, in.ID)
		importCasesCSV(t, db, in.ID, "case_ref,unit,inspector\nA-1,team-x,insp.a\nA-2,team-y,insp.a\n")
		importAnswersCSV(t, db, in.ID, "A-1,K,yes,\nA-2,K,no,\n")
	}
	refused := func(what string, err error) {
		t.Helper()
		if framework.ErrorCode(err) != framework.CodeInvalid || !strings.Contains(err.Error(), `attribute named "unit"`) {
			t.Errorf("%s: err = %v; want a refusal naming the attribute", what, err)
		}
	}
	_, _, err := db.PooledSample(ctx, store.PoolOptions{}, ids...)
	refused("pooled from kept counts", err)
	_, _, err = db.ReportInput(ctx, ids...)
	refused("pooled from every answer", err)
	_, _, err = db.DatasetSource(ctx, false, ids...)
	refused("dataset", err)
	_, in, err := db.ReportInput(ctx, ids[0])
	if err != nil || len(in.Cases) != 2 || in.Cases[0].Attributes["unit"] != "team-x" {
		t.Errorf("one inspection's own input: %v, %+v; want its cases with their own unit", err, in.Cases)
	}
}
