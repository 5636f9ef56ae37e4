// Package client is the fieldwork client library: it talks to the server
// through the generated stubs and keeps the user's offline work in a local
// store, pushing and pulling it on Sync.
package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// Client is a connection to a server plus the local store.
type Client struct {
	conn  grpc.ClientConnInterface
	Local *localstore.Store

	Frameworks  fieldworkv1.FrameworkServiceClient
	Inspections fieldworkv1.InspectionServiceClient
	Answers     fieldworkv1.AnswerServiceClient
	Sync        fieldworkv1.SyncServiceClient
	Reports     fieldworkv1.ReportServiceClient
	Admin       fieldworkv1.AdminServiceClient
	Audit       fieldworkv1.AuditServiceClient

	// BatchSize is the number of ops per pushed batch.
	BatchSize int
	// Progress, when set, is told how a sync advances.
	Progress func(SyncProgress)
}

// New returns a client over conn (which may be nil for offline-only use).
func New(conn grpc.ClientConnInterface, local *localstore.Store) *Client {
	c := &Client{conn: conn, Local: local, BatchSize: 500}
	if conn != nil {
		c.Frameworks = fieldworkv1.NewFrameworkServiceClient(conn)
		c.Inspections = fieldworkv1.NewInspectionServiceClient(conn)
		c.Answers = fieldworkv1.NewAnswerServiceClient(conn)
		c.Sync = fieldworkv1.NewSyncServiceClient(conn)
		c.Reports = fieldworkv1.NewReportServiceClient(conn)
		c.Admin = fieldworkv1.NewAdminServiceClient(conn)
		c.Audit = fieldworkv1.NewAuditServiceClient(conn)
	}
	return c
}

// Err turns a gRPC status into a framework error (see rpcerr.FromStatus).
func Err(err error) error { return rpcerr.FromStatus(err) }

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
}

// SyncNow pushes the outbox, then pulls every change since the saved
// cursor. Each acknowledged batch and each pulled page is committed
// locally before the next, so an interrupted sync resumes where it stopped.
func (c *Client) SyncNow(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	if err := c.push(ctx, &res); err != nil {
		return res, fmt.Errorf("push: %w", Err(err))
	}
	if err := c.pull(ctx, &res); err != nil {
		return res, fmt.Errorf("pull: %w", Err(err))
	}
	if err := c.sendDismissals(ctx); err != nil {
		return res, fmt.Errorf("send dismissals: %w", Err(err))
	}
	if err := c.Local.SetMeta(ctx, "last_sync", time.Now().UTC().Format(time.RFC3339)); err != nil {
		return res, err
	}
	return res, nil
}

// sendDismissals has the server audit the refused edits dismissed on this
// device since the last sync.
func (c *Client) sendDismissals(ctx context.Context) error {
	ids, err := c.Local.PendingDismissals(ctx)
	if err != nil || len(ids) == 0 {
		return err
	}
	device, err := c.Local.DeviceID(ctx)
	if err != nil {
		return err
	}
	for start := 0; start < len(ids); start += 1000 {
		chunk := ids[start:min(start+1000, len(ids))]
		if _, err := c.Sync.DismissRefusals(ctx, &fieldworkv1.DismissRefusalsRequest{OpIds: chunk, DeviceId: device}); err != nil {
			return err
		}
		if err := c.Local.DismissalsSent(ctx, chunk); err != nil {
			return err
		}
	}
	return nil
}

// Push sends the outbox without pulling (SyncNow does both).
func (c *Client) Push(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	err := c.push(ctx, &res)
	return res, Err(err)
}

// pushWindow is how many batches may be in flight on the push stream: the
// client reads and sends the next batches while the server applies one and
// the client records the acks of the one before.
const pushWindow = 4

func (c *Client) push(ctx context.Context, res *SyncResult) error {
	pending, err := c.Local.PendingCount(ctx)
	if err != nil || pending == 0 {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.Sync.Push(ctx)
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
			ops, err := c.Local.OutboxAfter(ctx, after, c.BatchSize)
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
		for i, a := range resp.GetAcks() {
			acks[i] = wire.AckFromProto(a)
			switch acks[i].Result {
			case framework.OpApplied:
				res.Applied++
			case framework.OpConflict:
				res.Conflicts++
			case framework.OpRejected:
				res.Rejected++
			}
			if acks[i].Duplicate {
				res.Duplicates++
			}
			if acks[i].DeviceReused {
				res.DeviceReused++
			}
		}
		if err := c.Local.Acknowledge(ctx, ops, acks); err != nil {
			return err
		}
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

func (c *Client) pull(ctx context.Context, res *SyncResult) error {
	cur, err := c.Local.Meta(ctx, "cursor")
	if err != nil {
		return err
	}
	after, _ := strconv.ParseInt(cur, 10, 64)
	stream, err := c.Sync.Pull(ctx, &fieldworkv1.PullRequest{After: after, PageSize: 1000})
	if err != nil {
		return err
	}
	for {
		page, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		changes := make([]framework.Change, 0, len(page.GetChanges()))
		for _, m := range page.GetChanges() {
			ch := wire.ChangeFromProto(m)
			if ch.Inspection != nil {
				if err := c.ensureFramework(ctx, ch.Inspection.FrameworkID, ch.Inspection.FrameworkVersion); err != nil {
					return err
				}
			}
			changes = append(changes, ch)
		}
		if err := c.Local.ApplyChanges(ctx, changes, page.GetCursor()); err != nil {
			return err
		}
		res.Pages++
		res.Changes += len(changes)
		res.Cursor = page.GetCursor()
		c.report(SyncProgress{Pages: res.Pages, Changes: res.Changes})
	}
	return nil
}

func (c *Client) report(p SyncProgress) {
	if c.Progress != nil {
		c.Progress(p)
	}
}

func (c *Client) ensureFramework(ctx context.Context, id string, version int) error {
	ok, err := c.Local.HasFramework(ctx, id, version)
	if err != nil || ok {
		return err
	}
	resp, err := c.Frameworks.GetFramework(ctx, &fieldworkv1.GetFrameworkRequest{Id: id, Version: int32(version)})
	if err != nil {
		return err
	}
	return c.Local.PutFramework(ctx, id, version, resp.GetDefinition())
}

// Framework returns a framework from the server.
func (c *Client) Framework(ctx context.Context, id string, version int) (*framework.Framework, error) {
	resp, err := c.Frameworks.GetFramework(ctx, &fieldworkv1.GetFrameworkRequest{Id: id, Version: int32(version)})
	if err != nil {
		return nil, Err(err)
	}
	return framework.Load(resp.GetDefinition())
}
