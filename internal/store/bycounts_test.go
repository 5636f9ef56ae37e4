package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// The kept counts by attribute give a pooled report its breakdowns and
// profile without reading an answer. checkByCounts holds them to the same
// report computed from every answer, for every attribute (and the unit),
// wherever reports is called: after pushes, imports, attribute changes and
// answers that no longer apply.

// checkByCounts compares the profile and the breakdown by every attribute
// of the report from every answer with those from the kept counts.
func checkByCounts(tb testing.TB, db *store.DB, ids ...string) {
	tb.Helper()
	ctx := context.Background()
	fw, in, err := db.ReportInput(ctx, ids...)
	if err != nil {
		tb.Fatal(err)
	}
	var by []string
	for _, a := range fw.Attributes {
		by = append(by, a.Name)
	}
	full := aggregate.ComputeWith(fw, in, aggregate.Options{By: by})
	fw, kin, err := db.PooledSample(ctx, store.PoolOptions{By: by}, ids...)
	if err != nil {
		tb.Fatal(err)
	}
	kept := aggregate.ComputeWith(fw, kin, aggregate.Options{By: by})
	if len(ids) == 1 {
		// One inspection's own report has no unit; the counts give every
		// report the pooled shape.
		kept.Profile = kept.Profile[:len(kept.Profile)-1]
		kept.Breakdowns = kept.Breakdowns[1:]
	}
	if !reflect.DeepEqual(full.Profile, kept.Profile) {
		tb.Errorf("profile from kept counts =\n%+v\nfrom every answer =\n%+v", kept.Profile, full.Profile)
	}
	if len(full.Breakdowns) != len(kept.Breakdowns) {
		tb.Fatalf("%d breakdowns from kept counts, %d from every answer", len(kept.Breakdowns), len(full.Breakdowns))
	}
	for i, b := range full.Breakdowns {
		if k := kept.Breakdowns[i]; !reflect.DeepEqual(b, k) {
			tb.Errorf("breakdown by %s from kept counts =\n%+v\nfrom every answer =\n%+v", b.Attribute, k, b)
		}
	}
	for i, q := range full.Questions {
		if k := kept.Questions[i]; k.Share != q.Share || k.Answered != q.Answered {
			tb.Errorf("%s from kept counts %+v, from every answer %+v", q.ID, k.Share, q.Share)
		}
	}
}

// Several inspections whose cases have every attribute value, answered, re-imported with other attributes, answered again: the
// pooled breakdowns from the kept counts equal those from every answer, and
// recount finds every kept count right.
func TestByCounts_PooledBreakdownsEqualEveryAnswer(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	fw, _, _ := framework.BuiltinByID("probation-pdu-2023")
	rnd := rand.New(rand.NewPCG(16, 1))
	pick := func(a *framework.Attribute) string {
		if len(a.Values) == 0 {
			return []string{"Gwent", "Cardiff", "Newport"}[rnd.IntN(3)]
		}
		return a.Values[rnd.IntN(len(a.Values))]
	}
	attrs := map[string]map[string]string{} // "inspection/ref" → attributes as last imported
	casesCSV := func(id string) string {
		var b strings.Builder
		b.WriteString(ppHeader)
		for c := range 12 {
			ref := fmt.Sprintf("T-%02d", c)
			b.WriteString(ref)
			attrs[id+"/"+ref] = map[string]string{}
			for _, name := range []string{"sentence_type", "sex", "age_band", "ethnicity", "rosh", "mappa", "pdu", "contact_suspended"} {
				a, _ := fw.Attribute(name)
				v := pick(a)
				attrs[id+"/"+ref][name] = v
				b.WriteString("," + v)
			}
			b.WriteString(",insp.a\n")
		}
		return b.String()
	}
	answersCSV := func(id string) string {
		var b strings.Builder
		for c := range 12 {
			facts := framework.Facts{Attributes: attrs[fmt.Sprintf("%s/T-%02d", id, c)]}
			for _, q := range fw.Questions() {
				if rnd.IntN(3) == 0 {
					continue
				}
				v := []string{"yes", "no", "na"}[rnd.IntN(3)]
				if q.Type == framework.TypeCount {
					v = fmt.Sprint(1 + rnd.IntN(5))
				}
				if st, _ := fw.Applies(q, facts); st != framework.Applies && q.Type != framework.TypeCount {
					v = "na" // the file would be refused
				}
				fmt.Fprintf(&b, "T-%02d,%s,%s,\n", c, q.ID, v)
			}
		}
		return b.String()
	}
	var ids []string
	for i := range 3 {
		in, err := db.CreateInspection(ctx, admin, fmt.Sprintf("PDU %d", i), fmt.Sprintf("Unit %d", i), fw.ID, fw.Version)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, in.ID)
		importCasesCSV(t, db, in.ID, casesCSV(in.ID))
	}
	for round := range 4 {
		for _, id := range ids {
			importAnswersCSV(t, db, id, answersCSV(id))
			if round%2 == 1 {
				importCasesCSV(t, db, id, casesCSV(id)) // attributes change under the answers
			}
		}
		checkByCounts(t, db, ids...)
		checkByCounts(t, db, ids[1])
		if ms, err := db.Recount(ctx, false); err != nil || len(ms) != 0 {
			t.Fatalf("round %d: recount = %+v, %v", round, ms, err)
		}
	}
	// A breakdown by an attribute value nobody has any more: no column.
	_, in, err := db.PooledSample(ctx, store.PoolOptions{By: []string{"sex"}}, ids...)
	if err != nil {
		t.Fatal(err)
	}
	for v, n := range in.AttributeCases["sex"] {
		if n < 0 {
			t.Errorf("cases with sex %q: %d", v, n)
		}
	}
}

// A framework without case attributes has no breakdown rows to read its
// per-question counts from: its pooled report reads question_counts, and
// equals the report from every answer as well.
func TestByCounts_PooledWithoutAttributesEqualsEveryAnswer(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	raw := []byte(`{"id":"bare","version":1,"title":"No attributes","attributes":[],
	"domains":[{"id":"D","title":"d","standards":[{"id":"S","title":"s","kind":"case_rated","key_questions":[
		{"id":"K","text":"key","prompts":[{"id":"P","text":"prompt"}]}]}]}],
	"supplementary":[{"id":"N","text":"how many","type":"count","min":0}]}`)
	putFramework(t, db, raw)
	var ids []string
	for i, answers := range []string{"A-1,K,yes,\nA-1,P,no,\nA-1,N,2,\nA-2,K,no,\n", "A-1,K,yes,\nA-2,K,yes,\nA-2,N,0,\nA-3,P,na,\n"} {
		in, err := db.CreateInspection(ctx, admin, fmt.Sprintf("Bare %d", i), fmt.Sprintf("Unit %d", i), "bare", 1)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, in.ID)
		importCasesCSV(t, db, in.ID, "case_ref,inspector\nA-1,insp.a\nA-2,insp.a\nA-3,insp.a\n")
		importAnswersCSV(t, db, in.ID, answers)
	}
	checkByCounts(t, db, ids...)
	_, in, err := db.PooledSample(ctx, store.PoolOptions{}, ids...)
	if err != nil {
		t.Fatal(err)
	}
	if in.Counts["K"]["yes"] != 3 || in.Counts["K"]["no"] != 1 || in.Counts["N"]["2"] != 1 || in.CaseCount != 6 {
		t.Errorf("pooled counts %v over %d cases; want K yes 3, no 1, N 2 once, 6 cases", in.Counts, in.CaseCount)
	}
}
