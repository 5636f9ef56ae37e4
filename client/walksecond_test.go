package client_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

// walk --second saves the QA marker's answers to the second marking, not
// the case's, and is read-only to anyone who is not the case's QA marker.
func TestWalkSecond_SavesApartFromTheCase(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	if _, _, err := w.Srv.DB().SelectForQA(t.Context(), framework.Actor{User: "lead"}, w.InspectionID, "qa", []string{"C-01"}); err != nil {
		t.Fatal(err)
	}
	q := w.NewDevice(t, filepath.Join(dir, "q"), "qa", w.Addr)
	a := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	for _, d := range []*syncsim.Device{q, a} {
		if _, err := d.Client.Sync(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := client.WalkSecond(context.Background(), q.Client.Offline(), "qa", w.InspectionID, "C-01", strings.NewReader("y: seen\nn\nq\n"), &out); err != nil {
		t.Fatal(err)
	}
	wantIn(t, out.String(), "Second marking: saved apart", "saved 2.1.1 = Yes, note: seen", "saved 2.1.1a = No")
	ms, err := q.Local.MarkingAnswers(t.Context(), w.InspectionID, "C-01")
	if err != nil || len(ms) != 2 {
		t.Fatalf("second marking: %+v %v", ms, err)
	}
	if got := stored(t, q.Local, w.InspectionID, "C-01"); len(got) != 0 {
		t.Fatalf("the case's answers changed: %v", got)
	}
	out.Reset()
	if err := client.WalkSecond(context.Background(), a.Client.Offline(), "insp.a", w.InspectionID, "C-01", strings.NewReader("y\nq\n"), &out); err != nil {
		t.Fatal(err)
	}
	wantIn(t, out.String(), "Read-only: case C-01 of inspection "+w.InspectionID+" is not selected for your second marking")
	if ms, _ := a.Local.MarkingAnswers(t.Context(), w.InspectionID, "C-01"); len(ms) != 0 {
		t.Fatalf("the inspector saved a second marking: %+v", ms)
	}
}
