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

// The references `fieldwork conflicts` shows (Offline.ConflictRefs, for
// every listing, one inspection's too) are the ones FindConflict takes:
// unique among every open conflict on the laptop, in every inspection, and
// not counting one whose resolution is queued here (it is no longer listed
// open). Before, `conflicts --inspection I1` showed "aaaa" for I1's
// conflict, and resolve refused it as matching I2's too; and once one was
// resolving, the other's reference still matched both.
func TestConflictRefs_AcrossInspectionsAndResolving(t *testing.T) {
	ctx := t.Context()
	l, err := localstore.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	pdu, raw, _ := framework.BuiltinByID("probation-pdu-2023")
	if err := l.PutFramework(ctx, pdu.ID, pdu.Version, raw); err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{"sentence_type": "community", "sex": "male", "age_band": "26-39", "ethnicity": "white", "rosh": "medium", "mappa": "none", "pdu": "T", "contact_suspended": "false"}
	var changes []framework.Change
	ids := map[string]string{}
	for i, insp := range []string{"I1", "I2"} {
		c := framework.Conflict{ID: "01a232aa-b21" + string(rune('4'+i)) + "-7d3d-bb8c-aaaa" + strings.Repeat(string(rune('1'+i)), 8), InspectionID: insp,
			CaseRef: "T-1", QuestionID: "2.1.1", Status: "open", ServerValue: "yes", ClientValue: "no", CreatedAt: time.Now()}
		ids[insp] = c.ID
		changes = append(changes,
			framework.Change{InspectionID: insp, Inspection: &framework.Inspection{ID: insp, Name: insp, FrameworkID: pdu.ID, FrameworkVersion: pdu.Version,
				Status: framework.InspectionFieldwork, Role: framework.RoleInspector}},
			framework.Change{InspectionID: insp, Case: &framework.Case{Ref: "T-1", Inspector: "insp.a", Status: framework.CaseInProgress, Attributes: attrs}},
			framework.Change{InspectionID: insp, Conflict: &c})
	}
	if err := l.ApplyChanges(ctx, changes, 6); err != nil {
		t.Fatal(err)
	}
	off := client.NewOffline(l)
	refs, err := off.ConflictRefs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if refs[ids["I1"]] != "aaaa1" || refs[ids["I2"]] != "aaaa2" {
		t.Errorf("refs = %v, want aaaa1 and aaaa2 (unique across both inspections)", refs)
	}
	c, err := off.FindConflict(ctx, refs[ids["I1"]])
	if err != nil || c.ID != ids["I1"] {
		t.Fatalf("FindConflict(%q) = %s, %v; want I1's", refs[ids["I1"]], c.ID, err)
	}
	if _, err := off.Resolve(ctx, "insp.a", client.Resolution{ConflictID: c.ID, Choice: framework.ResolveTheirs}); err != nil {
		t.Fatal(err)
	}
	// I1's is resolving: I2's is the one open conflict, its reference the
	// shortest, and it finds I2's alone.
	if refs, _ = off.ConflictRefs(ctx); len(refs) != 1 || refs[ids["I2"]] != "aaaa" {
		t.Errorf("refs with I1's resolving = %v, want I2's alone as aaaa", refs)
	}
	if c, err := off.FindConflict(ctx, "aaaa"); err != nil || c.ID != ids["I2"] {
		t.Errorf(`FindConflict("aaaa") with I1's resolving = %s, %v; want I2's`, c.ID, err)
	}
}
