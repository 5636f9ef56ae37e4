package store_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// A lead or QA inspector who also inspects cases of their own (cases.csv
// names them; they keep their team role) corrects their own submitted
// answers: that is not QA amending them. Only another user's change counts
// (docs/agreement.md). Before, every later change by a lead, QA or
// administrator counted, the case's own inspector's too.
func TestQAAmendments_NotTheInspectorsOwnChanges(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := mustInspection(t, db)
	for user, role := range map[string]framework.Role{"qa.q": framework.RoleQA, "lead.l": framework.RoleLead} {
		if err := db.AddTeamMember(ctx, admin, id, user, role); err != nil {
			t.Fatal(err)
		}
	}
	importCasesCSV(t, db, id, casesCSV+"T-3,community,male,26-39,white,medium,none,Test,false,lead.l\n")
	if in, err := db.Inspection(ctx, framework.User{Name: "lead.l"}, id); err != nil || in.Role != framework.RoleLead {
		t.Fatalf("lead.l's role after being named inspector of T-3: %q, %v; want lead still", in.Role, err)
	}
	fw, _, err := framework.BuiltinByID("probation-pdu-2023")
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	n := 0
	for _, q := range fw.Questions() {
		n++
		v := "na"
		if q.ID == "2.1.1" || q.ID == "2.1.2" {
			v = "yes"
		}
		fmt.Fprintf(&csv, "T-3,%s,%s,\n", q.ID, v)
	}
	importAnswersCSV(t, db, id, csv.String())
	if _, err := db.SetCaseStatus(ctx, framework.User{Name: "lead.l"}, "dev-1", id, "T-3", framework.CaseSubmitted, ""); err != nil {
		t.Fatal(err)
	}
	apply := func(u string, o framework.Op) {
		t.Helper()
		acks, err := db.ApplyOps(ctx, framework.User{Name: u}, []framework.Op{o})
		if err != nil || acks[0].Result != framework.OpApplied {
			t.Fatalf("%s's op: %+v, %v", u, acks, err)
		}
	}
	apply("lead.l", op(id, "T-3", "2.1.1", "no", 1)) // the inspector's own correction
	apply("qa.q", op(id, "T-3", "2.1.2", "no", 1))   // QA's amendment
	got, err := db.QAAmendments(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.InspectorAmendments{{Inspector: "lead.l", Submitted: n, Amended: 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("QAAmendments = %+v, want %+v (QA's change only)", got, want)
	}
}
