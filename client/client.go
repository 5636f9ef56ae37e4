// Package client is the fieldwork client library: a typed façade over the
// server's API (every method takes and returns the domain's types and
// errors; the generated stubs stay inside) and the user's offline work
// (Offline), pushed and pulled on Sync.
package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// Client is a connection to a server plus the offline store.
type Client struct {
	conn grpc.ClientConnInterface
	off  *Offline

	frameworks  fieldworkv1.FrameworkServiceClient
	inspections fieldworkv1.InspectionServiceClient
	sync        fieldworkv1.SyncServiceClient
	reports     fieldworkv1.ReportServiceClient
	admin       fieldworkv1.AdminServiceClient
	audit       fieldworkv1.AuditServiceClient
	marking     fieldworkv1.MarkingServiceClient

	// BatchSize is the number of ops per pushed batch.
	BatchSize int
	// Progress, when set, is told how a sync advances.
	Progress func(SyncProgress)
}

// ErrOffline is every server call of a client made without a connection.
var ErrOffline = errors.New("working offline: no server configured (run fieldwork login)")

// New returns a client over conn and the offline store off. Either may be
// nil: without conn every server call fails with ErrOffline (the offline
// form); without off only calls that need no device work (login asks the
// server who the token belongs to).
func New(conn grpc.ClientConnInterface, off *Offline) *Client {
	c := &Client{conn: conn, off: off, BatchSize: 500}
	if conn == nil {
		conn = offlineConn{}
	}
	c.frameworks = fieldworkv1.NewFrameworkServiceClient(conn)
	c.inspections = fieldworkv1.NewInspectionServiceClient(conn)
	c.sync = fieldworkv1.NewSyncServiceClient(conn)
	c.reports = fieldworkv1.NewReportServiceClient(conn)
	c.admin = fieldworkv1.NewAdminServiceClient(conn)
	c.audit = fieldworkv1.NewAuditServiceClient(conn)
	c.marking = fieldworkv1.NewMarkingServiceClient(conn)
	return c
}

// Online reports whether the client has a server connection.
func (c *Client) Online() bool { return c.conn != nil }

// Offline is the client's offline store (nil if it has none).
func (c *Client) Offline() *Offline { return c.off }

// offlineConn is the connection of a client without a server.
type offlineConn struct{}

func (offlineConn) Invoke(context.Context, string, any, any, ...grpc.CallOption) error {
	return ErrOffline
}

func (offlineConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, ErrOffline
}

// deviceID is the id every write names, so the server audits where it
// came from.
func (c *Client) deviceID(ctx context.Context) (string, error) {
	if c.off == nil {
		return "", errNoStore
	}
	return c.off.DeviceID(ctx)
}

// SyncProgress reports how far a sync has got.
type SyncProgress struct {
	Sent, Acknowledged, Pending int
	Pages, Changes              int
}

// SyncResult summarises a sync.
type SyncResult struct {
	Applied, Conflicts, Rejected, Duplicates int
	// DeviceReused counts acks saying this store's sequence numbers were
	// already used by another copy of it (restored or copied): it has since
	// taken a new device id.
	DeviceReused   int
	Pages, Changes int
	Cursor         int64
	// Restored: the server was restored from an earlier copy (its history
	// no longer held this laptop's cursor); the laptop pulled everything
	// again and sent again the Resent answers of this user it had synced
	// that the server no longer held (docs/sync.md, "A restored server").
	Restored bool
	Resent   int
}

// Sync pushes the outbox, then pulls every change since the saved
// cursor. Each acknowledged batch and each pulled page is committed
// locally before the next, so an interrupted sync resumes where it stopped.
func (c *Client) Sync(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	if c.off == nil {
		return res, errNoStore
	}
	if err := c.restoredFirst(ctx, &res); err != nil {
		return res, fmt.Errorf("pull: %w", rpcerr.FromStatus(err))
	}
	if err := c.push(ctx, &res); err != nil {
		return res, fmt.Errorf("push: %w", rpcerr.FromStatus(err))
	}
	resent := res.Resent
	if err := c.pull(ctx, &res); err != nil {
		return res, fmt.Errorf("pull: %w", rpcerr.FromStatus(err))
	}
	if res.Resent > resent {
		// What a restored server lost, queued again by the pull: sent now,
		// then the pull brings back what the server made of it.
		if err := c.push(ctx, &res); err != nil {
			return res, fmt.Errorf("push: %w", rpcerr.FromStatus(err))
		}
		if err := c.pull(ctx, &res); err != nil {
			return res, fmt.Errorf("pull: %w", rpcerr.FromStatus(err))
		}
	}
	if err := c.sendDismissals(ctx); err != nil {
		return res, fmt.Errorf("send dismissals: %w", rpcerr.FromStatus(err))
	}
	if err := c.off.setMeta(ctx, metaLastSync, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return res, err
	}
	return res, nil
}

// sendDismissals has the server audit the refused edits dismissed on this
// device since the last sync.
func (c *Client) sendDismissals(ctx context.Context) error {
	ids, err := c.off.local.PendingDismissals(ctx)
	if err != nil || len(ids) == 0 {
		return err
	}
	device, err := c.off.local.DeviceID(ctx)
	if err != nil {
		return err
	}
	for start := 0; start < len(ids); start += 1000 {
		chunk := ids[start:min(start+1000, len(ids))]
		if _, err := c.sync.DismissRefusals(ctx, &fieldworkv1.DismissRefusalsRequest{OpIds: chunk, DeviceId: device}); err != nil {
			return err
		}
		if err := c.off.local.DismissalsSent(ctx, chunk); err != nil {
			return err
		}
	}
	return nil
}

// Pull brings this laptop's copy up to date without pushing the outbox
// (Sync does both): what an online command that changed something on the
// server calls after it, so the next answer is judged on the server's
// state (an unlocked inspection, a returned case) and the conflicts are
// the server's. Pulled answers with local edits pending keep the local
// value, as in a sync.
func (c *Client) Pull(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	if c.off == nil {
		return res, errNoStore
	}
	if err := c.pull(ctx, &res); err != nil {
		return res, fmt.Errorf("pull: %w", rpcerr.FromStatus(err))
	}
	return res, nil
}

// Push sends the outbox without pulling (Sync does both), unless the
// server turns out restored from an earlier copy: then it recovers first
// (restoredFirst), which pulls.
func (c *Client) Push(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	if c.off == nil {
		return res, errNoStore
	}
	if err := c.restoredFirst(ctx, &res); err != nil {
		return res, rpcerr.FromStatus(err)
	}
	err := c.push(ctx, &res)
	return res, rpcerr.FromStatus(err)
}

// pushWindow is how many batches may be in flight on the push stream: the
// client reads and sends the next batches while the server applies one and
// the client records the acks of the one before.
const pushWindow = 4

func (c *Client) push(ctx context.Context, res *SyncResult) error {
	pending, err := c.off.local.PendingCount(ctx)
	if err != nil || pending == 0 {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.sync.Push(ctx)
	if err != nil {
		return err
	}
	inflight := make(chan []framework.Op, pushWindow)
	sendErr := make(chan error, 1)
	prog := SyncProgress{Pending: pending}
	var mu sync.Mutex
	go func() {
		defer close(inflight)
		var after int64
		for {
			ops, err := c.off.local.OutboxAfter(ctx, after, c.BatchSize)
			if err != nil {
				sendErr <- err
				return
			}
			if len(ops) == 0 {
				sendErr <- stream.CloseSend()
				return
			}
			req := &fieldworkv1.PushRequest{Ops: make([]*fieldworkv1.Op, len(ops))}
			for i, op := range ops {
				req.Ops[i] = wire.OpToProto(op)
			}
			select {
			case inflight <- ops: // blocks while pushWindow batches await acks
			case <-ctx.Done():
				sendErr <- ctx.Err()
				return
			}
			if err := stream.Send(req); err != nil {
				sendErr <- err // the receiver learns the cause from Recv
				return
			}
			after = ops[len(ops)-1].DeviceSeq
			mu.Lock()
			prog.Sent += len(ops)
			p := prog
			mu.Unlock()
			c.report(p)
		}
	}()
	for ops := range inflight {
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		acks := make([]framework.Ack, len(resp.GetAcks()))
		batch := SyncResult{}
		for i, a := range resp.GetAcks() {
			acks[i] = wire.AckFromProto(a)
			switch acks[i].Result {
			case framework.OpApplied:
				batch.Applied++
			case framework.OpConflict:
				batch.Conflicts++
			case framework.OpRejected:
				batch.Rejected++
			}
			if acks[i].Duplicate {
				batch.Duplicates++
			}
			if acks[i].DeviceReused {
				batch.DeviceReused++
			}
		}
		if err := c.off.local.Acknowledge(ctx, ops, acks); err != nil {
			return err
		}
		// Counted once recorded here: an interrupted sync reports what this
		// laptop knows was taken (the rest is sent again, and deduplicated).
		res.Applied += batch.Applied
		res.Conflicts += batch.Conflicts
		res.Rejected += batch.Rejected
		res.Duplicates += batch.Duplicates
		res.DeviceReused += batch.DeviceReused
		mu.Lock()
		prog.Acknowledged += len(acks)
		p := prog
		mu.Unlock()
		c.report(p)
		if len(acks) < len(ops) {
			return fmt.Errorf("server acknowledged %d of %d ops", len(acks), len(ops))
		}
	}
	if err := <-sendErr; err != nil {
		return err
	}
	// Drain the server's end of the stream.
	if _, err := stream.Recv(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// pull pulls every change since the cursor. When the server says its
// history no longer holds the cursor (restored from an earlier copy), it
// recovers (recoverRestored); a recovery that an interruption cut short is
// finished by the next whole pull.
func (c *Client) pull(ctx context.Context, res *SyncResult) error {
	diverged, err := c.pullPages(ctx, res, 1000)
	if err != nil {
		return err
	}
	if diverged {
		return c.recoverRestored(ctx, res)
	}
	return c.finishRestored(ctx, res)
}

// restoredFirst, before edits queued here are pushed, asks the server
// whether it was restored (a pull with check_only: no changes), and if
// so recovers first, or finishes a recovery begun before: a queued edit's
// base revision may name another value on a restored server, and pushed
// on it unchanged could replace that value unseen.
func (c *Client) restoredFirst(ctx context.Context, res *SyncResult) error {
	pending, err := c.off.local.PendingCount(ctx)
	if err != nil || pending == 0 {
		return err
	}
	if under, err := c.off.local.RestoreRecovering(ctx); err != nil || under {
		if err != nil {
			return err
		}
		return c.pull(ctx, res)
	}
	after, token, err := c.off.local.Cursor(ctx)
	if err != nil || after == 0 {
		return err
	}
	stream, err := c.sync.Pull(ctx, &fieldworkv1.PullRequest{After: after, AfterToken: token, CheckOnly: true})
	if err != nil {
		return err
	}
	diverged := false
	for {
		page, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		diverged = diverged || page.GetDiverged()
	}
	if !diverged {
		return nil
	}
	return c.recoverRestored(ctx, res)
}

// recoverRestored keeps this user's synced answers aside, pulls
// everything again from the start and queues again what the server lacks,
// rebasing the edits still queued (localstore's BeginRestoreRecovery and
// FinishRestoreRecovery).
func (c *Client) recoverRestored(ctx context.Context, res *SyncResult) error {
	res.Restored = true
	me, err := c.WhoAmI(ctx)
	if err != nil {
		return err
	}
	if err := c.off.local.BeginRestoreRecovery(ctx, me.Name); err != nil {
		return err
	}
	diverged, err := c.pullPages(ctx, res, 1000)
	if err != nil {
		return err
	}
	if diverged { // pulled from 0: cannot happen
		return fmt.Errorf("the server's history changed again while pulling it")
	}
	return c.finishRestored(ctx, res)
}

// finishRestored finishes a recovery whose re-pull is whole (nothing to do
// when none is under way).
func (c *Client) finishRestored(ctx context.Context, res *SyncResult) error {
	n, err := c.off.local.FinishRestoreRecovery(ctx)
	if err != nil {
		return err
	}
	res.Resent += n
	res.Restored = res.Restored || n > 0
	return nil
}

// pullPages stores each pulled page with its cursor, or reports that the
// server found the cursor diverged (and stores nothing).
func (c *Client) pullPages(ctx context.Context, res *SyncResult, pageSize int32) (diverged bool, err error) {
	after, token, err := c.off.local.Cursor(ctx)
	if err != nil {
		return false, err
	}
	stream, err := c.sync.Pull(ctx, &fieldworkv1.PullRequest{After: after, AfterToken: token, PageSize: pageSize})
	if err != nil {
		return false, err
	}
	for {
		page, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return false, err
		}
		if page.GetDiverged() {
			return true, nil
		}
		changes := make([]framework.Change, 0, len(page.GetChanges()))
		for _, m := range page.GetChanges() {
			ch := wire.ChangeFromProto(m)
			if ch.Inspection != nil {
				if err := c.ensureFramework(ctx, ch.Inspection.FrameworkID, ch.Inspection.FrameworkVersion); err != nil {
					return false, err
				}
			}
			changes = append(changes, ch)
		}
		if err := c.off.local.ApplyPage(ctx, changes, page.GetCursor(), page.GetCursorToken()); err != nil {
			return false, err
		}
		res.Pages++
		res.Changes += len(changes)
		res.Cursor = page.GetCursor()
		c.report(SyncProgress{Pages: res.Pages, Changes: res.Changes})
	}
	return false, nil
}

func (c *Client) report(p SyncProgress) {
	if c.Progress != nil {
		c.Progress(p)
	}
}

func (c *Client) ensureFramework(ctx context.Context, id string, version int) error {
	ok, err := c.off.local.HasFramework(ctx, id, version)
	if err != nil || ok {
		return err
	}
	resp, err := c.frameworks.GetFramework(ctx, &fieldworkv1.GetFrameworkRequest{Id: id, Version: int32(version)})
	if err != nil {
		return err
	}
	return c.off.local.PutFramework(ctx, id, version, resp.GetDefinition())
}
