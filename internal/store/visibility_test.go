package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Pull's filter (Changes, in SQL) and framework.CanSeeCase (every ack,
// error and listing) are one rule written twice: for every role, assigned
// or not, on the team or off it, both must give the same cases and answers.
func TestCanSeeCaseMatchesPull(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	id := mustInspection(t, db)
	mustCases(t, db, id) // T-1 insp.a's, T-2 insp.b's
	other := mustInspection(t, db)
	mustCases(t, db, other)
	for _, m := range []struct {
		user string
		role framework.Role
	}{{"lead.l", framework.RoleLead}, {"qa.q", framework.RoleQA}, {"an.n", framework.RoleAnalyst}} {
		if err := db.AddTeamMember(ctx, admin, id, m.user, m.role); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateUser(ctx, admin, "nobody", false); err != nil {
		t.Fatal(err)
	}
	// An answer on every case of both inspections.
	for _, insp := range []string{id, other} {
		for _, ref := range []string{"T-1", "T-2"} {
			if acks, err := db.ApplyOps(ctx, adminUser(), []framework.Op{op(insp, ref, "2.1.1", "yes", 0)}); err != nil || acks[0].Result != framework.OpApplied {
				t.Fatalf("answer %s %s: %v %v", insp, ref, acks, err)
			}
		}
	}
	users := []struct {
		u    framework.User
		role framework.Role // on inspection id
	}{
		{adminUser(), framework.RoleAdmin}, {framework.User{Name: "lead.l"}, framework.RoleLead}, {framework.User{Name: "qa.q"}, framework.RoleQA},
		{framework.User{Name: "an.n"}, framework.RoleAnalyst}, {framework.User{Name: "insp.a"}, framework.RoleInspector},
		{framework.User{Name: "insp.b"}, framework.RoleInspector}, {framework.User{Name: "nobody"}, ""},
	}
	assigned := map[string]string{"T-1": "insp.a", "T-2": "insp.b"}
	for _, tt := range users {
		changes, _, _, err := db.Changes(ctx, tt.u, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		var gotCases, gotAnswers []string
		for _, ch := range changes {
			if ch.InspectionID != id {
				continue
			}
			if ch.Case != nil {
				gotCases = append(gotCases, ch.Case.Ref)
			}
			if ch.Answer != nil {
				gotAnswers = append(gotAnswers, ch.Answer.CaseRef)
			}
		}
		var want []string
		for _, ref := range []string{"T-1", "T-2"} {
			if framework.CanSeeCase(tt.role, assigned[ref] == tt.u.Name) {
				want = append(want, ref)
			}
		}
		slices.Sort(gotCases)
		slices.Sort(gotAnswers)
		if fmt.Sprint(gotCases) != fmt.Sprint(want) || fmt.Sprint(gotAnswers) != fmt.Sprint(want) {
			t.Errorf("%s (%s): pull gives cases %v and answers of %v; CanSeeCase gives %v", tt.u.Name, tt.role, gotCases, gotAnswers, want)
		}
	}
}
