package store_test

import (
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
)

// Review 14: a pooled report prefixes each case reference with its unit
// label and "/", and both may hold "/": unit "North" with case "East/1"
// and unit "North/East" with case "1" both become "North/East/1". The two
// cases then merge: their answers both count in the figure, but the
// breakdown (which reads one value per case reference) counts one, so
// "every row's All is the report's own figure" fails, and the unit column
// puts both answers' case in one unit.
func TestPooledCaseRefsNeverMerge(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	var ids []string
	for _, u := range []struct{ unit, ref, value string }{{"North", "East/1", "yes"}, {"North/East", "1", "no"}} {
		in, err := db.CreateInspection(ctx, admin, "PDU "+u.unit, u.unit, "probation-pdu-2023", 0)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := interchange.ReadCases(strings.NewReader(strings.Replace(casesCSV, "T-1,", u.ref+",", 1)))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.ImportCases(ctx, admin, in.ID, rows); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ApplyOps(ctx, adminUser(), []framework.Op{op(in.ID, u.ref, "2.1.1", u.value, 0)}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, in.ID)
	}
	fw, in, err := db.ReportInput(ctx, ids...)
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	for _, c := range in.Cases {
		refs[c.Ref] = true
	}
	if len(refs) != len(in.Cases) {
		t.Errorf("pooled case refs %v: %d cases under %d refs (two units' cases merged)", refs, len(in.Cases), len(refs))
	}
	r := aggregate.ComputeWith(fw, in, aggregate.Options{By: []string{"sex"}})
	fig, _ := r.Question("2.1.1")
	for _, b := range r.Breakdowns {
		for _, row := range b.Rows {
			if row.ID == "2.1.1" && (row.All.Yes != fig.Yes || row.All.Relevant != fig.Relevant) {
				t.Errorf("breakdown by %s: 2.1.1 all %d/%d, the figure %d/%d", b.Attribute, row.All.Yes, row.All.Relevant, fig.Yes, fig.Relevant)
			}
		}
	}
}
