package client_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

// A pull on its own (the refresh after a change made online, refresh.go)
// runs with the outbox unsent. A queued status change is an unsynced local
// edit like a pending answer: the case keeps showing it, and the answers
// under a queued submission stay closed, even when the pull brings the
// case's row again (the lead corrected an attribute). Before, the pulled
// row put the server's status back: the case showed "in progress" with a
// submission queued, and answers recorded under it were refused on the
// next sync.
func TestPull_KeepsAQueuedStatusChange(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	d := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	ctx := t.Context()
	if _, err := d.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	off := d.Client.Offline()
	answerAll(t, off, w.InspectionID, "C-01")
	if _, err := off.QueueCaseStatus(ctx, "insp.a", w.InspectionID, "C-01", framework.CaseSubmitted, ""); err != nil {
		t.Fatal(err)
	}
	// The lead corrects C-01's sex on the server: no question comes or goes.
	rows, err := interchange.ReadCases(strings.NewReader("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n" +
		"C-01,community,female,26-39,white,medium,none,T,false,insp.a\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Srv.DB().ImportCases(ctx, framework.Actor{User: "admin", Admin: true}, w.InspectionID, rows); err != nil {
		t.Fatal(err)
	}
	res, err := d.Client.Pull(ctx)
	if err != nil || res.Changes == 0 {
		t.Fatalf("pull: %+v, %v; want the corrected case pulled", res, err)
	}
	c := localCase(t, off, w.InspectionID, "C-01")
	if c.Attributes["sex"] != "female" {
		t.Errorf("laptop case sex %q after the pull, want the correction (female)", c.Attributes["sex"])
	}
	if c.Status != framework.CaseSubmitted {
		t.Errorf("laptop case %s after the pull, with its submission still queued; want submitted", c.Status)
	}
	if _, err := off.Record(ctx, "insp.a", client.Edit{InspectionID: w.InspectionID, CaseRef: "C-01", QuestionID: "2.1.1", Value: "yes"}); framework.ErrorCode(err) != framework.CodePrecondition {
		t.Errorf("answer under a queued submission after a pull: %v, want refused here (case submitted)", err)
	}
	// The sync then decides it, and the case shows what the server holds.
	if res, err := d.Client.Sync(ctx); err != nil || res.Rejected != 0 {
		t.Fatalf("sync: %+v, %v", res, err)
	}
	if srv, _ := w.Srv.DB().Case(ctx, w.InspectionID, "C-01"); srv.Status != framework.CaseSubmitted {
		t.Errorf("server case: %s, want submitted", srv.Status)
	}
	if c := localCase(t, off, w.InspectionID, "C-01"); c.Status != framework.CaseSubmitted {
		t.Errorf("laptop case after the sync: %s, want submitted", c.Status)
	}
}

// A conflict resolved on this laptop, its resolution not yet sent, stays
// resolving through a pull that brings the conflict as the server holds
// it (open): before, the pull put it back to open, `fieldwork conflicts`
// listed it again and a second resolution could be queued behind the
// first (refused on the sync). Written conflicts already kept it.
func TestPull_KeepsAQueuedResolution(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	ctx := t.Context()
	a := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	b := w.NewDevice(t, filepath.Join(dir, "b"), "insp.a", w.Addr)
	for _, d := range []*syncsim.Device{a, b} {
		if _, err := d.Client.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	edit := func(d *syncsim.Device, v string) {
		t.Helper()
		if _, err := d.Client.Offline().Record(ctx, "insp.a", client.Edit{InspectionID: w.InspectionID, CaseRef: "C-01", QuestionID: "2.1.1", Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	edit(b, "yes")
	if _, err := b.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// a's edit meets b's: pushed alone (the pull after it did not happen),
	// the conflict is known here from the ack only.
	edit(a, "no")
	if res, err := a.Client.Push(ctx); err != nil || res.Conflicts != 1 {
		t.Fatalf("push: %+v, %v; want one conflict", res, err)
	}
	open, err := a.Client.Offline().Conflicts(ctx, w.InspectionID, false)
	if err != nil || len(open) != 1 {
		t.Fatalf("open conflicts on a: %+v, %v", open, err)
	}
	if _, err := a.Client.Offline().Resolve(ctx, "insp.a", client.Resolution{ConflictID: open[0].ID, Choice: framework.ResolveMine}); err != nil {
		t.Fatal(err)
	}
	if res, err := a.Client.Pull(ctx); err != nil || res.Changes == 0 {
		t.Fatalf("pull: %+v, %v; want the conflict pulled", res, err)
	}
	if still, _ := a.Client.Offline().Conflicts(ctx, w.InspectionID, false); len(still) != 0 {
		t.Errorf("after the pull %d conflict(s) listed open, with its resolution queued; want none", len(still))
	}
	if _, err := a.Client.Offline().Resolve(ctx, "insp.a", client.Resolution{ConflictID: open[0].ID, Choice: framework.ResolveTheirs}); framework.ErrorCode(err) != framework.CodePrecondition {
		t.Errorf("a second resolution after the pull: %v, want refused here (already resolving)", err)
	}
	if res, err := a.Client.Sync(ctx); err != nil || res.Rejected != 0 || res.Applied != 1 {
		t.Fatalf("sync: %+v, %v; want the one resolution applied", res, err)
	}
	answers, err := w.Srv.DB().Answers(ctx, w.InspectionID, "C-01")
	if err != nil {
		t.Fatal(err)
	}
	for _, an := range answers {
		if an.QuestionID == "2.1.1" && an.Value != "no" {
			t.Errorf("server's 2.1.1 = %s after resolving mine, want no", an.Value)
		}
	}
}
