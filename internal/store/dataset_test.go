package store_test

import (
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Pages walk every case by keyset, one at a time here, and give a caller
// only the cases framework.CanSeeCase lets them see: a hidden case still
// moves the cursor on, but nothing of it is returned; someone off the team
// gets nothing at all.
func TestDatasetPage_KeysetAndVisibility(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := mustInspection(t, db)
	mustCases(t, db, id) // T-1 insp.a, T-2 insp.b
	if _, err := db.ApplyOps(ctx, adminUser(), []framework.Op{op(id, "T-1", "2.1.1", "yes", 0), op(id, "T-2", "2.1.1", "no", 0)}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddTeamMember(ctx, admin, id, "ana", framework.RoleAnalyst); err != nil {
		t.Fatal(err)
	}
	walk := func(u framework.User) (refs []string, pages int) {
		for after, more := "", true; more; pages++ {
			var cases []framework.DatasetCase
			var err error
			cases, after, more, err = db.DatasetPage(ctx, u, id, after, 1, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cases {
				refs = append(refs, c.Ref)
				if len(c.Answers) != 1 || c.InspectionID != id || c.Attributes["sex"] == "" {
					t.Errorf("%s: case %+v", u.Name, c)
				}
			}
		}
		return refs, pages
	}
	for _, tc := range []struct {
		u    framework.User
		want []string
	}{
		{framework.User{Name: "ana"}, []string{"T-1", "T-2"}},
		{framework.User{Name: "insp.b"}, []string{"T-2"}},
		{framework.User{Name: "stranger"}, nil},
	} {
		refs, pages := walk(tc.u)
		if len(refs) != len(tc.want) || len(tc.want) > 0 && refs[len(refs)-1] != tc.want[len(tc.want)-1] || pages != 3 {
			t.Errorf("%s: %v in %d pages, want %v in 3", tc.u.Name, refs, pages, tc.want)
		}
	}
}
