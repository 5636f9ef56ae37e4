package client_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

func TestWalk_AnswersSkipsBacksJumpsAndResumes(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	d := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	if _, err := d.Client.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	script := strings.Join([]string{
		"y home visit notes seen",  // 2.1.1 = yes with a note
		"n",                        // 2.1.1a = no
		"maybe",                    // refused, asked again
		"na",                       // 2.1.1b = na
		"b",                        // back to 2.1.1b
		"note checked with the PO", // note only
		"g 2.3.3f",                 // does not apply (mappa none)
		"g 2.3.S1",
		"0", // below the minimum
		"3",
		"q",
	}, "\n") + "\n"
	var out bytes.Buffer
	if err := client.Walk(context.Background(), d.Client.Offline(), "insp.a", w.InspectionID, "C-01", strings.NewReader(script), &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"65 applicable questions; 1 do not apply",
		"P2.1 Assessment: 0 of 19 answered",
		"[1/65] 2.1.1 (key)",
		"P2.1 Assessment: 1 of 19 answered",
		"(prompt of 2.1.1)",
		`value "maybe" is not yes, no, na`,
		`current: na`,
		"2.3.3f does not apply to this case (mappa is \"none\"",
		"count 0 is below the minimum 1",
		"Position saved",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("walk output lacks %q:\n%s", want, text)
		}
	}
	answers, err := d.Local.Answers(t.Context(), w.InspectionID, "C-01")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range answers {
		got[a.QuestionID] = a.Value + "|" + a.Note
	}
	want := map[string]string{"2.1.1": "yes|home visit notes seen", "2.1.1a": "no|", "2.1.1b": "na|checked with the PO", "2.3.S1": "3|"}
	for q, v := range want {
		if got[q] != v {
			t.Errorf("%s = %q, want %q", q, got[q], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("answers = %v, want exactly %v", got, want)
	}
	// Every answer went to the outbox at once: 4 answers + 1 note change.
	if n, _ := d.Local.PendingCount(t.Context()); n != 5 {
		t.Errorf("outbox holds %d ops, want 5", n)
	}

	// Resuming starts where the walk stopped (after 2.3.S1).
	out.Reset()
	if err := client.Walk(context.Background(), d.Client.Offline(), "insp.a", w.InspectionID, "C-01", strings.NewReader("q\n"), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "2.4.1 (key)") {
		t.Errorf("resumed walk does not start at 2.4.1:\n%s", out.String())
	}
	// And the answers sync like any other.
	res, err := d.Client.Sync(t.Context())
	if err != nil || res.Applied != 5 {
		t.Errorf("sync after the walk = %+v, %v; want 5 applied", res, err)
	}
}
