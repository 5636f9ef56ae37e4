package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

var seq int64

// wop is a written op from a device of its own by default.
func wop(insp, item string, kind framework.WrittenKind, std, text string, base int64, device string) framework.Op {
	seq++
	return framework.Op{ID: uuid.Must(uuid.NewV7()).String(), InspectionID: insp, BaseRevision: base, DeviceID: device, DeviceSeq: seq,
		Written: &framework.WrittenOp{ItemID: item, Kind: kind, StandardID: std, Text: text}}
}

func newItem() string { return uuid.Must(uuid.NewV7()).String() }

// writtenTeam is an inspection with a lead, an inspector and an analyst.
func writtenTeam(t *testing.T, db *store.DB) string {
	t.Helper()
	id := mustInspection(t, db)
	mustCases(t, db, id) // makes insp.a and insp.b inspectors
	for _, m := range []struct {
		user string
		role framework.Role
	}{{"lead.l", framework.RoleLead}, {"an.n", framework.RoleAnalyst}} {
		if err := db.AddTeamMember(context.Background(), admin, id, m.user, m.role); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func apply1(t *testing.T, db *store.DB, u string, o framework.Op) framework.Ack {
	t.Helper()
	acks, err := db.ApplyOps(context.Background(), framework.User{Name: u}, []framework.Op{o})
	if err != nil {
		t.Fatal(err)
	}
	return acks[0]
}

func TestWritten_LeadWritesEditsAndWithdraws(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := writtenTeam(t, db)
	rec1, rec2 := newItem(), newItem()
	ops := []framework.Op{
		wop(id, framework.SummaryItemID, framework.WrittenSummary, "", "Requires improvement overall.", 0, "dev-l"),
		wop(id, newItem(), framework.WrittenStrength, "P2.1", "Assessments were thorough.", 0, "dev-l"),
		wop(id, rec1, framework.WrittenRecommendation, "", "Improve oversight.", 0, "dev-l"),
		wop(id, rec2, framework.WrittenRecommendation, "", "Train staff.", 0, "dev-l"),
	}
	acks, err := db.ApplyOps(ctx, framework.User{Name: "lead.l"}, ops)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range acks {
		if a.Result != framework.OpApplied || a.Revision != 1 || a.Written == nil || a.Written.Text != ops[i].Written.Text || a.Written.UpdatedBy != "lead.l" {
			t.Fatalf("op %d: %+v", i, a)
		}
	}
	// Edit the first recommendation, then withdraw it: the second becomes 1.
	if a := apply1(t, db, "lead.l", wop(id, rec1, framework.WrittenRecommendation, "", "Improve management oversight.", 1, "dev-l")); a.Result != framework.OpApplied || a.Revision != 2 {
		t.Fatalf("edit: %+v", a)
	}
	wd := wop(id, rec1, framework.WrittenRecommendation, "", "Improve management oversight.", 2, "dev-l")
	wd.Written.Withdrawn = true
	if a := apply1(t, db, "lead.l", wd); a.Result != framework.OpApplied || !a.Written.Withdrawn {
		t.Fatalf("withdraw: %+v", a)
	}
	fw, in, err := db.ReportInput(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got := framework.OrderWritten(fw, in.Written)
	var shown []string
	for _, it := range got {
		shown = append(shown, fmt.Sprintf("%s:%d:%s", it.Kind, it.Number, it.Text))
	}
	want := []string{"summary:0:Requires improvement overall.", "strength:0:Assessments were thorough.", "recommendation:1:Train staff."}
	if !slices.Equal(shown, want) {
		t.Errorf("report order %v, want %v", shown, want)
	}
	// The withdrawn item is kept, with every revision in the audit trail.
	if len(in.Written) != 4 {
		t.Errorf("%d items kept, want 4 (withdrawn included)", len(in.Written))
	}
	trail, err := db.Audit(ctx, id, "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range trail {
		if strings.Contains(e.Entity, "/written/"+rec1) {
			actions = append(actions, e.Action+" by "+e.User)
		}
	}
	if !slices.Equal(actions, []string{"written.create by lead.l", "written.edit by lead.l", "written.withdraw by lead.l"}) {
		t.Errorf("audit of the recommendation: %v", actions)
	}
}

func TestWritten_OnlyTheLeadOfAnOpenInspection(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := writtenTeam(t, db)
	if err := db.CreateUser(ctx, admin, "nobody", false); err != nil {
		t.Fatal(err)
	}
	summary := func() framework.Op {
		return wop(id, framework.SummaryItemID, framework.WrittenSummary, "", "secret draft", 0, "dev-x")
	}
	for _, u := range []string{"insp.a", "an.n", "nobody"} {
		a := apply1(t, db, u, summary())
		if a.Result != framework.OpRejected || framework.ErrorCode(a.Err) != framework.CodePermission || a.Written != nil {
			t.Errorf("%s: %+v, want permission refusal and no item", u, a)
		}
	}
	// The lead's item is never shown to an inspector re-sending an op, nor
	// in their pull.
	lead := summary()
	if a := apply1(t, db, "lead.l", lead); a.Result != framework.OpApplied {
		t.Fatalf("lead: %+v", a)
	}
	probe := wop(id, framework.SummaryItemID, framework.WrittenSummary, "", "guess", 1, "dev-x")
	if a := apply1(t, db, "insp.a", probe); a.Written != nil || strings.Contains(a.Reason, "secret") {
		t.Errorf("inspector's probe: %+v", a)
	}
	// A bad standard is refused naming it; nothing stored.
	if a := apply1(t, db, "lead.l", wop(id, newItem(), framework.WrittenImprovement, "9.9", "x", 0, "dev-l")); a.Result != framework.OpRejected || !strings.Contains(a.Reason, `"9.9"`) {
		t.Errorf("bad standard: %+v", a)
	}
	// Locked: refused, nothing stored.
	if _, err := db.SetInspectionStatus(ctx, framework.User{Name: "lead.l"}, "dev-l", id, framework.InspectionLocked, ""); err != nil {
		t.Fatal(err)
	}
	if a := apply1(t, db, "lead.l", wop(id, newItem(), framework.WrittenRecommendation, "", "late", 0, "dev-l")); a.Result != framework.OpRejected ||
		framework.ErrorCode(a.Err) != framework.CodePrecondition {
		t.Errorf("locked: %+v", a)
	}
	items, err := db.WrittenItems(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Text != "secret draft" {
		t.Errorf("stored %+v, want the lead's summary only", items)
	}
}

func TestWritten_StaleEditConflictsKeepingBoth(t *testing.T) {
	db := mustOpen(t)
	id := writtenTeam(t, db)
	if a := apply1(t, db, "lead.l", wop(id, framework.SummaryItemID, framework.WrittenSummary, "", "from laptop A", 0, "dev-a")); a.Result != framework.OpApplied {
		t.Fatalf("%+v", a)
	}
	// Laptop B wrote the summary offline too, on base 0.
	b := wop(id, framework.SummaryItemID, framework.WrittenSummary, "", "from laptop B", 0, "dev-b")
	a := apply1(t, db, "lead.l", b)
	if a.Result != framework.OpConflict || a.WrittenConflict == nil || a.WrittenConflict.ClientText != "from laptop B" ||
		a.WrittenConflict.ServerText != "from laptop A" || a.Written == nil || a.Written.Text != "from laptop A" {
		t.Fatalf("stale edit: %+v", a)
	}
	// The same op again: a duplicate with the same conflict.
	again := apply1(t, db, "lead.l", b)
	if !again.Duplicate || again.Result != framework.OpConflict || again.WrittenConflict == nil || again.WrittenConflict.ID != a.WrittenConflict.ID {
		t.Errorf("re-sent: %+v", again)
	}
	// The same op_id with other text: refused, the first record stands.
	other := b
	w := *b.Written
	w.Text = "changed"
	other.Written = &w
	if r := apply1(t, db, "lead.l", other); r.Result != framework.OpRejected || !strings.Contains(r.Reason, "already used") {
		t.Errorf("re-used op_id: %+v", r)
	}
	// Resolving: B's text on the current revision, naming the conflict.
	res := wop(id, framework.SummaryItemID, framework.WrittenSummary, "", "from laptop B", 1, "dev-b")
	res.ConflictID, res.Resolution = a.WrittenConflict.ID, framework.ResolveMine
	if r := apply1(t, db, "lead.l", res); r.Result != framework.OpApplied || r.Revision != 2 || r.Written.Text != "from laptop B" {
		t.Errorf("resolution: %+v", r)
	}
	trail, _ := db.Audit(t.Context(), id, "", 0, 1000)
	var actions []string
	for _, e := range trail {
		if strings.Contains(e.Entity, "/written/") {
			actions = append(actions, e.Action)
		}
	}
	if !slices.Equal(actions, []string{"written.create", "written.conflict", "written.edit", "written.resolve"}) {
		t.Errorf("audit: %v", actions)
	}
}

func TestWritten_OutOfOrderEditsOfOneDeviceKeepTheLatest(t *testing.T) {
	db := mustOpen(t)
	id := writtenTeam(t, db)
	item := newItem()
	first := wop(id, item, framework.WrittenRecommendation, "", "draft", 0, "dev-l")
	second := wop(id, item, framework.WrittenRecommendation, "", "final", 0, "dev-l")
	second.Supersedes = []string{first.ID}
	// The later edit arrives first (an older batch re-sent after it).
	if a := apply1(t, db, "lead.l", second); a.Result != framework.OpApplied {
		t.Fatalf("%+v", a)
	}
	a := apply1(t, db, "lead.l", first)
	if a.Result != framework.OpApplied || a.Written == nil || a.Written.Text != "final" || !strings.Contains(a.Reason, "superseded") {
		t.Errorf("older edit: %+v, want superseded with the final text standing", a)
	}
}

// Pull's filter for written items is framework.CanLead in SQL.
func TestWrittenPullMatchesCanLead(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := writtenTeam(t, db)
	if err := db.AddTeamMember(ctx, admin, id, "qa.q", framework.RoleQA); err != nil {
		t.Fatal(err)
	}
	if a := apply1(t, db, "lead.l", wop(id, framework.SummaryItemID, framework.WrittenSummary, "", "text", 0, "dev-l")); a.Result != framework.OpApplied {
		t.Fatal(a)
	}
	for _, tt := range []struct {
		u    framework.User
		role framework.Role
	}{{adminUser(), framework.RoleAdmin}, {framework.User{Name: "lead.l"}, framework.RoleLead}, {framework.User{Name: "qa.q"}, framework.RoleQA},
		{framework.User{Name: "an.n"}, framework.RoleAnalyst}, {framework.User{Name: "insp.a"}, framework.RoleInspector}} {
		changes, _, _, err := db.Changes(ctx, tt.u, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, ch := range changes {
			got = got || ch.Written != nil
		}
		if got != framework.CanLead(tt.role) {
			t.Errorf("%s (%s): pull gives written items %v, CanLead %v", tt.u.Name, tt.role, got, framework.CanLead(tt.role))
		}
	}
	// A lead joining later is given the items by announcement.
	if err := db.AddTeamMember(ctx, admin, id, "lead.m", framework.RoleLead); err != nil {
		t.Fatal(err)
	}
	changes, _, _, err := db.Changes(ctx, framework.User{Name: "lead.m"}, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(changes, func(ch framework.Change) bool { return ch.Written != nil }) {
		t.Error("a new lead's pull has no written items")
	}
}

func TestImportFindings_AllOrNoneAndIdempotent(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := writtenTeam(t, db)
	lead := framework.Actor{User: "lead.l", Device: "dev-l"}
	bad := []framework.FindingRow{
		{Line: 2, Kind: framework.WrittenSummary, Text: "ok"},
		{Line: 3, Kind: framework.WrittenStrength, StandardID: "9.9", Text: "x"},
		{Line: 4, Kind: "praise", Text: "x"},
		{Line: 5, Kind: framework.WrittenRecommendation, Text: "  "},
	}
	_, _, err := db.ImportFindings(ctx, lead, id, bad)
	if err == nil || framework.ErrorCode(err) != framework.CodeInvalid {
		t.Fatalf("bad file: %v", err)
	}
	for _, l := range []string{"line 3", "line 4", "line 5"} {
		if !strings.Contains(err.Error(), l) {
			t.Errorf("error does not name %s: %v", l, err)
		}
	}
	if items, _ := db.WrittenItems(ctx, id); len(items) != 0 {
		t.Fatalf("a refused file stored %d items", len(items))
	}
	good := []framework.FindingRow{
		{Line: 2, Kind: framework.WrittenSummary, Text: "Inadequate."},
		{Line: 3, Kind: framework.WrittenImprovement, StandardID: "P2.1", Text: "Plans lacked detail."},
		{Line: 4, Kind: framework.WrittenRecommendation, Text: "Review every plan."},
	}
	if n, u, err := db.ImportFindings(ctx, lead, id, good); err != nil || n != 3 || u != 0 {
		t.Fatalf("import: %d %d %v", n, u, err)
	}
	if n, u, err := db.ImportFindings(ctx, lead, id, good); err != nil || n != 0 || u != 3 {
		t.Fatalf("import again: %d applied %d unchanged %v, want 0 and 3", n, u, err)
	}
	if _, _, err := db.ImportFindings(ctx, framework.Actor{User: "insp.a"}, id, good); framework.ErrorCode(err) != framework.CodePermission {
		t.Errorf("inspector's import: %v", err)
	}
}
