package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
)

// call is one RPC as its log line tells it: who (once authenticated), from
// which device (once a message names one), and since when. A stream's
// receiving goroutine may outlive the handler, hence the lock.
type call struct {
	start  time.Time
	mu     sync.Mutex
	user   string
	device string
}

func newCall() *call { return &call{start: time.Now()} }

func (c *call) setUser(name string) {
	c.mu.Lock()
	c.user = name
	c.mu.Unlock()
}

// setDevice keeps the first device id a message names. The id is the
// client's text: one that is not a valid device id (framework.FieldDeviceID:
// printable ASCII, bounded) is logged as invalid, never as sent.
func (c *call) setDevice(id string) {
	if id == "" {
		return
	}
	if framework.FieldDeviceID.Check(id) != nil {
		id = "(invalid)"
	}
	c.mu.Lock()
	if c.device == "" {
		c.device = id
	}
	c.mu.Unlock()
}

// deviceOf is the device a request says it comes from: a push's first op's,
// or the request's own device_id.
func deviceOf(m any) string {
	switch r := m.(type) {
	case *fieldworkv1.PushRequest:
		if ops := r.GetOps(); len(ops) > 0 {
			return ops[0].GetDeviceId()
		}
	case interface{ GetDeviceId() string }:
		return r.GetDeviceId()
	}
	return ""
}

// devicePeek notes the device that a stream's messages name.
type devicePeek struct {
	grpc.ServerStream
	c *call
}

func (d *devicePeek) RecvMsg(m any) error {
	err := d.ServerStream.RecvMsg(m)
	if err == nil {
		d.c.setDevice(deviceOf(m))
	}
	return err
}

// finish maps a call's error to its gRPC status (rpcerr, the one table)
// and writes the call's one log line: method, code, user, device, peer
// address and duration. Nothing of the request or the reply is logged (no
// note, case attribute, case reference, answer or token), nor a refusal's
// message, which may quote the request: only its code. An internal error's
// text, which the caller never sees, is logged for the operator.
func (s *Server) finish(ctx context.Context, method string, c *call, err error) error {
	var internal error
	if err != nil {
		if _, isStatus := status.FromError(err); !isStatus && rpcerr.IsInternal(err) {
			internal = err
		}
		err = rpcerr.ToStatus(err)
	}
	code := status.Code(err)
	c.mu.Lock()
	user, device := c.user, c.device
	c.mu.Unlock()
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.String("method", method), slog.String("code", code.String()),
		slog.String("user", user), slog.String("device", device))
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		attrs = append(attrs, slog.String("peer", p.Addr.String()))
	}
	attrs = append(attrs, slog.Float64("ms", float64(time.Since(c.start).Microseconds())/1000))
	level := slog.LevelInfo
	switch code {
	case codes.Internal, codes.Unknown, codes.DataLoss:
		level = slog.LevelError
	}
	if internal != nil {
		attrs = append(attrs, slog.String("err", internal.Error()))
	}
	s.log.LogAttrs(ctx, level, "rpc", attrs...)
	return err
}
