package syncsim_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

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
	ops, err := d.Local.OutboxAfter(ctx, 0, 1000)
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
