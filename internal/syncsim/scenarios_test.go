package syncsim_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/faultproxy"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

var seeds = flag.Int("sync.seeds", 2, "number of seeds for the randomized sync scenarios (e.g. 200 for a soak)")

// syncOK syncs, retrying while the server is unreachable (a restarted
// server takes a moment to be redialled).
func syncOK(tb testing.TB, d *syncsim.Device) {
	tb.Helper()
	var err error
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err = d.Client.Sync(ctx)
		cancel()
		if err == nil {
			return
		}
		if status.Code(err) != codes.Unavailable && framework.ErrorCode(err) != "" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("sync %s: %v", d.User, err)
}

func TestTwoDevicesConflictThenResolve(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	lead := w.NewDevice(t, filepath.Join(dir, "lead"), "lead", w.Addr)
	insp := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	syncOK(t, lead)
	syncOK(t, insp)

	// Both edit C-01 2.1.1 offline, differently.
	insp.Record(t, w.InspectionID, "C-01", "2.1.1", "yes")
	lead.Record(t, w.InspectionID, "C-01", "2.1.1", "no")
	syncOK(t, insp)
	res, err := lead.Client.Sync(t.Context())
	if err != nil || res.Conflicts != 1 {
		t.Fatalf("lead sync = %+v, %v; want one conflict", res, err)
	}
	syncOK(t, insp) // the other party receives the conflict on pull
	for _, d := range []*syncsim.Device{lead, insp} {
		cs, err := d.Local.Conflicts(t.Context(), w.InspectionID, false)
		if err != nil || len(cs) != 1 || cs[0].ServerValue != "yes" || cs[0].ClientValue != "no" || cs[0].ClientUser != "lead" {
			t.Fatalf("%s sees conflicts %+v, %v; want yes (server) vs no (lead)", d.User, cs, err)
		}
	}
	// The lead resolves for their own value; everyone converges on it.
	cs, _ := lead.Local.Conflicts(t.Context(), w.InspectionID, false)
	op, err := lead.Local.Resolve(t.Context(), "lead", cs[0].ID, framework.ResolveMine, "", "")
	if err != nil {
		t.Fatal(err)
	}
	lead.Ops = append(lead.Ops, op)
	syncOK(t, lead)
	syncOK(t, insp)
	all, _ := insp.Local.Conflicts(t.Context(), w.InspectionID, true)
	if len(all) != 1 || all[0].Status != "resolved" || all[0].ResolvedBy != "lead" {
		t.Errorf("after resolution insp.a sees %+v, want resolved by lead", all)
	}
	answers, _ := insp.Local.Answers(t.Context(), w.InspectionID, "C-01")
	if len(answers) != 1 || answers[0].Value != "no" {
		t.Errorf("insp.a C-01 answers = %+v, want 2.1.1 = no", answers)
	}
	syncsim.Check(t, w, []*syncsim.Device{lead, insp})
}

// editRandomly records n offline edits on answers the device may write.
func editRandomly(t *testing.T, rng *rand.Rand, w *syncsim.World, d *syncsim.Device, n int) {
	cases := syncsim.Cases
	switch d.User {
	case "insp.a":
		cases = cases[:3]
	case "insp.b":
		cases = cases[3:]
	}
	values := []string{"yes", "no", "na"}
	for range n {
		d.Record(t, w.InspectionID, cases[rng.IntN(len(cases))], syncsim.Questions[rng.IntN(len(syncsim.Questions))], values[rng.IntN(3)])
	}
}

func devices(t *testing.T, w *syncsim.World, dir, addr string, n int) []*syncsim.Device {
	users := []string{"lead", "insp.a", "qa", "lead", "insp.b"}
	var ds []*syncsim.Device
	for i := range n {
		ds = append(ds, w.NewDevice(t, filepath.Join(dir, fmt.Sprintf("dev%d", i)), users[i], addr))
	}
	return ds
}

func TestDevicesEditOverlappingAnswersOffline(t *testing.T) {
	for _, n := range []int{2, 5} {
		for seed := range *seeds {
			t.Run(fmt.Sprintf("devices=%d/seed=%d", n, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(seed), uint64(n)))
				dir := t.TempDir()
				w := syncsim.Start(t, dir)
				ds := devices(t, w, dir, w.Addr, n)
				for _, d := range ds {
					syncOK(t, d)
				}
				for round := range 4 {
					for _, d := range ds {
						editRandomly(t, rng, w, d, 5+rng.IntN(10))
					}
					for _, i := range rng.Perm(n) {
						syncOK(t, ds[i])
					}
					// Someone resolves some open conflicts each round.
					d := ds[rng.IntN(n)]
					cs, _ := d.Local.Conflicts(t.Context(), w.InspectionID, false)
					for i, c := range cs {
						if i%2 == 1 || !canWrite(d.User, c.CaseRef) {
							continue
						}
						choice := []framework.Resolution{framework.ResolveMine, framework.ResolveTheirs, framework.ResolveValue}[rng.IntN(3)]
						op, err := d.Local.Resolve(t.Context(), d.User, c.ID, choice, "yes", "agreed")
						if err != nil {
							t.Fatalf("round %d resolve: %v", round, err)
						}
						d.Ops = append(d.Ops, op)
					}
				}
				finalSync(t, ds)
				ops := syncsim.Check(t, w, ds)
				t.Logf("%d devices, seed %d: %d ops", n, seed, ops)
			})
		}
	}
}

func canWrite(user, caseRef string) bool {
	switch user {
	case "insp.a":
		return caseRef <= "C-03"
	case "insp.b":
		return caseRef > "C-03"
	}
	return true
}

// finalSync syncs every device twice, so conflicts raised by the last
// pushes reach every device's pull.
func finalSync(t *testing.T, ds []*syncsim.Device) {
	for range 2 {
		for _, d := range ds {
			syncOK(t, d)
		}
	}
}

func TestSyncThroughConnectionsCutMidStream(t *testing.T) {
	var totalCuts int64
	for seed := range *seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			dir := t.TempDir()
			w := syncsim.Start(t, dir)
			proxy, err := faultproxy.Start(w.Addr, uint64(seed), 0.8, 64<<10)
			if err != nil {
				t.Fatal(err)
			}
			defer proxy.Close()
			ds := devices(t, w, dir, proxy.Addr(), 3)
			for _, d := range ds {
				d.Client.BatchSize = 7 // many small batches: cuts land between and inside them
			}
			var failures int
			retry := func(d *syncsim.Device) {
				for attempt := 0; ; attempt++ {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					_, err := d.Client.Sync(ctx)
					cancel()
					if err == nil {
						return
					}
					failures++
					if attempt > 200 {
						t.Fatalf("device of %s never synced: %v", d.User, err)
					}
				}
			}
			for _, d := range ds {
				retry(d)
			}
			for range 4 {
				for _, d := range ds {
					editRandomly(t, rng, w, d, 20)
				}
				for _, i := range rng.Perm(len(ds)) {
					retry(ds[i])
				}
			}
			proxy.SetFaults(false)
			finalSync(t, ds)
			ops := syncsim.Check(t, w, ds)
			t.Logf("seed %d: %d ops, %d cut connections, %d failed sync attempts retried", seed, ops, proxy.Cuts(), failures)
			totalCuts += proxy.Cuts()
		})
	}
	if totalCuts == 0 {
		t.Error("the proxy cut no connection in any seed: the scenario tested nothing")
	}
}

func TestDuplicatedAndReorderedBatches(t *testing.T) {
	for seed := range *seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 11))
			dir := t.TempDir()
			w := syncsim.Start(t, dir)
			ds := devices(t, w, dir, w.Addr, 2)
			for _, d := range ds {
				syncOK(t, d)
				editRandomly(t, rng, w, d, 40)
			}
			// Replay the first device's outbox straight at the server in
			// shuffled, overlapping batches, each sent twice.
			d := ds[0]
			ops, err := d.Local.OutboxAfter(t.Context(), 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			stream, err := fieldworkv1.NewSyncServiceClient(d.Conn).Push(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				perm := rng.Perm(len(ops))
				for start := 0; start < len(perm); start += 9 {
					req := &fieldworkv1.PushRequest{}
					for _, i := range perm[start:min(start+9, len(perm))] {
						op := ops[i]
						req.Ops = append(req.Ops, wire.OpToProto(op))
					}
					req.Ops = append(req.Ops, req.Ops...) // duplicated within the batch too
					if err := stream.Send(req); err != nil {
						t.Fatal(err)
					}
					if _, err := stream.Recv(); err != nil {
						t.Fatal(err)
					}
				}
			}
			stream.CloseSend()
			// The device never saw those acks: its own sync re-sends everything.
			res, err := d.Client.Sync(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if res.Duplicates != len(ops) {
				t.Errorf("re-sent %d ops, %d answered as duplicates", len(ops), res.Duplicates)
			}
			finalSync(t, ds)
			syncsim.Check(t, w, ds)
			// Reordering must not let an older edit from one device win over its later one.
			last := map[string]framework.Op{}
			for _, op := range d.Ops {
				last[op.CaseRef+" "+op.QuestionID] = op
			}
			answers, _ := d.Local.Answers(t.Context(), w.InspectionID, "")
			for _, a := range answers {
				if op, ok := last[a.CaseRef+" "+a.QuestionID]; ok && a.UpdatedBy == d.User && a.Value != op.Value {
					t.Errorf("%s %s = %s, but the device's last edit was %s", a.CaseRef, a.QuestionID, a.Value, op.Value)
				}
			}
		})
	}
}

func TestServerRestartDuringPush(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	ds := devices(t, w, dir, w.Addr, 2)
	rng := rand.New(rand.NewPCG(3, 3))
	for _, d := range ds {
		syncOK(t, d)
		d.Client.BatchSize = 5
		editRandomly(t, rng, w, d, 150)
	}
	// The restart comes once the first batch is acknowledged and others
	// are still queued: mid-push by construction, not by timing.
	midPush := make(chan struct{})
	var once sync.Once
	ds[0].Client.Progress = func(p client.SyncProgress) {
		if p.Acknowledged > 0 && p.Pending > p.Acknowledged {
			once.Do(func() { close(midPush) })
		}
	}
	errc := make(chan error, 1)
	go func() { _, err := ds[0].Client.Sync(context.Background()); errc <- err }()
	select {
	case <-midPush:
	case err := <-errc:
		t.Fatalf("the sync ended (%v) before a batch was acknowledged with more to send", err)
	}
	w.Restart(t)
	<-errc // the restart may or may not reach the stream before the last batch
	ds[0].Client.Progress = nil
	left, err := ds[0].Local.PendingCount(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d ops left in the outbox after the restart", left)
	finalSync(t, ds)
	syncsim.Check(t, w, ds)
}

// Reassigning a case moves it between inspectors' devices: the previous
// inspector's device drops it (its answers are personal data it may no
// longer see), the new inspector's receives it with the answers already
// made, and the lead's keeps it. An edit the previous inspector had not
// synced is refused by the server and listed, not lost.
func TestReassignedCaseMovesBetweenDevices(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	a := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	b := w.NewDevice(t, filepath.Join(dir, "b"), "insp.b", w.Addr)
	lead := w.NewDevice(t, filepath.Join(dir, "lead"), "lead", w.Addr)
	for _, d := range []*syncsim.Device{a, b, lead} {
		syncOK(t, d)
	}
	ref := syncsim.Cases[0] // insp.a's
	a.Record(t, w.InspectionID, ref, "2.1.1", "yes")
	a.Record(t, w.InspectionID, ref, "2.1.2", "no")
	syncOK(t, a)
	a.Record(t, w.InspectionID, ref, "2.1.3", "yes") // not yet synced when the case moves
	syncOK(t, b)
	syncOK(t, lead)

	csv := "case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n" + ref + ",community,male,26-39,white,medium,none,T,false,insp.b\n"
	rows, err := interchange.ReadCases(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Srv.DB().ImportCases(t.Context(), framework.Actor{User: "admin", Device: "t", Admin: true}, w.InspectionID, rows); err != nil {
		t.Fatal(err)
	}
	res, err := a.Client.Sync(t.Context())
	if err != nil || res.Rejected != 1 {
		t.Fatalf("insp.a's sync after the move = %+v, %v; want its unsynced edit refused", res, err)
	}
	a.Ops = a.Ops[:len(a.Ops)-1] // refused on purpose: not an op Check should find applied
	rej, _ := a.Local.Rejections(t.Context())
	if len(rej) != 1 || rej[0].CaseRef != ref || rej[0].Value != "yes" {
		t.Errorf("insp.a's rejections = %+v, want the unsynced 2.1.3 edit with its value", rej)
	}
	cases, _ := a.Local.Cases(t.Context(), w.InspectionID)
	for _, c := range cases {
		if c.Ref == ref {
			t.Errorf("insp.a's device still holds %s after it was reassigned", ref)
		}
	}
	if as, _ := a.Local.Answers(t.Context(), w.InspectionID, ref); len(as) != 0 {
		t.Errorf("insp.a's device still holds %d answers of %s", len(as), ref)
	}
	syncOK(t, b)
	syncOK(t, lead)
	for _, d := range []*syncsim.Device{b, lead} {
		as, _ := d.Local.Answers(t.Context(), w.InspectionID, ref)
		if len(as) != 2 {
			t.Errorf("%s's device holds %d answers of %s, want the 2 made before the move", d.User, len(as), ref)
		}
	}
	// insp.b carries on from the current revisions: no conflict.
	b.Record(t, w.InspectionID, ref, "2.1.1", "no")
	if res, err := b.Client.Sync(t.Context()); err != nil || res.Conflicts != 0 || res.Applied != 1 {
		t.Fatalf("insp.b's edit of the moved case = %+v, %v; want applied without conflict", res, err)
	}
	for _, d := range []*syncsim.Device{a, b, lead} {
		syncOK(t, d)
	}
	syncsim.Check(t, w, []*syncsim.Device{a, b, lead})
}

// A device that pulled before its user joined an inspection's team receives
// the inspection and what the user may now see; a role change widens or
// narrows what the device holds accordingly.
func TestJoiningTheTeamAndChangingRoleReachTheDevice(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	admin := framework.Actor{User: "admin", Device: "t", Admin: true}
	if err := w.Srv.DB().CreateUser(t.Context(), admin, "insp.c", false); err != nil {
		t.Fatal(err)
	}
	a := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	c := w.NewDevice(t, filepath.Join(dir, "c"), "insp.c", w.Addr)
	syncOK(t, a)
	syncOK(t, c) // on no team yet: its cursor goes past everything
	a.Record(t, w.InspectionID, "C-01", "2.1.1", "yes")
	a.Record(t, w.InspectionID, "C-02", "2.1.1", "no")
	syncOK(t, a)
	syncOK(t, c)
	if ins, _ := c.Local.Inspections(t.Context()); len(ins) != 0 {
		t.Fatalf("insp.c sees %d inspections before joining, want 0", len(ins))
	}
	held := func(want map[string]int) {
		t.Helper()
		syncOK(t, c)
		cases, err := c.Local.Cases(t.Context(), w.InspectionID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, cs := range cases {
			as, _ := c.Local.Answers(t.Context(), w.InspectionID, cs.Ref)
			got[cs.Ref] = len(as)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("insp.c's device holds cases (answers) %v, want %v", got, want)
		}
	}
	// C-02 is reassigned to insp.c, which puts them on the team.
	csv := "case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\nC-02,community,male,26-39,white,medium,none,T,false,insp.c\n"
	rows, _ := interchange.ReadCases(strings.NewReader(csv))
	if _, _, err := w.Srv.DB().ImportCases(t.Context(), admin, w.InspectionID, rows); err != nil {
		t.Fatal(err)
	}
	held(map[string]int{"C-02": 1})
	if err := w.Srv.DB().AddTeamMember(t.Context(), admin, w.InspectionID, "insp.c", framework.RoleLead); err != nil {
		t.Fatal(err)
	}
	all := map[string]int{"C-01": 1, "C-02": 1}
	for _, ref := range syncsim.Cases[2:] {
		all[ref] = 0
	}
	held(all)
	if err := w.Srv.DB().AddTeamMember(t.Context(), admin, w.InspectionID, "insp.c", framework.RoleInspector); err != nil {
		t.Fatal(err)
	}
	held(map[string]int{"C-02": 1})
	syncOK(t, a)
	syncsim.Check(t, w, []*syncsim.Device{a, c})
}

// A user taken off an inspection's team loses it on their device at the
// next sync: the inspection, its cases, answers and judgements go, an edit
// made offline is refused and kept for them to see, and nothing more of the
// inspection reaches them.
// Taking off a user who still has cases assigned is refused; adding them
// back delivers everything again.
func TestRemovedFromTheTeamTheDeviceDropsTheInspection(t *testing.T) {
	dir := t.TempDir()
	w := syncsim.Start(t, dir)
	admin := framework.Actor{User: "admin", Device: "t", Admin: true}
	if err := w.Srv.DB().RecordJudgements(t.Context(), admin, w.InspectionID, []interchange.JudgementRow{{Line: 2, StandardID: "P1.1", Rating: "Good", Rationale: "embargoed until publication"}}); err != nil {
		t.Fatal(err)
	}
	a := w.NewDevice(t, filepath.Join(dir, "a"), "insp.a", w.Addr)
	qa := w.NewDevice(t, filepath.Join(dir, "qa"), "qa", w.Addr)
	judgements := func() int { // the client has no reader of its own for them
		var n int
		raw, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "qa", "client.db")+"?_busy_timeout=5000")
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if err := raw.QueryRow(`SELECT count(*) FROM judgements`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	syncOK(t, a)
	syncOK(t, qa)
	a.Record(t, w.InspectionID, syncsim.Cases[0], "2.1.1", "yes")
	syncOK(t, a)
	syncOK(t, qa)
	if cases, _ := qa.Local.Cases(t.Context(), w.InspectionID); len(cases) != len(syncsim.Cases) {
		t.Fatalf("qa's device holds %d cases before the removal, want %d", len(cases), len(syncsim.Cases))
	}
	qa.Record(t, w.InspectionID, syncsim.Cases[1], "2.1.2", "no") // not yet synced
	if judgements() == 0 {
		t.Fatalf("qa's device holds no judgements before the removal: the test would prove nothing")
	}

	db := w.Srv.DB()
	if _, _, err := db.RemoveTeamMember(t.Context(), admin, w.InspectionID, "insp.a"); framework.ErrorCode(err) != framework.CodePrecondition {
		t.Errorf("removing insp.a, who has cases: %v, want a precondition failure", err)
	}
	if _, _, err := db.RemoveTeamMember(t.Context(), admin, w.InspectionID, "nobody"); framework.ErrorCode(err) != framework.CodeNotFound {
		t.Errorf("removing a user not on the team: %v, want not found", err)
	}
	role, n, err := db.RemoveTeamMember(t.Context(), admin, w.InspectionID, "qa")
	if err != nil || role != framework.RoleQA || n != len(syncsim.Cases) {
		t.Fatalf("removing qa = %q, %d, %v; want qa, %d", role, n, err, len(syncsim.Cases))
	}
	// While removed, insp.a's new answer must not reach qa's device.
	a.Record(t, w.InspectionID, syncsim.Cases[0], "2.1.3", "no")
	syncOK(t, a)

	res, err := qa.Client.Sync(t.Context())
	if err != nil || res.Rejected != 1 {
		t.Fatalf("qa's sync after the removal = %+v, %v; want its offline edit refused", res, err)
	}
	qa.Ops = qa.Ops[:len(qa.Ops)-1] // refused on purpose
	if rej, _ := qa.Local.Rejections(t.Context()); len(rej) != 1 || rej[0].Value != "no" {
		t.Errorf("qa's rejections = %+v, want the offline edit with its value", rej)
	}
	if cases, _ := qa.Local.Cases(t.Context(), w.InspectionID); len(cases) != 0 {
		t.Errorf("qa's device still holds %d cases of the inspection", len(cases))
	}
	if ins, _ := qa.Local.Inspections(t.Context()); len(ins) != 0 {
		t.Errorf("qa's device still lists %d inspection(s)", len(ins))
	}
	if n := judgements(); n != 0 {
		t.Errorf("qa's device still holds %d judgement(s) of the inspection", n)
	}
	for _, ref := range syncsim.Cases {
		if as, _ := qa.Local.Answers(t.Context(), w.InspectionID, ref); len(as) != 0 {
			t.Errorf("qa's device still holds %d answers of %s", len(as), ref)
		}
	}
	entries, err := db.Audit(t.Context(), w.InspectionID, "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		found = found || e.Action == "team.remove" && e.User == "admin" && strings.HasSuffix(e.Entity, "/team/qa") && strings.Contains(e.Before, "qa")
	}
	if !found {
		t.Errorf("no team.remove audit entry for qa")
	}

	// Back on the team: everything is delivered again.
	if err := db.AddTeamMember(t.Context(), admin, w.InspectionID, "qa", framework.RoleQA); err != nil {
		t.Fatal(err)
	}
	syncOK(t, qa)
	if cases, _ := qa.Local.Cases(t.Context(), w.InspectionID); len(cases) != len(syncsim.Cases) {
		t.Errorf("qa's device holds %d cases after rejoining, want %d", len(cases), len(syncsim.Cases))
	}
	syncOK(t, a)
	syncsim.Check(t, w, []*syncsim.Device{a, qa})
}
