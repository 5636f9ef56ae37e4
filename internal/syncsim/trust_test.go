package syncsim_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

var admin = framework.Actor{User: "admin", Device: "t", Admin: true}

// A refused edit stays in front of its author with the value and note they
// typed and the server's reason, until they record it again or dismiss it;
// a dismissal reaches the server's audit trail.
func TestARefusedEditStaysWithItsAuthorUntilTheyAct(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	a := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	syncOK(t, a)
	ctx := t.Context()
	ref := syncsim.Cases[0] // insp.a's
	const note = "seen in the OASys review of 3 May"
	lock := func() {
		if _, err := w.Srv.DB().SetInspectionStatus(ctx, framework.User{Name: "admin", Admin: true}, "t", w.InspectionID, framework.InspectionLocked, ""); err != nil {
			t.Fatal(err)
		}
	}
	unlock := func() {
		if _, err := w.Srv.DB().SetInspectionStatus(ctx, framework.User{Name: "admin", Admin: true}, "t", w.InspectionID, framework.InspectionFieldwork, "more to check"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Local.Record(ctx, a.User, w.InspectionID, ref, "2.1.1", "yes", note); err != nil {
		t.Fatal(err)
	}
	lock() // before the edit reaches the server
	res, err := a.Client.Sync(ctx)
	if err != nil || res.Rejected != 1 {
		t.Fatalf("sync after the lock = %+v, %v; want the edit refused", res, err)
	}
	rej, err := a.Local.Rejections(ctx)
	if err != nil || len(rej) != 1 {
		t.Fatalf("refused edits = %+v, %v; want the one", rej, err)
	}
	r := rej[0]
	if r.CaseRef != ref || r.QuestionID != "2.1.1" || r.Value != "yes" || r.Note != note || !strings.Contains(r.Reason, "locked") ||
		r.Code != string(framework.CodePrecondition) || r.Status != localstore.RefusalOpen {
		t.Errorf("refused edit = %+v, want 2.1.1 yes with its note, refused as locked (precondition)", r)
	}
	// Re-syncing keeps it listed; recording it again while the cause stands
	// is refused at once, and keeps it listed too.
	syncOK(t, a)
	if _, err := a.Local.RecordAgain(ctx, a.User, localstore.RefusalSelector{CaseRef: ref, QuestionID: "2.1.1"}); framework.ErrorCode(err) != framework.CodePrecondition {
		t.Errorf("recording again while locked: %v, want a precondition error", err)
	}
	if rej, _ := a.Local.Rejections(ctx); len(rej) != 1 {
		t.Fatalf("after a sync and a refused retry, refused edits = %+v, want still the one", rej)
	}
	unlock()
	syncOK(t, a)
	op, err := a.Local.RecordAgain(ctx, a.User, localstore.RefusalSelector{CaseRef: ref, QuestionID: "2.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	a.Ops = append(a.Ops, op)
	syncOK(t, a)
	answers, _ := w.Srv.DB().Answers(ctx, w.InspectionID, ref)
	if len(answers) != 1 || answers[0].Value != "yes" || answers[0].Note != note {
		t.Errorf("server answers after recording again = %+v, want 2.1.1 yes with the note", answers)
	}
	if rej, _ := a.Local.Rejections(ctx); len(rej) != 0 {
		t.Errorf("refused edits after recording again = %+v, want none open", rej)
	}
	if all, _ := a.Local.AllRejections(ctx); len(all) != 1 || all[0].Status != localstore.RefusalRerecorded || all[0].RerecordedAs != op.ID {
		t.Errorf("kept refusals = %+v, want the one marked recorded again as %s", all, op.ID)
	}

	// A second refusal, dismissed: the server audits the dismissal.
	lock()
	if _, err := a.Local.Record(ctx, a.User, w.InspectionID, ref, "2.1.2", "no", "x"); err != nil {
		t.Fatal(err)
	}
	if res, err := a.Client.Sync(ctx); err != nil || res.Rejected != 1 {
		t.Fatalf("second sync after a lock = %+v, %v", res, err)
	}
	if _, err := a.Local.Dismiss(ctx, localstore.RefusalSelector{CaseRef: ref, QuestionID: "2.1.2"}); err != nil {
		t.Fatal(err)
	}
	if rej, _ := a.Local.Rejections(ctx); len(rej) != 0 {
		t.Errorf("refused edits after dismissing = %+v, want none open", rej)
	}
	syncOK(t, a)
	entries, err := w.Srv.DB().Audit(ctx, w.InspectionID, ref, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range entries {
		if e.Action == "refusal.dismiss" && e.User == "insp.a" && strings.HasSuffix(e.Entity, "/2.1.2") {
			found++
		}
	}
	if found != 1 {
		t.Errorf("audit has %d refusal.dismiss entries for 2.1.2, want 1", found)
	}
	syncOK(t, a) // sent once only
	if pending, _ := a.Local.PendingDismissals(ctx); len(pending) != 0 {
		t.Errorf("dismissals still pending after sync: %v", pending)
	}
}

// A laptop restored from a backup (or a store copied to a new laptop)
// starts again from the backup's device counter, reusing sequence numbers
// the server has already seen: its new edits are applied or become
// conflicts, never dropped as "superseded".
func TestARestoredStoreLosesNoEdit(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	a := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	syncOK(t, a)
	ctx := t.Context()
	ref := syncsim.Cases[0]
	a.Record(t, w.InspectionID, ref, "2.1.1", "yes")
	syncOK(t, a)
	backup := filepath.Join(dir, "backup.db")
	raw, err := sql.Open("sqlite3", filepath.Join(dir, "a", "client.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`VACUUM INTO ?`, backup); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	// After the backup the laptop goes on recording and syncing.
	a.Record(t, w.InspectionID, ref, "2.1.1", "no")
	a.Record(t, w.InspectionID, ref, "2.1.2", "yes")
	a.Record(t, w.InspectionID, ref, "2.1.3", "yes")
	syncOK(t, a)

	// Restored: the same device id and user, the backup's counter.
	if err := os.MkdirAll(filepath.Join(dir, "r"), 0o700); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "r", "client.db"), body, 0o600); err != nil {
		t.Fatal(err)
	}
	r := w.NewDevice(t, filepath.Join(dir, "r"), "insp.a", w.Addr)
	before, _ := r.Local.DeviceID(ctx)
	// An edit made offline before the restored store has pulled anything.
	r.Record(t, w.InspectionID, ref, "2.1.2", "no")
	syncOK(t, r)
	// Its sequence number was the original's: the server said so, and the
	// restored store now syncs as a device of its own.
	if after, _ := r.Local.DeviceID(ctx); after == before {
		t.Errorf("the restored store kept device id %s after the server found its sequence numbers reused", before)
	}
	// And edits made after pulling.
	r.Record(t, w.InspectionID, ref, "2.1.1", "na")
	r.Record(t, w.InspectionID, ref, "2.1.3", "no")
	res, err := r.Client.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied != 2 {
		t.Errorf("restored store's sync = %+v, want both edits applied", res)
	}
	answers, _ := w.Srv.DB().Answers(ctx, w.InspectionID, ref)
	got := map[string]string{}
	for _, a := range answers {
		got[a.QuestionID] = a.Value
	}
	conflicts, _ := w.Srv.DB().OpenConflicts(ctx, w.InspectionID)
	if got["2.1.1"] != "na" || got["2.1.3"] != "no" {
		t.Errorf("server answers = %v, want the restored store's later edits (2.1.1 na, 2.1.3 no)", got)
	}
	if got["2.1.2"] != "no" && len(conflicts) == 0 {
		t.Errorf("the restored store's offline edit of 2.1.2 was neither applied (%v) nor a conflict", got)
	}
	finalSync(t, []*syncsim.Device{a, r})
	syncsim.Check(t, w, []*syncsim.Device{r})
}
