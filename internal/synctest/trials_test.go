package synctest_test

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/faultproxy"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/synctest"
	"github.com/fieldworkhq/fieldwork/internal/wire"
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
// (synctest.CheckInspection), and that nothing leaked: no device holds a
// case, answer, conflict or inspection its user may not see, no ack or
// pull page ever reached a device with an answer or conflict of a case its
// user could not see at that time, and probes at hidden cases come back
// with nothing of them.
func TestRandomizedFaultTrials(t *testing.T) {
	parent := t
	var tot totals
	for start := *trialsFrom; start < *trialsFrom+*trialsCount; start += trialsPerWorld {
		dir := t.TempDir()
		w := synctest.Start(t, dir)
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
	role   map[string]string
}

type tdev struct {
	*synctest.Device
	dir     string
	proxied *client.Client // the same store, connected through the fault proxy
	backup  string         // a copy of the store taken right after a clean sync
	active  bool
}

type trial struct {
	t      *testing.T
	parent *testing.T // the world's test: a restarted server outlives the trial
	rng    *rand.Rand
	w      *synctest.World
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

var adminActor = framework.Actor{User: "admin", Device: "synctest", Admin: true}

func runTrial(t, parent *testing.T, w *synctest.World, proxy *faultproxy.Proxy, db *sql.DB, seed int, tot *totals) {
	ctx := t.Context()
	p := fmt.Sprintf("t%d.", seed)
	tr := &trial{t: t, parent: parent, rng: rand.New(rand.NewPCG(uint64(seed), 12)), w: w, proxy: proxy, db: db, tot: tot,
		a: p + "a", b: p + "b", lead: p + "lead", qa: p + "qa",
		cases: []string{"C-01", "C-02", "C-03", "C-04"}, qs: synctest.Questions[:4]}
	in, err := w.Srv.DB().CreateInspection(ctx, adminActor, "Trial "+p, "T", "probation-pdu-2023", 0)
	if err != nil {
		t.Fatal(err)
	}
	tr.insp = in.ID
	v := vis{assign: map[string]string{}, role: map[string]string{tr.a: framework.RoleInspector, tr.b: framework.RoleInspector, tr.lead: framework.RoleLead, tr.qa: framework.RoleQA}}
	for i, c := range tr.cases {
		v.assign[c] = map[bool]string{true: tr.a, false: tr.b}[i < 2]
	}
	tr.states = []vis{v}
	for _, c := range tr.cases {
		tr.importCase(c, v.assign[c])
	}
	for u, role := range map[string]string{tr.lead: framework.RoleLead, tr.qa: framework.RoleQA} {
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

// push sends one raw batch on the device's connection and returns its acks.
func push(ctx context.Context, d *tdev, ops []*fieldworkv1.Op) ([]*fieldworkv1.Ack, error) {
	stream, err := fieldworkv1.NewSyncServiceClient(d.Conn).Push(ctx)
	if err != nil {
		return nil, err
	}
	if err := stream.Send(&fieldworkv1.PushRequest{Ops: ops}); err != nil {
		return nil, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	stream.CloseSend()
	for {
		if _, err := stream.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
	}
	return resp.Acks, nil
}

// replayOutbox sends the device's outbox straight at the server in
// shuffled, overlapping batches, each op twice; the device never sees the
// acks, so its next sync sends them again.
func (tr *trial) replayOutbox(d *tdev) {
	ctx := tr.t.Context()
	ops, err := d.Local.Outbox(ctx, 1000)
	if err != nil {
		tr.t.Fatal(err)
	}
	if len(ops) == 0 {
		return
	}
	perm := tr.rng.Perm(len(ops))
	size := 1 + tr.rng.IntN(4)
	for start := 0; start < len(perm); start += size {
		var batch []*fieldworkv1.Op
		for _, i := range perm[start:min(start+size, len(perm))] {
			batch = append(batch, wire.OpToProto(ops[i]))
		}
		batch = append(batch, batch...)
		if _, err := push(ctx, d, batch); err != nil && status.Code(err) != codes.Unavailable {
			tr.t.Fatalf("replayed batch: %v", err)
		}
	}
}

// restore replaces a device's store by its backup, or (a copied store)
// brings the backup up on a second laptop and keeps both in use. The
// device syncs first, so none of its edits is legitimately lost with it.
func (tr *trial) restore() {
	var withBackup []*tdev
	for _, d := range tr.devs {
		if d.active && d.backup != "" {
			withBackup = append(withBackup, d)
		}
	}
	if len(withBackup) == 0 {
		return
	}
	d := withBackup[tr.rng.IntN(len(withBackup))]
	tr.syncOK(d, d.Client)
	r := tr.newDevice(d.User, d.backup)
	r.Ops = append([]framework.Op(nil), d.Ops...)
	if tr.rng.IntN(2) == 0 {
		d.active = false
	}
	tr.tot.restores++
	// An edit made at once, before the restored store has pulled anything.
	tr.edit(r, 1+tr.rng.IntN(3))
}

// serverState is the inspection's answers, history and conflicts on the
// server, to tell that a refused op wrote nothing.
func (tr *trial) serverState() string {
	var s string
	if err := tr.db.QueryRow(`SELECT (SELECT coalesce(group_concat(c.case_ref || a.question_id || a.value || a.note || a.revision, ';'), '') FROM answers a JOIN cases c ON c.id = a.case_id WHERE c.inspection_id = ?1)
		|| '/' || (SELECT count(*) FROM answer_history) || '/' || (SELECT count(*) FROM conflicts)`, tr.insp).Scan(&s); err != nil {
		tr.t.Fatal(err)
	}
	return s
}

// reuseOpID sends an op_id the server has recorded with another payload:
// it must be refused naming the op_id, with nothing written; the same
// payload again gets the recorded result, marked duplicate.
func (tr *trial) reuseOpID() {
	t, ctx := tr.t, tr.t.Context()
	d := tr.pick()
	if len(d.Ops) == 0 {
		return
	}
	op := d.Ops[tr.rng.IntN(len(d.Ops))]
	var result int
	if err := tr.db.QueryRow(`SELECT result FROM op_records WHERE op_id = ?`, op.ID).Scan(&result); err != nil {
		return // not yet pushed
	}
	if framework.OpResult(result) == framework.OpRejected {
		return
	}
	other := wire.OpToProto(op)
	switch tr.rng.IntN(3) {
	case 0:
		other.Value = map[string]string{"yes": "no", "no": "na", "na": "yes"}[op.Value]
	case 1:
		other.Note += " changed"
	case 2:
		for _, q := range tr.qs {
			if q != op.QuestionID {
				other.QuestionId = q
			}
		}
	}
	before := tr.serverState()
	acks, err := push(ctx, d, []*fieldworkv1.Op{other})
	if err != nil {
		t.Fatalf("re-used op_id push: %v", err)
	}
	if len(acks) != 1 || acks[0].Result != fieldworkv1.OpResult_OP_RESULT_REJECTED || codes.Code(acks[0].Code) != codes.InvalidArgument || !strings.Contains(acks[0].Reason, op.ID) {
		t.Errorf("op_id %s re-used with another payload: acks %v, want rejected INVALID_ARGUMENT naming it", op.ID, acks)
		tr.tot.lost++
	}
	if after := tr.serverState(); after != before {
		t.Errorf("op_id %s re-used with another payload changed the server: %s → %s", op.ID, before, after)
		tr.tot.lost++
	}
	acks, err = push(ctx, d, []*fieldworkv1.Op{wire.OpToProto(op)})
	if err != nil {
		t.Fatalf("re-sent op push: %v", err)
	}
	if len(acks) != 1 || !acks[0].Duplicate || int(acks[0].Result) != result {
		t.Errorf("op %s re-sent with its payload: acks %v, want its recorded result (%d) marked duplicate", op.ID, acks, result)
		tr.tot.duplicated++
	}
	tr.tot.reuses++
}

// jump moves the device's counter far ahead, or (with an empty outbox) back
// to near zero, before further edits.
func (tr *trial) jump(d *tdev) {
	t := tr.t
	seq := int64(1)<<40 + tr.rng.Int64N(1<<40)
	if tr.rng.IntN(3) == 0 {
		tr.syncOK(d, d.Client)
		seq = tr.rng.Int64N(5)
	}
	raw, err := sql.Open("sqlite3", "file:"+filepath.Join(d.dir, "client.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if tr.rng.IntN(3) != 0 || seq < 5 {
		if _, err := raw.Exec(`UPDATE meta SET value = CAST(? AS TEXT) WHERE key = 'device_seq'`, seq); err != nil {
			t.Fatal(err)
		}
	} else if _, err := raw.Exec(`UPDATE meta SET value = CAST(CAST(value AS INTEGER) + ? AS TEXT) WHERE key = 'device_seq'`, seq); err != nil {
		t.Fatal(err)
	}
	tr.tot.jumps++
	tr.edit(d, 1+tr.rng.IntN(4))
}

func (tr *trial) change(f func(v *vis)) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	last := tr.states[len(tr.states)-1]
	v := vis{assign: map[string]string{}, role: map[string]string{}}
	for k, x := range last.assign {
		v.assign[k] = x
	}
	for k, x := range last.role {
		v.role[k] = x
	}
	f(&v)
	tr.states = append(tr.states, v)
	tr.moving = true
}

// changed marks the change written: streams starting from now see it.
func (tr *trial) changed() {
	tr.mu.Lock()
	tr.moving = false
	tr.mu.Unlock()
}

func (tr *trial) now() vis {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.states[len(tr.states)-1]
}

// whileSyncing runs f while one or two devices sync.
func (tr *trial) whileSyncing(f func()) {
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 1 + tr.rng.IntN(2) {
		d := tr.pick()
		c := d.Client
		wg.Add(1)
		go func() { defer wg.Done(); errs <- tr.sync(d, c) }()
	}
	time.Sleep(time.Duration(tr.rng.IntN(3)) * time.Millisecond)
	f()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			tr.t.Fatalf("sync during a team or case change: %v", err)
		}
	}
}

// reassign moves a case to the other inspector while syncs run.
func (tr *trial) reassign() {
	ref := tr.cases[tr.rng.IntN(len(tr.cases))]
	to := tr.a
	if tr.now().assign[ref] == tr.a {
		to = tr.b
	}
	tr.whileSyncing(func() {
		tr.change(func(v *vis) { v.assign[ref] = to }) // before: an ack during the change may show either
		tr.importCase(ref, to)
		tr.changed()
	})
	tr.tot.moves++
}

// team takes the QA off the team, or puts them back, while syncs run.
func (tr *trial) team(removed *bool, _ any) {
	ctx := tr.t.Context()
	tr.whileSyncing(func() {
		if *removed {
			tr.change(func(v *vis) { v.role[tr.qa] = framework.RoleQA })
			if err := tr.w.Srv.DB().AddTeamMember(ctx, adminActor, tr.insp, tr.qa, framework.RoleQA); err != nil {
				tr.t.Fatal(err)
			}
			tr.changed()
		} else {
			tr.change(func(v *vis) { v.role[tr.qa] = "" })
			if _, _, err := tr.w.Srv.DB().RemoveTeamMember(ctx, adminActor, tr.insp, tr.qa); err != nil {
				tr.t.Fatal(err)
			}
			tr.changed()
			tr.tot.removals++
		}
	})
	*removed = !*removed
}

// probe sends, from a device, ops at cases its user may not see (another
// inspector's, one that does not exist; any case once off the team): each
// must be refused with nothing of the case in the ack.
func (tr *trial) probe(ctx context.Context) {
	v := tr.now()
	d := tr.pick()
	var refs []string
	for _, c := range append(tr.cases, "C-99") {
		if !framework.CanSeeCase(v.role[d.User], v.assign[c] == d.User) {
			refs = append(refs, c)
		}
	}
	if len(refs) == 0 {
		return // a lead, or the QA on the team: sees every case
	}
	ref := refs[tr.rng.IntN(len(refs))]
	op := &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: tr.insp, CaseRef: ref, QuestionId: tr.qs[tr.rng.IntN(len(tr.qs))],
		Value: "yes", Note: "probe", BaseRevision: tr.rng.Int64N(3), DeviceId: "probe", DeviceSeq: 1}
	before := tr.serverState()
	acks, err := push(ctx, d, []*fieldworkv1.Op{op})
	if err != nil {
		tr.t.Fatalf("probe push: %v", err)
	}
	tr.tot.probes++
	if len(acks) != 1 {
		tr.t.Fatalf("probe: %d acks", len(acks))
	}
	a := acks[0]
	var bad []string
	if a.Result != fieldworkv1.OpResult_OP_RESULT_REJECTED || codes.Code(a.Code) != codes.PermissionDenied {
		bad = append(bad, fmt.Sprintf("result %v code %d", a.Result, a.Code))
	}
	if a.Current != nil || a.Conflict != nil || a.Revision != 0 {
		bad = append(bad, "carries the case's answer, conflict or revision")
	}
	for _, u := range []string{tr.a, tr.b, tr.lead, tr.qa} {
		if u != d.User && strings.Contains(a.Reason, u) {
			bad = append(bad, "names "+u)
		}
	}
	if strings.Contains(a.Reason, "secret") || strings.Contains(a.Reason, framework.CaseSubmitted) {
		bad = append(bad, "reason tells a note or the case status")
	}
	if len(bad) > 0 {
		tr.leak(fmt.Sprintf("probe by %s at %s: %s (ack %v)", d.User, ref, strings.Join(bad, "; "), a))
	}
	if after := tr.serverState(); after != before {
		tr.t.Errorf("probe by %s at %s changed the server", d.User, ref)
	}
}

func (tr *trial) leak(s string) {
	tr.mu.Lock()
	tr.leaks = append(tr.leaks, s)
	tr.mu.Unlock()
}

// watch is a client stream interceptor that checks every ack and pull page
// the device receives: each answer or conflict in it must be of a case the
// user could see at some moment between the stream's start and the
// message's arrival (a reassignment racing the stream may show either side).
func (tr *trial) watch(user string) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		tr.mu.Lock()
		from := len(tr.states) - 1
		if tr.moving {
			from--
		}
		tr.mu.Unlock()
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			return cs, err
		}
		return &watched{ClientStream: cs, tr: tr, user: user, from: from}, nil
	}
}

type watched struct {
	grpc.ClientStream
	tr   *trial
	user string
	from int
}

func (s *watched) RecvMsg(m any) error {
	if err := s.ClientStream.RecvMsg(m); err != nil {
		return err
	}
	tr := s.tr
	tr.mu.Lock()
	defer tr.mu.Unlock()
	states := tr.states[s.from:]
	seeCase := func(what, insp, ref string) {
		for _, v := range states {
			if insp == tr.insp && framework.CanSeeCase(v.role[s.user], v.assign[ref] == s.user) {
				return
			}
		}
		tr.leaks = append(tr.leaks, fmt.Sprintf("%s of %s %s reached %s, who could not see it", what, insp, ref, s.user))
	}
	onTeam := func(what, insp string) {
		for _, v := range states {
			if insp == tr.insp && v.role[s.user] != "" {
				return
			}
		}
		tr.leaks = append(tr.leaks, fmt.Sprintf("%s of inspection %s reached %s, who is not on its team", what, insp, s.user))
	}
	switch r := m.(type) {
	case *fieldworkv1.PushResponse:
		for _, a := range r.Acks {
			if c := a.Current; c != nil {
				seeCase("an ack's answer", c.InspectionId, c.CaseRef)
			}
			if c := a.Conflict; c != nil {
				seeCase("an ack's conflict", c.InspectionId, c.CaseRef)
			}
		}
	case *fieldworkv1.PullResponse:
		for _, ch := range r.Changes {
			switch {
			case ch.GetAnswer() != nil:
				seeCase("a pulled answer", ch.GetAnswer().InspectionId, ch.GetAnswer().CaseRef)
			case ch.GetConflict() != nil:
				seeCase("a pulled conflict", ch.GetConflict().InspectionId, ch.GetConflict().CaseRef)
			case ch.GetCase() != nil:
				seeCase("a pulled case", ch.GetCase().InspectionId, ch.GetCase().CaseRef)
			case ch.GetInspection() != nil:
				onTeam("the inspection", ch.GetInspection().Id)
			case ch.GetJudgement() != nil:
				onTeam("a judgement", ch.GetJudgement().InspectionId)
			}
		}
	}
	return nil
}

// finalChecks: refused ops are kept on their author's device (then not
// counted as lost), CheckInspection, and what each device holds.
func (tr *trial) finalChecks() {
	t, ctx := tr.t, tr.t.Context()
	kept := map[string]map[string]string{} // user → op_id → value refused and kept
	for _, d := range tr.devs {
		rej, err := d.Local.AllRejections(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if kept[d.User] == nil {
			kept[d.User] = map[string]string{}
		}
		for _, r := range rej {
			kept[d.User][r.OpID] = r.Value
		}
	}
	var active []*synctest.Device
	for _, d := range tr.devs {
		if !d.active {
			continue
		}
		var ops []framework.Op
		for _, op := range d.Ops {
			var result int
			var reason string
			err := tr.db.QueryRow(`SELECT result, reason FROM op_records WHERE op_id = ?`, op.ID).Scan(&result, &reason)
			if err == nil && framework.OpResult(result) == framework.OpRejected && kept[d.User][op.ID] == op.Value &&
				(strings.Contains(reason, "not one of your cases") || strings.Contains(reason, "not on the team")) {
				tr.tot.refused++ // the case moved or the user left the team: refused, kept in front of its author
				continue
			}
			if errors.Is(err, sql.ErrNoRows) && kept[d.User][op.ID] == op.Value {
				// Refused to someone off the team, which the server does not
				// record (docs/sync.md): kept in front of its author.
				tr.tot.refused++
				continue
			}
			ops = append(ops, op)
		}
		d.Ops = ops
		active = append(active, d.Device)
	}
	r := synctest.CheckInspection(t, tr.w, tr.insp, active)
	tr.tot.trials++
	tr.tot.ops += r.Ops
	tr.tot.lost += r.Lost
	tr.tot.duplicated += r.Duplicated
	tr.tot.unconverged += r.Unconverged

	// What each device holds, against the server's final team and assignments.
	assigned := map[string]string{}
	rows, err := tr.db.Query(`SELECT case_ref, inspector FROM cases WHERE inspection_id = ?`, tr.insp)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ref, insp string
		rows.Scan(&ref, &insp)
		assigned[ref] = insp
	}
	rows.Close()
	for _, d := range tr.devs {
		if !d.active {
			continue
		}
		role, err := synctest.ServerRole(tr.db, tr.insp, d.User)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := sql.Open("sqlite3", "file:"+filepath.Join(d.dir, "client.db")+"?mode=ro&_busy_timeout=5000")
		if err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"cases", "answers", "conflicts"} {
			rows, err := raw.Query(`SELECT inspection_id, case_ref FROM ` + table)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var insp, ref string
				rows.Scan(&insp, &ref)
				if insp != tr.insp || !framework.CanSeeCase(role, assigned[ref] == d.User) {
					tr.leak(fmt.Sprintf("device of %s holds %s of %s %s (role %q, case of %s)", d.User, table, insp, ref, role, assigned[ref]))
				}
			}
			rows.Close()
		}
		for _, q := range []string{`SELECT id FROM inspections`, `SELECT inspection_id FROM judgements`} {
			rows, err := raw.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var insp string
				rows.Scan(&insp)
				if insp != tr.insp || role == "" {
					tr.leak(fmt.Sprintf("device of %s holds %q of inspection %s (role %q)", d.User, q, insp, role))
				}
			}
			rows.Close()
		}
		raw.Close()
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, l := range tr.leaks {
		t.Errorf("leak: %s", l)
	}
	tr.tot.leaked += len(tr.leaks)
}
