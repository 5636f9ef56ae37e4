package syncsim_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

// Found by TestRandomizedFaultTrials: a QA taken off the team and put back
// after any answer or case changed meanwhile could not sync any more: the
// pull applied an answer before its case (or a case before its inspection)
// and failed with "FOREIGN KEY constraint failed", on every later sync too.
// Pull now leaves out the older changes an announcement delivers again.
func TestRejoiningTheTeamAfterChanges(t *testing.T) {
	for _, move := range []bool{false, true} {
		for _, edit := range []bool{false, true} {
			dir := t.TempDir()
			w := syncsim.Start(t, dir)
			a := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
			qa := w.NewDevice(t, filepath.Join(dir, "qa"), "qa", w.Addr)
			syncOK(t, a)
			a.Record(t, w.InspectionID, "C-01", "2.1.1", "yes")
			syncOK(t, a)
			syncOK(t, qa)
			db := w.Srv.DB()
			if _, _, err := db.RemoveTeamMember(t.Context(), admin, w.InspectionID, "qa"); err != nil {
				t.Fatal(err)
			}
			syncOK(t, qa)
			if move {
				rows, _ := interchange.ReadCases(strings.NewReader("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\nC-01,community,male,26-39,white,medium,none,T,false,insp.b\n"))
				if _, _, err := db.ImportCases(t.Context(), admin, w.InspectionID, rows); err != nil {
					t.Fatal(err)
				}
			}
			if edit {
				a.Record(t, w.InspectionID, "C-02", "2.1.1", "no")
				syncOK(t, a)
			}
			if err := db.AddTeamMember(t.Context(), admin, w.InspectionID, "qa", framework.RoleQA); err != nil {
				t.Fatal(err)
			}
			if _, err := qa.Client.Sync(t.Context()); err != nil {
				t.Errorf("move=%v edit=%v: %v", move, edit, err)
			}
		}
	}
}

// Found by TestRandomizedFaultTrials: a case reassigned to an inspector
// whose device last pulled before the case's answers were made: the
// device's next pull applied those answers before the case and failed with
// "FOREIGN KEY constraint failed", on every later sync too.
func TestACaseArrivingLaterWithOlderAnswers(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	a := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	b := w.NewDevice(t, filepath.Join(dir, "b"), "insp.b", w.Addr)
	syncOK(t, a)
	syncOK(t, b)
	a.Record(t, w.InspectionID, "C-01", "2.1.1", "yes")
	syncOK(t, a)
	move := func(to string) { moveCase(t, w, "C-01", to) }
	move("insp.b")
	syncOK(t, a)
	for range 2 {
		if _, err := b.Client.Sync(t.Context()); err != nil {
			t.Fatalf("insp.b's sync after the case moved to them: %v", err)
		}
	}
	b.Record(t, w.InspectionID, "C-01", "2.1.2", "no")
	syncOK(t, b)
	move("insp.a")
	if _, err := a.Client.Sync(t.Context()); err != nil {
		t.Errorf("moved back: %v", err)
	}
	if _, err := a.Client.Sync(t.Context()); err != nil {
		t.Errorf("moved back, again: %v", err)
	}
}

// A case taken from an inspector and given back before their device pulls:
// one page holds its withdrawal and its return. Each entity used to be
// delivered at its first change in the page, so the case came before its
// own withdrawal and its answers after it, failing with "FOREIGN KEY
// constraint failed". The device must end holding the case with every
// answer made meanwhile.
func TestACaseWithdrawnAndGivenBackInOnePage(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	a := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	b := w.NewDevice(t, filepath.Join(dir, "b"), "insp.b", w.Addr)
	syncOK(t, a)
	a.Record(t, w.InspectionID, "C-01", "2.1.1", "yes")
	syncOK(t, a)
	syncOK(t, b)
	move := func(to string) { moveCase(t, w, "C-01", to) }
	move("insp.b")
	syncOK(t, b)
	b.Record(t, w.InspectionID, "C-01", "2.1.2", "no")
	syncOK(t, b)
	move("insp.a") // insp.a's device has pulled nothing since the case left it
	if _, err := a.Client.Sync(t.Context()); err != nil {
		t.Fatalf("insp.a's sync after the case came back: %v", err)
	}
	got := map[string]string{}
	as, _ := a.Local.Answers(t.Context(), w.InspectionID, "C-01")
	for _, an := range as {
		got[an.QuestionID] = an.Value
	}
	if got["2.1.1"] != "yes" || got["2.1.2"] != "no" {
		t.Errorf("insp.a's device holds C-01 answers %v, want 2.1.1 yes and insp.b's 2.1.2 no", got)
	}
	finalSync(t, []*syncsim.Device{a, b})
	syncsim.Check(t, w, []*syncsim.Device{a, b})
}

// moveCase reassigns a case by importing it with another inspector.
func moveCase(t *testing.T, w *syncsim.World, ref, to string) {
	t.Helper()
	rows, err := interchange.ReadCases(strings.NewReader("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n" +
		ref + ",community,male,26-39,white,medium,none,T,false," + to + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Srv.DB().ImportCases(t.Context(), admin, w.InspectionID, rows); err != nil {
		t.Fatal(err)
	}
}
