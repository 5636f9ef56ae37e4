package client_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
)

// Conflicts made in the same minute share the start of their UUIDv7 ids:
// the short reference comes from the random tail, as short as it can be
// (4 to 8 characters) while unique among the open conflicts; resolve's
// lookup takes it, lists the candidates of an ambiguous one, and says so
// plainly of an unknown one.
func TestConflictRefs_ShortUniqueAndLookedUp(t *testing.T) {
	ids := []string{
		"01a232aa-b214-7d3d-bb8c-3447acb05129",
		"01a232aa-b215-7d3d-8b8c-3447f0000001", // shares 4 of the tail with the first
		"01a232aa-b216-7d3d-9b8c-9e21c0000002",
		"01a232aa-b217-7d3d-ab8c-aaaaaaaa0001", // 8 shared with the next: the whole id
		"01a232aa-b218-7d3d-ab8c-aaaaaaaa0002",
	}
	var cs []framework.Conflict
	for i, id := range ids {
		cs = append(cs, framework.Conflict{ID: id, InspectionID: "insp", CaseRef: "C-0" + string(rune('1'+i)), QuestionID: "2.1.1", Status: "open",
			CreatedAt: time.Now()})
	}
	refs := client.ConflictRefs(cs)
	for id, want := range map[string]string{ids[0]: "3447a", ids[1]: "3447f", ids[2]: "9e21", ids[3]: ids[3], ids[4]: ids[4]} {
		if refs[id] != want {
			t.Errorf("ref of %s = %q, want %q", id, refs[id], want)
		}
	}

	l, err := localstore.Open(t.Context(), filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var changes []framework.Change
	for i := range cs {
		changes = append(changes, framework.Change{Seq: int64(i + 1), InspectionID: "insp", Conflict: &cs[i]})
	}
	resolved := framework.Conflict{ID: "01a232aa-b219-7d3d-ab8c-9e21ffff0000", InspectionID: "insp", CaseRef: "C-09", QuestionID: "2.1.1", Status: "resolved"}
	changes = append(changes, framework.Change{Seq: 9, InspectionID: "insp", Conflict: &resolved})
	if err := l.ApplyChanges(t.Context(), changes, 9); err != nil {
		t.Fatal(err)
	}
	off := client.NewOffline(l)
	for ref, want := range map[string]string{"9e21": ids[2], "9E21C": ids[2], "3447a": ids[0], ids[3]: ids[3], "01a232aa-b216": ids[2]} {
		c, err := off.FindConflict(t.Context(), ref)
		if err != nil || c.ID != want {
			t.Errorf("FindConflict(%q) = %s, %v; want %s (a resolved conflict sharing the ref does not count)", ref, c.ID, err, want)
		}
	}
	for ref, wants := range map[string][]string{
		"3447":     {"matches 2 open conflicts", "3447a (case C-01 question 2.1.1)", "3447f (case C-02 question 2.1.1)"},
		"aaaaaaaa": {"matches 2 open conflicts", ids[3] + " (case C-04", ids[4] + " (case C-05"},
		"01a232aa": {"matches 5 open conflicts"},
		"beef":     {`no open conflict on this laptop has the reference "beef"`},
		"9e2":      {"too short"},
	} {
		_, err := off.FindConflict(t.Context(), ref)
		for _, want := range wants {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("FindConflict(%q): %v, want an error saying %q", ref, err, want)
			}
		}
	}
}
