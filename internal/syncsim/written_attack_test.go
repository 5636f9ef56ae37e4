package syncsim_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

// Written judgements over the real sync, attacked: devices of the lead with
// their own local stores, a real server on loopback.

func recordWritten(t *testing.T, d *syncsim.Device, insp string, w framework.WrittenOp) framework.Op {
	t.Helper()
	op, err := d.Local.RecordWritten(t.Context(), d.User, insp, w)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// pullOnly applies what the server has for the device since its cursor,
// without pushing first: a pull that arrives while an edit is still queued.
func pullOnly(t *testing.T, w *syncsim.World, d *syncsim.Device) {
	t.Helper()
	ctx := t.Context()
	cur, err := d.Local.Meta(ctx, "cursor")
	if err != nil {
		t.Fatal(err)
	}
	after, _ := strconv.ParseInt(cur, 10, 64)
	changes, cursor, _, err := w.Srv.DB().Changes(ctx, framework.User{Name: d.User}, after, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Local.ApplyChanges(ctx, changes, cursor); err != nil {
		t.Fatal(err)
	}
}

func localWritten(t *testing.T, d *syncsim.Device, insp, item string) *localstore.LocalWritten {
	t.Helper()
	items, err := d.Local.Written(t.Context(), insp)
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		if items[i].ID == item {
			return &items[i]
		}
	}
	return nil
}

func serverWritten(t *testing.T, w *syncsim.World, insp, item string) *framework.WrittenItem {
	t.Helper()
	items, err := w.Srv.DB().WrittenItems(context.Background(), insp)
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		if items[i].ID == item {
			return &items[i]
		}
	}
	return nil
}

// A lead demoted to inspector may no longer read the report (CanReadReport)
// nor receive written items (the pull filter, CanLead): the device must
// drop what it holds of them, as it drops the cases the new role may not
// see. Otherwise `fieldwork written list` on an inspector's laptop shows
// the whole inspection's written judgements, and keeps showing them.
func TestWritten_DemotedLeadsDeviceDropsThem(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	insp := w.InspectionID
	l := w.NewDevice(t, filepath.Join(dir, "lead"), "lead", w.Addr)
	syncOK(t, l)
	recordWritten(t, l, insp, framework.WrittenOp{Kind: framework.WrittenSummary, Text: "Private draft of the judgement"})
	recordWritten(t, l, insp, framework.WrittenOp{Kind: framework.WrittenRecommendation, Text: "Review every plan"})
	syncOK(t, l)
	if v, _ := l.Local.Written(t.Context(), insp); len(v) != 2 {
		t.Fatalf("lead's device holds %d written items, want 2", len(v))
	}
	admin := framework.Actor{User: "admin", Device: "t", Admin: true}
	if err := w.Srv.DB().AddTeamMember(t.Context(), admin, insp, "lead", framework.RoleInspector); err != nil {
		t.Fatal(err)
	}
	syncOK(t, l)
	if in, err := l.Local.Inspection(t.Context(), insp); err != nil || in.Role != framework.RoleInspector {
		t.Fatalf("the device's role after the demotion: %q, %v", in.Role, err)
	}
	if v, _ := l.Local.Written(t.Context(), insp); len(v) != 0 {
		t.Errorf("an inspector's device still holds %d written items after the demotion: %+v", len(v), v)
	}
}

// Two laptops of the same lead, an edit queued on one while the other's
// edit of the same item arrives by pull: the queued text stays, reaches the
// server as a conflict with both texts kept, resolved mine; then the other
// laptop's stale edit is a conflict again. Every text typed is on the
// server at the end.
func TestWritten_TwoLaptopsOfTheLeadNeverLoseAText(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	insp := w.InspectionID
	a := w.NewDevice(t, filepath.Join(dir, "a"), "lead", w.Addr)
	b := w.NewDevice(t, filepath.Join(dir, "b"), "lead", w.Addr)
	syncOK(t, a)
	syncOK(t, b)
	summary := framework.WrittenOp{Kind: framework.WrittenSummary}
	s := summary
	s.Text = "first"
	recordWritten(t, a, insp, s)
	syncOK(t, a)
	syncOK(t, b)
	s.Text = "from b, offline"
	recordWritten(t, b, insp, s)
	s.Text = "from a"
	recordWritten(t, a, insp, s)
	syncOK(t, a)
	pullOnly(t, w, b)
	if it := localWritten(t, b, insp, framework.SummaryItemID); it == nil || it.Text != "from b, offline" || it.Pending != 1 || it.Revision != 1 {
		t.Fatalf("b's queued edit after a pull of a's: %+v", it)
	}
	syncOK(t, b)
	if it := localWritten(t, b, insp, framework.SummaryItemID); it == nil || it.Text != "from a" || it.Pending != 0 {
		t.Errorf("b after the conflict shows %+v, want the server's text", it)
	}
	cs, _ := b.Local.WrittenConflicts(t.Context(), insp)
	if len(cs) != 1 || cs[0].ClientText != "from b, offline" || cs[0].ServerText != "from a" {
		t.Fatalf("b's conflicts: %+v", cs)
	}
	if _, err := b.Local.ResolveWritten(t.Context(), "lead", cs[0].ID, framework.ResolveMine); err != nil {
		t.Fatal(err)
	}
	syncOK(t, b)
	if it := serverWritten(t, w, insp, framework.SummaryItemID); it == nil || it.Text != "from b, offline" || it.Revision != 3 {
		t.Fatalf("server after resolve mine: %+v", it)
	}
	if cs, _ := b.Local.WrittenConflicts(t.Context(), insp); len(cs) != 0 {
		t.Errorf("b still lists %d open conflicts after resolving", len(cs))
	}
	// a, not synced since, edits on revision 2: stale, so a conflict.
	s.Text = "from a, stale"
	recordWritten(t, a, insp, s)
	syncOK(t, a)
	if it := serverWritten(t, w, insp, framework.SummaryItemID); it.Text != "from b, offline" {
		t.Errorf("a's stale edit overwrote the resolved text: %+v", it)
	}
	cs, _ = a.Local.WrittenConflicts(t.Context(), insp)
	if len(cs) != 1 || cs[0].ClientText != "from a, stale" {
		t.Errorf("a's stale edit is not kept as a conflict: %+v", cs)
	}
}

// Ops the server applied whose acks never arrived (the laptop killed, the
// server restarted), re-sent: the server answers from its op records, the
// out-of-order edit stays superseded, nothing is written twice, and the
// laptop settles to the server's text.
func TestWritten_ResentAfterARestartIsNotWrittenTwice(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	insp := w.InspectionID
	l := w.NewDevice(t, filepath.Join(dir, "lead"), "lead", w.Addr)
	syncOK(t, l)
	rec := recordWritten(t, l, insp, framework.WrittenOp{Kind: framework.WrittenRecommendation, Text: "v1"})
	recordWritten(t, l, insp, framework.WrittenOp{ItemID: rec.Written.ItemID, Kind: framework.WrittenRecommendation, Text: "v2"})
	recordWritten(t, l, insp, framework.WrittenOp{Kind: framework.WrittenSummary, Text: "overall"})
	ops, err := l.Local.OutboxAfter(t.Context(), 0, 100)
	if err != nil || len(ops) != 3 {
		t.Fatalf("outbox: %d ops, %v", len(ops), err)
	}
	// The later edit and the summary arrive first and are applied; their
	// acks are lost.
	if _, err := w.Srv.DB().ApplyOps(t.Context(), framework.User{Name: "lead"}, ops[1:]); err != nil {
		t.Fatal(err)
	}
	w.Restart(t)
	syncOK(t, l)
	if it := serverWritten(t, w, insp, rec.Written.ItemID); it == nil || it.Text != "v2" || it.Revision != 1 {
		t.Errorf("server's recommendation after the re-send: %+v, want v2 at revision 1", it)
	}
	if it := serverWritten(t, w, insp, framework.SummaryItemID); it == nil || it.Revision != 1 {
		t.Errorf("server's summary after the re-send: %+v, want revision 1", it)
	}
	if it := localWritten(t, l, insp, rec.Written.ItemID); it == nil || it.Text != "v2" || it.Pending != 0 || it.Revision != 1 || it.Order == 0 {
		t.Errorf("laptop's recommendation: %+v", it)
	}
	if n, _ := l.Local.PendingCount(t.Context()); n != 0 {
		t.Errorf("%d ops left queued", n)
	}
}

// A batch whose acks settle written items of two inspections, the first
// item no longer on the laptop (its inspection was withdrawn, or the user
// demoted, by a pull that came while its edit was queued): the second
// item must still settle. It stayed "not yet synced" forever, and since a
// pending item ignores pulls, it never showed another laptop's edits again.
func TestWritten_SettlingGoesOnPastAnItemNoLongerHere(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	admin := framework.Actor{User: "admin", Device: "t", Admin: true}
	other, err := w.Srv.DB().CreateInspection(t.Context(), admin, "Other", "U", "probation-pdu-2023", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Srv.DB().AddTeamMember(t.Context(), admin, other.ID, "lead", framework.RoleLead); err != nil {
		t.Fatal(err)
	}
	l := w.NewDevice(t, filepath.Join(dir, "lead"), "lead", w.Addr)
	syncOK(t, l)
	recordWritten(t, l, w.InspectionID, framework.WrittenOp{Kind: framework.WrittenRecommendation, Text: "on the first"})
	kept := recordWritten(t, l, other.ID, framework.WrittenOp{Kind: framework.WrittenRecommendation, Text: "on the other"})
	if _, _, err := w.Srv.DB().RemoveTeamMember(t.Context(), admin, w.InspectionID, "lead"); err != nil {
		t.Fatal(err)
	}
	pullOnly(t, w, l) // the removal arrives while both edits are queued
	syncOK(t, l)
	if n, _ := l.Local.PendingCount(t.Context()); n != 0 {
		t.Fatalf("%d ops still queued", n)
	}
	it := localWritten(t, l, other.ID, kept.Written.ItemID)
	if it == nil || it.Pending != 0 || it.Revision != 1 || it.Order == 0 {
		t.Errorf("the other inspection's recommendation after the sync: %+v, want settled at revision 1", it)
	}
	if r, _ := l.Local.WrittenRefused(t.Context(), w.InspectionID); len(r) != 1 || r[0].Op.Text != "on the first" {
		t.Errorf("the refused edit is not kept whole: %+v", r)
	}
}

// Answers and written ops interleaved on two laptops of the lead, sent in
// small batches concurrently (one group commit may hold both pushes): every
// answer checks out, every written item settles to the server's, and the
// summary both laptops wrote offline is a conflict with both texts kept.
func TestWritten_InterleavedWithAnswersAcrossConcurrentPushes(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	insp := w.InspectionID
	ds := []*syncsim.Device{w.NewDevice(t, filepath.Join(dir, "a"), "lead", w.Addr), w.NewDevice(t, filepath.Join(dir, "b"), "lead", w.Addr)}
	items := map[string]string{} // item → the text its own laptop last wrote
	for i, d := range ds {
		syncOK(t, d)
		d.Client.BatchSize = 2
		for j, q := range syncsim.Questions[:4] {
			d.Record(t, insp, syncsim.Cases[i*3+j%3], q, []string{"yes", "no"}[(i+j)%2])
			op := recordWritten(t, d, insp, framework.WrittenOp{Kind: framework.WrittenRecommendation, Text: "rec " + strconv.Itoa(i) + strconv.Itoa(j)})
			edit := recordWritten(t, d, insp, framework.WrittenOp{ItemID: op.Written.ItemID, Kind: framework.WrittenRecommendation, Text: "rec edited " + strconv.Itoa(i) + strconv.Itoa(j)})
			items[edit.Written.ItemID] = edit.Written.Text
		}
		recordWritten(t, d, insp, framework.WrittenOp{Kind: framework.WrittenSummary, Text: "summary from " + strconv.Itoa(i)})
	}
	errs := make(chan error, 2)
	for _, d := range ds {
		go func() { _, err := d.Client.Sync(context.Background()); errs <- err }()
	}
	for range ds {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	finalSync(t, ds)
	syncsim.Check(t, w, ds)
	for id, text := range items {
		if it := serverWritten(t, w, insp, id); it == nil || it.Text != text || it.Revision != 2 {
			t.Errorf("server's %s: %+v, want %q at revision 2", id, it, text)
		}
		for _, d := range ds {
			if it := localWritten(t, d, insp, id); it == nil || it.Text != text || it.Pending != 0 || it.Order == 0 {
				t.Errorf("a laptop's %s: %+v, want %q settled", id, it, text)
			}
		}
	}
	// The one conflict, on the summary, is listed on both laptops (it
	// reaches every laptop of every lead).
	ids := map[string]int{}
	for _, d := range ds {
		cs, _ := d.Local.WrittenConflicts(t.Context(), insp)
		for _, c := range cs {
			ids[c.ID]++
			if c.ItemID != framework.SummaryItemID {
				t.Errorf("a written conflict on %s, want only the summary's", c.ItemID)
			}
		}
	}
	if len(ids) != 1 {
		t.Errorf("written conflicts on the laptops: %v, want the one on the summary", ids)
	}
	for id, n := range ids {
		if n != len(ds) {
			t.Errorf("conflict %s is on %d laptop(s), want every lead's (%d)", id, n, len(ds))
		}
	}
}

// A conflicting written op whose ack was lost, re-sent after a restart: the
// duplicate's ack still carries the conflict, so the laptop keeps both
// texts instead of forgetting its own.
func TestWritten_ConflictAckLostThenResent(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	insp := w.InspectionID
	a := w.NewDevice(t, filepath.Join(dir, "a"), "lead", w.Addr)
	b := w.NewDevice(t, filepath.Join(dir, "b"), "lead", w.Addr)
	syncOK(t, a)
	syncOK(t, b)
	recordWritten(t, a, insp, framework.WrittenOp{Kind: framework.WrittenSummary, Text: "a's"})
	recordWritten(t, b, insp, framework.WrittenOp{Kind: framework.WrittenSummary, Text: "b's"})
	syncOK(t, a)
	ops, _ := b.Local.OutboxAfter(t.Context(), 0, 10)
	acks, err := w.Srv.DB().ApplyOps(t.Context(), framework.User{Name: "lead"}, ops)
	if err != nil || acks[0].Result != framework.OpConflict {
		t.Fatalf("b's summary: %+v, %v", acks, err)
	}
	w.Restart(t)
	syncOK(t, b)
	cs, _ := b.Local.WrittenConflicts(t.Context(), insp)
	if len(cs) != 1 || cs[0].ClientText != "b's" || cs[0].ServerText != "a's" {
		t.Errorf("b's conflicts after the re-send: %+v", cs)
	}
	if it := localWritten(t, b, insp, framework.SummaryItemID); it == nil || it.Text != "a's" || it.Pending != 0 {
		t.Errorf("b's summary: %+v", it)
	}
}

// A laptop restored from a backup taken before its last synced edit of the
// summary: its device id and sequence numbers are the old laptop's, so its
// new edit on the old base must be a conflict with both texts kept, not
// applied over the edit it never saw.
func TestWritten_RestoredLaptopsEditIsAConflict(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	insp := w.InspectionID
	l := w.NewDevice(t, filepath.Join(dir, "l"), "lead", w.Addr)
	syncOK(t, l)
	recordWritten(t, l, insp, framework.WrittenOp{Kind: framework.WrittenSummary, Text: "v1"})
	syncOK(t, l)
	backup := filepath.Join(dir, "backup.db")
	raw, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "l", "client.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`VACUUM INTO ?`, backup); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	recordWritten(t, l, insp, framework.WrittenOp{Kind: framework.WrittenSummary, Text: "v2, on the laptop later lost"})
	syncOK(t, l)
	body, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "r"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "r", "client.db"), body, 0o600); err != nil {
		t.Fatal(err)
	}
	r := w.NewDevice(t, filepath.Join(dir, "r"), "lead", w.Addr)
	recordWritten(t, r, insp, framework.WrittenOp{Kind: framework.WrittenSummary, Text: "v3, restored"})
	syncOK(t, r)
	if it := serverWritten(t, w, insp, framework.SummaryItemID); it == nil || it.Text != "v2, on the laptop later lost" {
		t.Errorf("the restored laptop's stale edit overwrote the summary: %+v", it)
	}
	cs, _ := r.Local.WrittenConflicts(t.Context(), insp)
	if len(cs) != 1 || cs[0].ClientText != "v3, restored" {
		t.Errorf("restored laptop's conflicts: %+v", cs)
	}
}

// Locked while a recommendation and an edit of the summary wait on the
// laptop: both refused, stored nowhere on the server, kept whole on the
// laptop (the summary showing the server's text again); the laptop then
// refuses new ones itself; unlocked, the same texts recorded again apply.
func TestWritten_LockedThenUnlockedRetry(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	insp := w.InspectionID
	l := w.NewDevice(t, filepath.Join(dir, "l"), "lead", w.Addr)
	syncOK(t, l)
	recordWritten(t, l, insp, framework.WrittenOp{Kind: framework.WrittenSummary, Text: "before the lock"})
	syncOK(t, l)
	recordWritten(t, l, insp, framework.WrittenOp{Kind: framework.WrittenSummary, Text: "typed while locked"})
	recordWritten(t, l, insp, framework.WrittenOp{Kind: framework.WrittenRecommendation, Text: "a late recommendation"})
	lead := framework.User{Name: "lead"}
	if _, err := w.Srv.DB().SetInspectionStatus(t.Context(), lead, "t", insp, framework.InspectionLocked, ""); err != nil {
		t.Fatal(err)
	}
	syncOK(t, l)
	items, _ := w.Srv.DB().WrittenItems(t.Context(), insp)
	if len(items) != 1 || items[0].Text != "before the lock" || items[0].Revision != 1 {
		t.Errorf("server after the locked push: %+v", items)
	}
	refused, _ := l.Local.WrittenRefused(t.Context(), insp)
	if len(refused) != 2 || refused[0].Code != string(framework.CodePrecondition) {
		t.Fatalf("refused on the laptop: %+v", refused)
	}
	if it := localWritten(t, l, insp, framework.SummaryItemID); it == nil || it.Text != "before the lock" || it.Pending != 0 {
		t.Errorf("laptop's summary after the refusal: %+v", it)
	}
	if _, err := l.Local.RecordWritten(t.Context(), "lead", insp, framework.WrittenOp{Kind: framework.WrittenRecommendation, Text: "x"}); framework.ErrorCode(err) != framework.CodePrecondition {
		t.Errorf("recording on a laptop that knows of the lock: %v", err)
	}
	if _, err := w.Srv.DB().SetInspectionStatus(t.Context(), lead, "t", insp, framework.InspectionModeration, "one more recommendation"); err != nil {
		t.Fatal(err)
	}
	syncOK(t, l)
	for _, r := range refused {
		recordWritten(t, l, insp, framework.WrittenOp{Kind: r.Op.Kind, Text: r.Op.Text})
	}
	syncOK(t, l)
	items, _ = w.Srv.DB().WrittenItems(t.Context(), insp)
	if len(items) != 2 || items[0].Text != "typed while locked" || items[1].Text != "a late recommendation" {
		t.Errorf("server after the retry: %+v", items)
	}
}

// Rule 8 of docs/sync.md, which the written judgements claim "word for
// word": a conflict is shown to both sides and the lead until someone
// resolves it. A written conflict reaches only the laptop whose edit was
// stale: the lead's other laptop (or a second lead, whose text the server
// kept) never sees it, so nobody else can resolve it, and if that laptop
// is lost the text it kept is only in the audit trail.
func TestWritten_ConflictReachesTheLeadsOtherLaptop(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	insp := w.InspectionID
	a := w.NewDevice(t, filepath.Join(dir, "a"), "lead", w.Addr)
	b := w.NewDevice(t, filepath.Join(dir, "b"), "lead", w.Addr)
	syncOK(t, a)
	syncOK(t, b)
	recordWritten(t, a, insp, framework.WrittenOp{Kind: framework.WrittenSummary, Text: "a's"})
	recordWritten(t, b, insp, framework.WrittenOp{Kind: framework.WrittenSummary, Text: "b's"})
	syncOK(t, a)
	syncOK(t, b)
	if cs, _ := b.Local.WrittenConflicts(t.Context(), insp); len(cs) != 1 {
		t.Fatalf("b's conflicts: %+v", cs)
	}
	syncOK(t, a)
	cs, _ := a.Local.WrittenConflicts(t.Context(), insp)
	if len(cs) != 1 || cs[0].ClientText != "b's" {
		t.Fatalf("the lead's other laptop lists written conflicts %+v, want b's open conflict", cs)
	}
	// Resolved on a (keeping b's text): closed on b at its next sync.
	if _, err := a.Local.ResolveWritten(t.Context(), "lead", cs[0].ID, framework.ResolveMine); err != nil {
		t.Fatal(err)
	}
	syncOK(t, a)
	syncOK(t, b)
	if cs, _ := b.Local.WrittenConflicts(t.Context(), insp); len(cs) != 0 {
		t.Errorf("b still lists %+v after a resolved it", cs)
	}
	if it := serverWritten(t, w, insp, framework.SummaryItemID); it == nil || it.Text != "b's" {
		t.Errorf("server's summary after a kept b's text: %+v", it)
	}
}
