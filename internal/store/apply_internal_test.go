package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
)

// TestApplyGroup_RolesArePerUser applies two users' batches in one shared
// transaction (as group commit does) and checks each is judged by its own
// role: the lead may write insp.b's case, insp.a may not.
func TestApplyGroup_RolesArePerUser(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "fw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pdu, pduRaw, _ := framework.BuiltinByID("probation-pdu-2023")
	if err := db.PutFramework(ctx, pdu, pduRaw, true); err != nil {
		t.Fatal(err)
	}
	admin := framework.Actor{User: "admin", Admin: true}
	in, err := db.CreateInspection(ctx, admin, "T", "T", "probation-pdu-2023", 0)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := interchange.ReadCases(strings.NewReader("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n" +
		"T-1,community,male,26-39,white,medium,none,T,false,insp.a\nT-2,community,male,26-39,white,medium,none,T,false,insp.b\n"))
	if _, _, err := db.ImportCases(ctx, admin, in.ID, rows); err != nil {
		t.Fatal(err)
	}
	if err := db.AddTeamMember(ctx, admin, in.ID, "lead", framework.RoleLead); err != nil {
		t.Fatal(err)
	}
	op := func(q string) framework.Op {
		return framework.Op{ID: uuid.NewString(), InspectionID: in.ID, CaseRef: "T-2", QuestionID: q, Value: "yes", DeviceID: "d"}
	}
	lead, insp := framework.User{Name: "lead"}, framework.User{Name: "insp.a"}
	group := []*applyRequest{
		{ctx: ctx, user: lead, ops: []framework.Op{op("2.1.1")}, done: make(chan struct{})},
		{ctx: ctx, user: insp, ops: []framework.Op{op("2.1.2")}, done: make(chan struct{})},
	}
	if err := db.applyGroup(group); err != nil {
		t.Fatal(err)
	}
	if a := group[0].acks[0]; a.Result != framework.OpApplied {
		t.Errorf("lead's op: %+v, want applied", a)
	}
	if a := group[1].acks[0]; a.Result != framework.OpRejected || framework.ErrorCode(a.Err) != framework.CodePermission {
		t.Errorf("insp.a's op on insp.b's case in the same transaction: %+v, want rejected for permission", a)
	}
}
