package server

import (
	"context"
	"errors"
	"io"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/store"
	"github.com/fieldworkhq/fieldwork/internal/syncer"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// syncService serves SyncService (sync_service.proto): the push and pull streams.
type syncService struct {
	fieldworkv1.UnimplementedSyncServiceServer
	db        *store.DB
	pageBytes int // a pull page's byte budget (see fitPage)
	pages     *pageGate
	metrics   *metrics
}

// MaxOpsPerBatch bounds one pushed batch.
const MaxOpsPerBatch = 5000

// pushWindow is how many received batches a push stream may have queued
// for the committer ahead of the one whose acks it is waiting to send.
const pushWindow = 4

// A pushed batch as queued: its ops and pending result, or the error that
// ends the stream at this point.
type pushedBatch struct {
	ops     []framework.Op
	pending *store.PendingOps
	err     error
}

// Push receives batches on one goroutine and queues each for the committer
// at once, while this goroutine sends each batch's acks in order as they
// are applied: the committer then always finds the next batch waiting
// instead of idling while acks travel and the next batch is decoded.
func (s *syncService) Push(stream fieldworkv1.SyncService_PushServer) error {
	ctx := stream.Context()
	u := userFrom(ctx)
	batches := make(chan pushedBatch, pushWindow)
	go func() {
		defer close(batches)
		for {
			var b pushedBatch
			req, err := stream.Recv()
			switch {
			case errors.Is(err, io.EOF):
				return
			case err != nil:
				b.err = err
			case len(req.GetOps()) > MaxOpsPerBatch:
				b.err = framework.Errorf(framework.CodeInvalid, "batch of %d ops is over the limit of %d", len(req.GetOps()), MaxOpsPerBatch)
			default:
				b.ops = make([]framework.Op, len(req.GetOps()))
				for i, m := range req.GetOps() {
					b.ops[i] = wire.OpFromProto(m)
				}
				b.pending, b.err = s.db.SubmitOps(ctx, u, b.ops)
			}
			select {
			case batches <- b:
			case <-ctx.Done(): // the handler has returned
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	for b := range batches {
		if b.err != nil {
			return b.err
		}
		acks, err := b.pending.Wait()
		if err != nil {
			return err
		}
		s.metrics.countAcks(acks)
		resp := &fieldworkv1.PushResponse{Acks: make([]*fieldworkv1.Ack, len(acks))}
		for i, a := range acks {
			resp.Acks[i] = wire.AckToProto(b.ops[i].InspectionID, a)
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
	return nil
}

func (s *syncService) Pull(req *fieldworkv1.PullRequest, stream fieldworkv1.SyncService_PullServer) error {
	ctx := stream.Context()
	u := userFrom(ctx)
	size := int(req.GetPageSize())
	switch {
	case size <= 0:
		size = 500
	case size > 5000:
		size = 5000
	}
	after := req.GetAfter()
	diverged := false
	if after > 0 {
		at, err := s.db.Mark(ctx, after)
		if err != nil {
			return err
		}
		diverged = syncer.Diverged(after, req.GetAfterToken(), at)
	}
	if diverged {
		// Not an error: the client's answer to it is to pull again from
		// the start (an older client, ignoring the field, takes cursor 0
		// and does the same on its next pull).
		s.metrics.pullDiverged.Inc()
		return stream.Send(&fieldworkv1.PullResponse{Diverged: true})
	}
	if req.GetCheckOnly() {
		return stream.Send(&fieldworkv1.PullResponse{Cursor: after, CursorToken: req.GetAfterToken()})
	}
	for {
		leave, err := s.pages.enter(ctx, u.Name)
		if err != nil {
			return err
		}
		changes, cursor, more, err := s.db.Changes(ctx, u, after, size)
		leave()
		if err != nil {
			return err
		}
		resp := &fieldworkv1.PullResponse{Cursor: cursor, More: more}
		fitPage(resp, changes, s.pageBytes)
		if len(resp.Changes) == 0 && resp.More {
			// Nothing to deliver in this stretch (all of it comes again later,
			// as store.Changes explains): read on rather than send an empty page.
			after = resp.Cursor
			continue
		}
		at, err := s.db.Mark(ctx, resp.Cursor)
		if err != nil {
			return err
		}
		resp.CursorToken = at.Token
		if err := stream.Send(resp); err != nil {
			return err
		}
		s.metrics.pullPages.Inc()
		s.metrics.pullChanges.Add(float64(len(resp.Changes)))
		if !resp.More {
			return nil
		}
		after = resp.Cursor
	}
}

func (s *syncService) DismissRefusals(ctx context.Context, req *fieldworkv1.DismissRefusalsRequest) (*fieldworkv1.DismissRefusalsResponse, error) {
	n, err := s.db.DismissRefusals(ctx, userFrom(ctx), req.GetDeviceId(), req.GetOpIds())
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.DismissRefusalsResponse{Dismissed: int32(n)}, nil
}
