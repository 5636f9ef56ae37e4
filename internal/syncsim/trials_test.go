package syncsim_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/faultproxy"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/syncsim"
)

var (
	trialsFrom  = flag.Int("trials.from", 0, "first seed of TestRandomizedFaultTrials")
	trialsCount = flag.Int("trials.count", 12, "number of seeded trials of TestRandomizedFaultTrials (10000 for the soak recorded in BENCHMARKS.md; split into seed ranges with -trials.from)")
)

// trialsPerWorld trials share one server (each on its own inspection, with
// its own users and devices): a server per trial would cost most of a
// trial's time. A trial's steps depend on its seed only; run it alone with
// -trials.from=SEED -trials.count=1.
const trialsPerWorld = 50

// totals are what a run of trials found; the test logs them in one line.
type totals struct {
	trials, ops, refused, probes, reuses, restores, jumps, moves, removals, restarts, races int
	lost, duplicated, unconverged, leaked                                                   int
}

// TestRandomizedFaultTrials runs seeded trials, each a random sequence of
// offline edits and syncs interleaved with faults: connections cut
// mid-stream, duplicated and reordered raw batches, a sync racing another
// step, a store restored from an earlier backup (or copied and both kept in
// use), an op_id re-used with another payload, a device counter jumping
// ahead or back, a case reassigned and a QA taken off the team (and back)
// while syncs run, and server restarts. After a final sync every trial
// checks that nothing was lost, duplicated or left unconverged
// (syncsim.CheckInspection), and that nothing leaked: no device holds a
// case, answer, conflict or inspection its user may not see, no ack or
// pull page ever reached a device with an answer or conflict of a case its
// user could not see at that time, and probes at hidden cases come back
// with nothing of them.
func TestRandomizedFaultTrials(t *testing.T) {
	parent := t
	var tot totals
	for start := *trialsFrom; start < *trialsFrom+*trialsCount; start += trialsPerWorld {
		dir := t.TempDir()
		w := syncsim.Start(t, dir)
		proxy, err := faultproxy.Start(w.Addr, uint64(start), 0.8, 16<<10)
		if err != nil {
			t.Fatal(err)
		}
		proxy.SetFaults(false)
		db, err := sql.Open("sqlite3", "file:"+w.DBPath+"?mode=ro&_busy_timeout=5000")
		if err != nil {
			t.Fatal(err)
		}
		for seed := start; seed < min(start+trialsPerWorld, *trialsFrom+*trialsCount); seed++ {
			t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
				runTrial(t, parent, w, proxy, db, seed, &tot)
			})
		}
		db.Close()
		proxy.Close()
		w.Stop()
	}
	t.Logf("TOTAL trials %d, answers (ops) %d, refused and kept %d, probes %d, op_id re-uses %d, restores %d, counter jumps %d, reassignments %d, team removals %d, restarts %d, raced steps %d; lost %d, duplicated %d, unconverged %d, leaked %d",
		tot.trials, tot.ops, tot.refused, tot.probes, tot.reuses, tot.restores, tot.jumps, tot.moves, tot.removals, tot.restarts, tot.races,
		tot.lost, tot.duplicated, tot.unconverged, tot.leaked)
}

// vis is who may see what at one moment: each case's inspector and each
// user's team role ("" when off the team).
type vis struct {
	assign map[string]string
	role   map[string]framework.Role
}

type tdev struct {
	*syncsim.Device
	dir     string
	proxied *client.Client // the same store, connected through the fault proxy
	backup  string         // a copy of the store taken right after a clean sync
	active  bool
}

type trial struct {
	t      *testing.T
	parent *testing.T // the world's test: a restarted server outlives the trial
	rng    *rand.Rand
	w      *syncsim.World
	proxy  *faultproxy.Proxy
	db     *sql.DB // the server's database, read-only
	insp   string
	a, b   string // inspectors
	lead   string
	qa     string
	cases  []string
	qs     []string
	devs   []*tdev
	tot    *totals
	n      int // devices made, for directory names
	mu     sync.Mutex
	states []vis
	moving bool // a change is being written: streams starting now may see the state before it
	leaks  []string
}

var adminActor = framework.Actor{User: "admin", Device: "syncsim", Admin: true}

func runTrial(t, parent *testing.T, w *syncsim.World, proxy *faultproxy.Proxy, db *sql.DB, seed int, tot *totals) {
	ctx := t.Context()
	p := fmt.Sprintf("t%d.", seed)
	tr := &trial{t: t, parent: parent, rng: rand.New(rand.NewPCG(uint64(seed), 12)), w: w, proxy: proxy, db: db, tot: tot,
		a: p + "a", b: p + "b", lead: p + "lead", qa: p + "qa",
		cases: []string{"C-01", "C-02", "C-03", "C-04"}, qs: syncsim.Questions[:4]}
	in, err := w.Srv.DB().CreateInspection(ctx, adminActor, "Trial "+p, "T", "probation-pdu-2023", 0)
	if err != nil {
		t.Fatal(err)
	}
	tr.insp = in.ID
	v := vis{assign: map[string]string{}, role: map[string]framework.Role{tr.a: framework.RoleInspector, tr.b: framework.RoleInspector, tr.lead: framework.RoleLead, tr.qa: framework.RoleQA}}
	for i, c := range tr.cases {
		v.assign[c] = map[bool]string{true: tr.a, false: tr.b}[i < 2]
	}
	tr.states = []vis{v}
	for _, c := range tr.cases {
		tr.importCase(c, v.assign[c])
	}
	for u, role := range map[string]framework.Role{tr.lead: framework.RoleLead, tr.qa: framework.RoleQA} {
		if err := w.Srv.DB().AddTeamMember(ctx, adminActor, tr.insp, u, role); err != nil {
			t.Fatal(err)
		}
	}
	users := []string{tr.a, tr.b, tr.lead}
	if tr.rng.IntN(2) == 0 {
		users = append(users, tr.a) // a second laptop of the same inspector
	}
	users = append(users, tr.qa)
	for _, u := range users {
		tr.newDevice(u, "")
	}
	for _, d := range tr.devs {
		tr.syncOK(d, d.Client)
	}
	removed := false
	steps := 12 + tr.rng.IntN(10)
	for range steps {
		if tr.rng.IntN(6) == 0 {
			// A sync of one device races another step.
			d := tr.pick()
			errc := make(chan error, 1)
			go func() { errc <- tr.sync(d, d.Client) }()
			tr.step(true, &removed)
			if err := <-errc; err != nil {
				t.Fatalf("raced sync of %s: %v", d.User, err)
			}
			tot.races++
			continue
		}
		tr.step(false, &removed)
	}
	if removed && tr.rng.IntN(2) == 0 {
		tr.team(&removed, nil) // back on the team at the end, in half the trials
	}
	proxy.SetFaults(false)
	for range 2 {
		for _, d := range tr.devs {
			if d.active {
				tr.syncOK(d, d.Client)
			}
		}
	}
	tr.finalChecks()
}

// step performs one random step; raced steps are those that may run while
// another sync is in flight (not those that need a quiet device or server).
func (tr *trial) step(raced bool, removed *bool) {
	t, ctx := tr.t, tr.t.Context()
	k := tr.rng.IntN(100)
	if raced {
		k = []int{0, 30, 76, 82, 86}[tr.rng.IntN(5)]
	}
	t.Logf("step %d (raced %v)", k, raced)
	switch {
	case k < 30:
		tr.edit(tr.pick(), 1+tr.rng.IntN(6))
	case k < 40:
		d := tr.pick()
		tr.syncOK(d, d.Client)
	case k < 48: // through the fault proxy, connections cut mid-stream
		d := tr.pick()
		d.proxied.BatchSize = 1 + tr.rng.IntN(4)
		tr.proxy.SetFaults(true)
		var err error
		for range 200 {
			if err = tr.sync(d, d.proxied); err == nil {
				break
			}
		}
		tr.proxy.SetFaults(false)
		if err != nil {
			t.Fatalf("device of %s never synced through the proxy: %v", d.User, err)
		}
	case k < 54:
		tr.replayOutbox(tr.pick())
	case k < 60: // a backup taken right after a clean sync
		d := tr.pick()
		tr.syncOK(d, d.Client)
		d.backup = filepath.Join(d.dir, fmt.Sprintf("backup-%d.db", tr.rng.Uint32()))
		raw, err := sql.Open("sqlite3", "file:"+filepath.Join(d.dir, "client.db")+"?_busy_timeout=5000")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(`VACUUM INTO ?`, d.backup); err != nil {
			t.Fatal(err)
		}
		raw.Close()
	case k < 66:
		tr.restore()
	case k < 70:
		tr.reuseOpID()
	case k < 76:
		tr.jump(tr.pick())
	case k < 82:
		tr.reassign()
	case k < 86:
		tr.team(removed, nil)
	case k < 90:
		tr.w.Restart(tr.parent)
		tr.tot.restarts++
	default:
		tr.probe(ctx)
	}
}

func (tr *trial) pick() *tdev {
	for {
		if d := tr.devs[tr.rng.IntN(len(tr.devs))]; d.active {
			return d
		}
	}
}

func (tr *trial) newDevice(user, fromBackup string) *tdev {
	t := tr.t
	tr.n++
	dir := filepath.Join(t.TempDir(), fmt.Sprintf("dev%d", tr.n))
	if fromBackup != "" {
		body, err := os.ReadFile(fromBackup)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "client.db"), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d := &tdev{Device: tr.w.NewDeviceWith(t, dir, user, tr.w.Addr, grpc.WithChainStreamInterceptor(tr.watch(user))), dir: dir, active: true}
	token, _, err := tr.w.Srv.DB().IssueToken(t.Context(), adminActor, user, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := client.Dial(client.Credentials{Server: tr.proxy.Addr(), Token: token, User: user}, grpc.WithChainStreamInterceptor(tr.watch(user)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	d.proxied = client.New(conn, d.Client.Offline())
	tr.devs = append(tr.devs, d)
	return d
}

func (tr *trial) importCase(ref, inspector string) {
	csv := "case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n" +
		ref + ",community,male,26-39,white,medium,none,T,false," + inspector + "\n"
	rows, err := interchange.ReadCases(strings.NewReader(csv))
	if err != nil {
		tr.t.Fatal(err)
	}
	if _, _, err := tr.w.Srv.DB().ImportCases(context.Background(), adminActor, tr.insp, rows); err != nil {
		tr.t.Fatal(err)
	}
}

// sync syncs, retrying while the server is unreachable (restarting).
func (tr *trial) sync(d *tdev, c *client.Client) error {
	var err error
	for range 200 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err = c.Sync(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if c == d.Client && status.Code(err) != codes.Unavailable && framework.ErrorCode(err) != "" {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
	return err
}

func (tr *trial) syncOK(d *tdev, c *client.Client) {
	if err := tr.sync(d, c); err != nil {
		tr.t.Fatalf("sync of %s: %v", d.User, err)
	}
}

// edit records n offline edits on cases the device holds, some with notes.
func (tr *trial) edit(d *tdev, n int) {
	ctx := tr.t.Context()
	cases, err := d.Local.Cases(ctx, tr.insp)
	if err != nil || len(cases) == 0 {
		return // off the team, or nothing assigned: nothing to edit
	}
	for range n {
		c := cases[tr.rng.IntN(len(cases))]
		note := ""
		if tr.rng.IntN(2) == 0 {
			note = fmt.Sprintf("secret %s %d", c.Ref, tr.rng.IntN(1000))
		}
		op, err := d.Local.Record(ctx, d.User, tr.insp, c.Ref, tr.qs[tr.rng.IntN(len(tr.qs))], []string{"yes", "no", "na"}[tr.rng.IntN(3)], note)
		if err != nil {
			continue // the case left the device meanwhile (a raced sync): nothing recorded
		}
		d.Ops = append(d.Ops, op)
	}
}
