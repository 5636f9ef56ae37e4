package store_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
)

// Loading a framework, or replacing an unused one, writes a framework.load
// audit row with its id, version and checksum; loading the same again does
// not.
func TestAudit_FrameworkLoads(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t) // loads the built-ins
	loads := func() []framework.AuditEntry {
		t.Helper()
		entries, err := db.Audit(ctx, "", "", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []framework.AuditEntry
		for _, e := range entries {
			if e.Action == "framework.load" {
				out = append(out, e)
			}
		}
		return out
	}
	fws, _, _ := framework.Builtin() // all of them, in the order the server loads them
	pdu, pduRaw, _ := framework.BuiltinByID("probation-pdu-2023")
	got := loads()
	if len(got) != len(fws) {
		t.Fatalf("%d framework.load rows after loading %d built-ins: %+v", len(got), len(fws), got)
	}
	for i, e := range got {
		var after struct {
			ID       string
			Version  int
			Checksum string
		}
		if err := json.Unmarshal([]byte(e.After), &after); err != nil {
			t.Fatal(err)
		}
		if after.ID != fws[i].ID || after.Version != fws[i].Version || after.Checksum != fws[i].Checksum() || e.Before != "" || e.User != "fieldworkd" {
			t.Errorf("row %+v, want a load of %s@%d checksum %s", e, fws[i].ID, fws[i].Version, fws[i].Checksum())
		}
	}
	if err := db.PutFramework(ctx, pdu, pduRaw, true); err != nil {
		t.Fatal(err)
	}
	if n := len(loads()); n != len(fws) {
		t.Errorf("loading the same file again wrote a row: %d rows", n)
	}
	// A new definition of the unused built-in replaces it, audited with the
	// checksum it replaced.
	changed := strings.Replace(string(pduRaw), `"title"`, `"description": "revised", "title"`, 1)
	fw, err := framework.Load([]byte(changed))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutFramework(ctx, fw, []byte(changed), true); err != nil {
		t.Fatal(err)
	}
	got = loads()
	if len(got) != len(fws)+1 {
		t.Fatalf("replacing wrote %d rows, want 1", len(got)-len(fws))
	}
	last := got[len(got)-1]
	if last.Entity != "framework/"+fw.ID+"@1" || !strings.Contains(last.Before, pdu.Checksum()) || !strings.Contains(last.After, fw.Checksum()) {
		t.Errorf("replacement row %+v, want before %s after %s", last, pdu.Checksum(), fw.Checksum())
	}
}

// A case's automatic move from not_started to in_progress at its first
// answer is audited as the writer whose answer caused it, from a push and
// from an import, once.
func TestAudit_FirstAnswerStartsTheCase(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := mustInspection(t, db)
	mustCases(t, db, id)
	first, second := op(id, "T-1", "2.1.1", "yes", 0), op(id, "T-1", "2.1.2", "yes", 0)
	if _, err := db.ApplyOps(ctx, framework.User{Name: "insp.a"}, []framework.Op{first, second}); err != nil {
		t.Fatal(err)
	}
	third := op(id, "T-1", "2.1.3", "yes", 0)
	if _, err := db.ApplyOps(ctx, framework.User{Name: "insp.a"}, []framework.Op{third}); err != nil {
		t.Fatal(err)
	}
	rows, _ := interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer\nT-2,2.1.1,no\nT-2,2.1.2,no\n"))
	if _, _, err := db.ImportAnswers(ctx, admin, id, rows); err != nil {
		t.Fatal(err)
	}
	entries, err := db.Audit(ctx, id, "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Action == "case.status" {
			got = append(got, strings.Join([]string{e.User, e.Device, e.Entity, e.Before, e.After}, " | "))
		}
	}
	want := []string{
		`insp.a | dev-1 | case/` + id + `/T-1 | {"status":"not_started"} | {"reason":"first answer","status":"in_progress"}`,
		`admin | test | case/` + id + `/T-2 | {"status":"not_started"} | {"reason":"first answer","status":"in_progress"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("case.status audit =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, ref := range []string{"T-1", "T-2"} {
		if c, err := db.Case(ctx, id, ref); err != nil || c.Status != framework.CaseInProgress {
			t.Errorf("case %s = %+v, %v; want in_progress", ref, c, err)
		}
	}
}
