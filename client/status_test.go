package client_test

import (
	"path/filepath"
	"testing"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

// Submitting a case answered offline: SetCaseStatus pushes the unsynced
// answers first (the server judges completeness on what it holds), then
// syncs again so this laptop shows the case submitted.
func TestClientSetCaseStatus_PushesFirstThenRefreshes(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	d := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	ctx := t.Context()
	if _, err := d.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	off := d.Client.Offline()
	_, fw, err := off.InspectionFramework(ctx, w.InspectionID)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := off.Cases(ctx, w.InspectionID)
	if err != nil {
		t.Fatal(err)
	}
	var c framework.Case
	for _, k := range cases {
		if k.Ref == "C-01" {
			c = k
		}
	}
	if _, err := d.Client.SetCaseStatus(ctx, w.InspectionID, "C-01", framework.CaseSubmitted, ""); framework.ErrorCode(err) != framework.CodePrecondition {
		t.Fatalf("submitting an unanswered case: %v, want a precondition error", err)
	}
	for _, q := range fw.Questions() {
		if st, _ := fw.Applies(q, framework.Facts{Attributes: c.Attributes}); st == framework.Applies {
			if _, err := off.Record(ctx, "insp.a", client.Edit{InspectionID: w.InspectionID, CaseRef: "C-01", QuestionID: q.ID, Value: "na"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	ch, err := d.Client.SetCaseStatus(ctx, w.InspectionID, "C-01", framework.CaseSubmitted, "")
	if err != nil || ch.Unrefreshed != nil || ch.Case.Ref != "C-01" || ch.Case.Status != framework.CaseSubmitted {
		t.Fatalf("submit after answering offline: %+v, %v", ch, err)
	}
	if n, _ := off.PendingCount(ctx); n != 0 {
		t.Errorf("%d answers still unsynced after the submit", n)
	}
	cases, _ = off.Cases(ctx, w.InspectionID)
	for _, k := range cases {
		if k.Ref == "C-01" && k.Status != framework.CaseSubmitted {
			t.Errorf("C-01 on the laptop after the submit: %s, want %s", k.Status, framework.CaseSubmitted)
		}
	}
}
