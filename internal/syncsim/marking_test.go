package syncsim

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

func syncOK(t *testing.T, devs ...*Device) {
	t.Helper()
	for _, d := range devs {
		if _, err := d.Client.Sync(context.Background()); err != nil {
			t.Fatalf("%s sync: %v", d.User, err)
		}
	}
}

// fill answers every applicable question of C-01 (first or second
// marking) on a device, offline, with na (or the given value for 2.1.1).
func fill(t *testing.T, d *Device, insp string, second bool, v211 string) {
	t.Helper()
	ctx := context.Background()
	off := d.Client.Offline()
	for range 10 {
		var missing []string
		var err error
		if second {
			missing, err = off.MarkingMissing(ctx, d.User, insp, "C-01")
		} else {
			missing, err = off.Missing(ctx, insp, "C-01")
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(missing) == 0 {
			return
		}
		for _, q := range missing {
			v := "na"
			if q == "2.1.1" {
				v = v211
			}
			if second {
				_, err = d.Local.RecordMarking(ctx, d.User, insp, "C-01", q, v, "")
			} else {
				_, err = d.Local.Record(ctx, d.User, insp, "C-01", q, v, "")
			}
			if err != nil {
				t.Fatalf("%s %s: %v", d.User, q, err)
			}
		}
	}
	t.Fatal("never complete")
}

func localFirst(t *testing.T, d *Device, insp string) int {
	t.Helper()
	as, err := d.Local.Answers(context.Background(), insp, "C-01")
	if err != nil {
		t.Fatal(err)
	}
	return len(as)
}

func localSecond(t *testing.T, d *Device, insp string) []framework.Answer {
	t.Helper()
	as, err := d.Local.MarkingAnswers(context.Background(), insp, "C-01")
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// A QA marker's laptop that held a case's answers drops them when the case
// is selected for their second marking; two of their laptops marking
// offline make a conflict, not a silent overwrite; the inspector's laptop
// never holds the second marking while blind; once both are submitted,
// every laptop converges on both markings.
func TestSecondMarking_BlindPullThenConverge(t *testing.T) {
	dir := t.TempDir()
	w := Start(t, dir)
	ctx := context.Background()
	insp := w.InspectionID
	a := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	q1 := w.NewDevice(t, filepath.Join(dir, "q1"), "qa", w.Addr)
	q2 := w.NewDevice(t, filepath.Join(dir, "q2"), "qa", w.Addr)
	lead := w.NewDevice(t, filepath.Join(dir, "l"), "lead", w.Addr)
	syncOK(t, a)
	a.Record(t, insp, "C-01", "2.1.1", "yes")
	syncOK(t, a, q1)
	if n := localFirst(t, q1, insp); n != 1 {
		t.Fatalf("QA laptop holds %d answers of C-01 before the selection, want 1", n)
	}
	if _, _, err := w.Srv.DB().SelectForQA(ctx, framework.Actor{User: "lead", Device: "l"}, insp, "qa", []string{"C-01"}); err != nil {
		t.Fatal(err)
	}
	syncOK(t, q1, q2, a, lead)
	if n := localFirst(t, q1, insp); n != 0 {
		t.Fatalf("QA marker's laptop still holds %d first-marking answers after the selection", n)
	}

	// Two laptops of the QA marker, offline, the same question.
	if _, err := q1.Local.RecordMarking(ctx, "qa", insp, "C-01", "2.1.1", "no", "laptop 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := q2.Local.RecordMarking(ctx, "qa", insp, "C-01", "2.1.1", "yes", "laptop 2"); err != nil {
		t.Fatal(err)
	}
	syncOK(t, q1, q2, q1)
	for _, d := range []*Device{q1, q2} {
		ms := localSecond(t, d, insp)
		if len(ms) != 1 || ms[0].Value != "no" || ms[0].Note != "laptop 1" {
			t.Fatalf("%s laptop's second marking: %+v", d.User, ms)
		}
	}
	cs, err := q2.Local.MarkingConflicts(ctx, insp, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].ServerValue != "no" || cs[0].ClientValue != "yes" {
		t.Fatalf("the second laptop's marking conflicts: %+v, want one with both values", cs)
	}

	// Complete both markings offline; the blind holds until both are in.
	fill(t, a, insp, false, "yes")
	fill(t, q1, insp, true, "no")
	if _, err := q1.Local.SubmitMarking(ctx, "qa", insp, "C-01"); err != nil {
		t.Fatal(err)
	}
	syncOK(t, q1, a, q2, lead)
	if n := localFirst(t, q1, insp); n != 0 {
		t.Fatalf("QA marker holds %d first-marking answers before the case is submitted", n)
	}
	if ms := localSecond(t, a, insp); len(ms) != 0 {
		t.Fatalf("the inspector's laptop holds the second marking while blind: %+v", ms)
	}
	if n := len(localSecond(t, lead, insp)); n == 0 || localFirst(t, lead, insp) == 0 {
		t.Fatal("the lead's laptop lacks a marking")
	}
	if _, err := a.Client.Offline().QueueCaseStatus(ctx, "insp.a", insp, "C-01", framework.CaseSubmitted, ""); err != nil {
		t.Fatal(err)
	}
	syncOK(t, a, q1, q2, a)
	want := localFirst(t, lead, insp)
	for _, d := range []*Device{a, q1, q2} {
		if n := localFirst(t, d, insp); n != want {
			t.Errorf("%s laptop holds %d first-marking answers after the lift, want %d", d.User, n, want)
		}
		if n := len(localSecond(t, d, insp)); n != len(localSecond(t, lead, insp)) {
			t.Errorf("%s laptop holds %d second-marking answers after the lift, want %d", d.User, n, len(localSecond(t, lead, insp)))
		}
	}
}
