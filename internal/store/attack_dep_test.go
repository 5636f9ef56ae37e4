package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// attackFW has every shape of rule on answers: a chain (A → B → C), a
// question named by two dependents (A: B and G), a question named by a
// rule that itself applies only to custody cases (CU → E), a rule on a
// count (N → F, with A too: two conditions).
const attackFW = `{"id":"attack","version":1,
	"attributes":[{"name":"sentence","values":["community","custody"]}],
	"domains":[{"id":"D","title":"d","standards":[{"id":"S","title":"s","kind":"case_rated","key_questions":[
		{"id":"K","text":"k","prompts":[
			{"id":"A","text":"a"},
			{"id":"B","text":"b","applies_when":[{"question":"A","in":["yes"]}]},
			{"id":"C","text":"c","applies_when":[{"question":"B","in":["no"]}]},
			{"id":"CU","text":"cu","applies_when":[{"attribute":"sentence","in":["custody"]}]},
			{"id":"E","text":"e","applies_when":[{"question":"CU","not_in":["no"]}]},
			{"id":"F","text":"f","applies_when":[{"question":"N","not_in":["0"]},{"question":"A","in":["yes"]}]},
			{"id":"G","text":"g","applies_when":[{"question":"A","not_in":["yes"]}]}]}]}]}],
	"supplementary":[{"id":"N","text":"n","type":"count","min":0}]}`

var attackYesNo = []string{"A", "B", "C", "CU", "E", "F", "G"}

// handApplies is the rule of docs/frameworks.md written out for attackFW
// by hand: 1 applies, 0 not yet, -1 does not apply.
func handApplies(q string, sentence string, ans map[string]string) int {
	// eff is the answer a rule sees: na where the question does not apply.
	eff := func(r string) (string, bool) {
		switch handApplies(r, sentence, ans) {
		case -1:
			return "na", true
		case 0:
			return "", false
		}
		v, ok := ans[r]
		return v, ok
	}
	cond := func(r string, holds func(string) bool) int {
		v, ok := eff(r)
		switch {
		case !ok:
			return 0
		case holds(v):
			return 1
		}
		return -1
	}
	is := func(want string) func(string) bool { return func(v string) bool { return v == want } }
	not := func(no string) func(string) bool { return func(v string) bool { return v != no } }
	switch q {
	case "B":
		return cond("A", is("yes"))
	case "C":
		return cond("B", is("no"))
	case "CU":
		if sentence != "custody" {
			return -1
		}
	case "E":
		return cond("CU", not("no"))
	case "F":
		n, a := cond("N", not("0")), cond("A", is("yes"))
		return min(n, a) // a failing condition wins over one not yet decided
	case "G":
		return cond("A", not("yes"))
	}
	return 1
}

type attackEnv struct {
	t        *testing.T
	fwv      *framework.Framework
	db       *store.DB
	id       string
	rnd      *rand.Rand
	sentence map[string]string
	refs     []string
}

func (e *attackEnv) input() framework.Sample {
	fw, in, err := e.db.ReportInput(context.Background(), e.id)
	if err != nil {
		e.t.Fatal(err)
	}
	e.fwv = fw
	return in
}

func (e *attackEnv) importCases() {
	var b strings.Builder
	b.WriteString("case_ref,sentence,inspector\n")
	for _, ref := range e.refs {
		fmt.Fprintf(&b, "%s,%s,insp.a\n", ref, e.sentence[ref])
	}
	importCasesCSV(e.t, e.db, e.id, b.String())
}

func (e *attackEnv) value(q string) string {
	if q == "N" {
		return []string{"0", "1", "2", "na"}[e.rnd.IntN(4)]
	}
	return []string{"yes", "no", "na", "yes", "no"}[e.rnd.IntN(5)]
}

func (e *attackEnv) question() string {
	all := append(slices.Clone(attackYesNo), "N")
	return all[e.rnd.IntN(len(all))]
}

// stored reads every case's answers: case → question → (value, revision).
func (e *attackEnv) stored() (map[string]map[string]string, map[string]map[string]int64) {
	vals, revs := map[string]map[string]string{}, map[string]map[string]int64{}
	for _, ref := range e.refs {
		as, err := e.db.Answers(context.Background(), e.id, ref)
		if err != nil {
			e.t.Fatal(err)
		}
		vals[ref], revs[ref] = map[string]string{}, map[string]int64{}
		for _, a := range as {
			vals[ref][a.QuestionID], revs[ref][a.QuestionID] = a.Value, a.Revision
		}
	}
	return vals, revs
}

func (e *attackEnv) randomOp(revs map[string]map[string]int64) framework.Op {
	ref, q := e.refs[e.rnd.IntN(len(e.refs))], e.question()
	base := revs[ref][q]
	if e.rnd.IntN(5) == 0 && base > 0 {
		base-- // stale: a conflict where the value differs
	}
	o := op(e.id, ref, q, e.value(q), base)
	o.DeviceID = fmt.Sprintf("dev-%d", e.rnd.IntN(3))
	return o
}

// check compares the report from every answer and the one from kept counts
// with the hand computation on the stored answers, and recount with the
// kept counts.
func (e *attackEnv) check(when string) {
	e.t.Helper()
	vals, _ := e.stored()
	full, kept := reports(e.t, e.db, e.id)
	for _, q := range attackYesNo {
		var yes, rel, na int
		for _, ref := range e.refs {
			v, ok := vals[ref][q]
			if !ok || v != "na" && handApplies(q, e.sentence[ref], vals[ref]) != 1 {
				continue
			}
			switch v {
			case "yes":
				yes, rel = yes+1, rel+1
			case "no":
				rel++
			case "na":
				na++
			}
		}
		in := e.input()
		by := aggregate.ComputeWith(e.fwv, in, aggregate.Options{By: []string{"sentence"}})
		for _, b := range by.Breakdowns {
			for _, row := range b.Rows {
				if row.ID != q {
					continue
				}
				var cy, cr int
				for _, c := range row.Cells {
					cy, cr = cy+c.Yes, cr+c.Relevant
				}
				if row.All.Yes != yes || row.All.Relevant != rel || cy != yes || cr != rel {
					e.t.Fatalf("%s: breakdown of %s by sentence: all %d/%d, cells %d/%d, by hand %d/%d", when, q, row.All.Yes, row.All.Relevant, cy, cr, yes, rel)
				}
			}
		}
		for name, r := range map[string]*aggregate.Report{"report": full, "kept counts": kept} {
			f := figure(e.t, r, q)
			if f.Yes != yes || f.Relevant != rel || f.NotApplicable != na {
				e.t.Fatalf("%s: %s %s = %d/%d na %d, by hand %d/%d na %d; answers %v sentences %v",
					when, name, q, f.Yes, f.Relevant, f.NotApplicable, yes, rel, na, vals, e.sentence)
			}
		}
	}
	if ms, err := e.db.Recount(context.Background(), false); err != nil || len(ms) != 0 {
		e.t.Fatalf("%s: recount = %+v, %v; answers %v", when, ms, err, vals)
	}
}

func TestAttack_KeptCountsAndFiguresFollowEveryMix(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			attackMix(t, seed)
		})
	}
}

func attackMix(t *testing.T, seed uint64) {
	ctx := t.Context()
	db := mustOpen(t)
	fw, err := framework.Load([]byte(attackFW))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutFramework(ctx, fw, []byte(attackFW), false); err != nil {
		t.Fatal(err)
	}
	in, err := db.CreateInspection(ctx, admin, "Attack", "North", "attack", 0)
	if err != nil {
		t.Fatal(err)
	}
	e := &attackEnv{t: t, db: db, id: in.ID, rnd: rand.New(rand.NewPCG(seed, 7)), sentence: map[string]string{}, refs: []string{"X-1", "X-2", "X-3"}}
	for _, ref := range e.refs {
		e.sentence[ref] = "custody"
	}
	e.importCases()
	for round := 0; round < 80; round++ {
		_, revs := e.stored()
		var what string
		switch k := e.rnd.IntN(10); {
		case k < 5: // batches pushed together, grouped into one commit
			what = "concurrent batches"
			var batches [][]framework.Op
			for range 1 + e.rnd.IntN(3) {
				var b []framework.Op
				for range 1 + e.rnd.IntN(5) {
					b = append(b, e.randomOp(revs))
				}
				if e.rnd.IntN(4) == 0 && len(b) > 0 { // the same answer changed twice in one batch
					o := b[0]
					o2 := op(e.id, o.CaseRef, o.QuestionID, e.value(o.QuestionID), o.BaseRevision+1)
					o2.DeviceID, o2.Supersedes = o.DeviceID, []string{o.ID}
					b = append(b, o2)
				}
				if e.rnd.IntN(5) == 0 && len(b) > 0 { // a duplicate
					b = append(b, b[e.rnd.IntN(len(b))])
				}
				batches = append(batches, b)
			}
			var wg sync.WaitGroup
			for _, b := range batches {
				wg.Go(func() {
					if _, err := db.ApplyOps(ctx, adminUser(), b); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		case k < 7:
			what = "resolutions"
			cs, err := db.OpenConflicts(ctx, e.id)
			if err != nil {
				t.Fatal(err)
			}
			var b []framework.Op
			for _, c := range cs {
				o := op(e.id, c.CaseRef, c.QuestionID, c.ClientValue, revs[c.CaseRef][c.QuestionID])
				o.ConflictID, o.Resolution = c.ID, framework.ResolveMine
				if e.rnd.IntN(2) == 0 {
					o.Value, o.Resolution = c.ServerValue, framework.ResolveTheirs
				}
				b = append(b, o)
			}
			applyAll(t, db, b...)
		case k < 8:
			what = "cases.csv"
			for _, ref := range e.refs {
				e.sentence[ref] = []string{"community", "custody"}[e.rnd.IntN(2)]
			}
			e.importCases()
		default:
			what = "answers.csv"
			var b strings.Builder
			b.WriteString("case_ref,question_id,answer,note\n")
			for range 1 + e.rnd.IntN(4) {
				q := e.question()
				fmt.Fprintf(&b, "%s,%s,%s,\n", e.refs[e.rnd.IntN(len(e.refs))], q, e.value(q))
			}
			rows, err := interchange.ReadAnswers(strings.NewReader(b.String()))
			if err != nil {
				break // a row twice: refused as read
			}
			db.ImportAnswers(ctx, admin, e.id, rows) // refused files are fine
		}
		e.check(fmt.Sprintf("round %d (%s)", round, what))
	}
}

// An inspector who may not see a case learns nothing of its answers from
// a refusal of a dependent answer: not whether the answer it waits on is
// given, nor its value; the same refusal whether or not the case exists.
func TestAttack_DependentRefusalTellsAnOutsiderNothing(t *testing.T) {
	db := mustOpen(t)
	id := ppV2(t, db, "P-1")
	importCasesCSV(t, db, id, ppHeader+strings.Replace(ppCase("P-9", "community", "false"), "insp.a", "insp.b", 1))
	applyAll(t, db, op(id, "P-1", "PP.IE3", "no", 0))
	b := framework.User{Name: "insp.b"}
	acks, err := db.ApplyOps(t.Context(), b, []framework.Op{
		op(id, "P-1", "PP.IE4", "yes", 0), op(id, "P-2", "PP.IE4", "yes", 0),
		op(id, "P-1", "PP.IE3", "yes", 0), op(id, "P-1", "PP.IE4", "yes", 0)})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range acks {
		if a.Result != framework.OpRejected || strings.Contains(a.Reason, "PP.IE3") || a.Answer != nil || a.Conflict != nil {
			t.Errorf("ack %d to an outsider: %+v; want a refusal naming nothing of the case", i, a)
		}
	}
	if acks[0].Reason != strings.Replace(acks[1].Reason, "P-2", "P-1", 1) {
		t.Errorf("refusals tell an existing case from a missing one: %q vs %q", acks[0].Reason, acks[1].Reason)
	}
}

// The cases behind a dependent question's figure: only its own answers,
// only those that count (its condition holds), never the answers it waits
// on that QuestionAnswers reads with it.
func TestAttack_EvidenceOfADependentQuestion(t *testing.T) {
	db := mustOpen(t)
	id := ppV2(t, db, "P-1", "P-2", "P-3")
	applyAll(t, db, op(id, "P-1", "PP.IE3", "yes", 0), op(id, "P-1", "PP.IE4", "no", 0),
		op(id, "P-2", "PP.IE3", "yes", 0), op(id, "P-2", "PP.IE4", "yes", 0), op(id, "P-3", "PP.IE3", "no", 0))
	applyAll(t, db, op(id, "P-2", "PP.IE3", "no", 1)) // P-2's PP.IE4 no longer applies
	fw, cases, answers, err := db.QuestionAnswers(t.Context(), id, "PP.IE4")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []aggregate.EvidenceFilter{{}, {Value: "yes"}, {Value: aggregate.RelevantValue}} {
		rows, err := aggregate.Evidence(fw, cases, answers, "PP.IE4", f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, r.CaseRef+" "+r.Value)
		}
		want := "P-1 no"
		if f.Value == "yes" {
			want = ""
		}
		if strings.Join(got, ", ") != want {
			t.Errorf("evidence of PP.IE4 (value %q) = %q, want %q", f.Value, got, want)
		}
	}
	checkShare(t, db, "evidence", "PP.IE4", 0, 1, 1, 0, id)
}
