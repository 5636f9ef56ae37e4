package server

import (
	"context"
	"net"
	"path"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// StreamLimits bound what streams and connections a caller can hold, so
// that a burst of slow or idle ones cannot stop anyone else's sync. The
// defaults are in DefaultStreamLimits; a zero field takes its default.
type StreamLimits struct {
	// PerUser is how many streams of one method (Push, Pull, health
	// Watch…) one user may have open at once; a caller without a token is
	// counted by its address. Total is how many of one method all callers
	// together may have. The stream over either is refused at once with
	// RESOURCE_EXHAUSTED.
	PerUser, Total int
	// Idle ends a stream that has waited this long for the client's next
	// message (a push stream left open and silent) with DEADLINE_EXCEEDED.
	Idle time.Duration
	// SendStall ends a stream when a message the server sends has not
	// been taken by the client for this long (a pull whose reader does
	// not read) with DEADLINE_EXCEEDED.
	SendStall time.Duration
	// PerConnection bounds the concurrent streams on one connection
	// (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS).
	PerConnection uint32
	// HeaderBytes bounds a request's headers, which are read before its
	// token is checked (HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE).
	HeaderBytes uint32
	// Handshake bounds how long a new connection may take to complete
	// its TLS and HTTP/2 handshakes.
	Handshake time.Duration
	// ConnectionIdle closes a connection with no stream for this long.
	ConnectionIdle time.Duration
	// ConnectionAge closes a connection this old (clients reconnect and
	// resume: every sync is resumable), after ConnectionAgeGrace for its
	// streams to finish. It frees at the latest then what a stalled stream
	// left queued in the connection.
	ConnectionAge, ConnectionAgeGrace time.Duration
	// Keepalive pings a connection quiet for this long; one that does not
	// answer in KeepaliveTimeout is closed (a laptop gone off the network).
	Keepalive, KeepaliveTimeout time.Duration
	// MinPingInterval is the most often a client may ping; one pinging
	// more often is disconnected.
	MinPingInterval time.Duration
	// PagesAtOnce is how many pull pages are read from the database at
	// once, each user's one at a time, in arrival order: many pulls then
	// wait their turn instead of taking every database reader, and sign-in
	// and a normal client's sync always find one.
	PagesAtOnce int
}

// DefaultStreamLimits are the limits a server gets by default. A normal
// sync holds one push and then one pull stream per device; eight per user
// leave room for several devices and the web form syncing at once.
func DefaultStreamLimits() StreamLimits {
	return StreamLimits{
		PerUser:            8,
		Total:              128,
		Idle:               2 * time.Minute,
		SendStall:          time.Minute,
		PerConnection:      64,
		HeaderBytes:        16 << 10,
		Handshake:          20 * time.Second,
		ConnectionIdle:     15 * time.Minute,
		ConnectionAge:      2 * time.Hour,
		ConnectionAgeGrace: 5 * time.Minute,
		Keepalive:          2 * time.Minute,
		KeepaliveTimeout:   20 * time.Second,
		MinPingInterval:    30 * time.Second,
		PagesAtOnce:        4, // half the store's readers
	}
}

func (l StreamLimits) withDefaults() StreamLimits {
	d := DefaultStreamLimits()
	set := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	if l.PerUser <= 0 {
		l.PerUser = d.PerUser
	}
	if l.Total <= 0 {
		l.Total = d.Total
	}
	if l.PagesAtOnce <= 0 {
		l.PagesAtOnce = d.PagesAtOnce
	}
	if l.PerConnection == 0 {
		l.PerConnection = d.PerConnection
	}
	if l.HeaderBytes == 0 {
		l.HeaderBytes = d.HeaderBytes
	}
	set(&l.Idle, d.Idle)
	set(&l.SendStall, d.SendStall)
	set(&l.Handshake, d.Handshake)
	set(&l.ConnectionIdle, d.ConnectionIdle)
	set(&l.ConnectionAge, d.ConnectionAge)
	set(&l.ConnectionAgeGrace, d.ConnectionAgeGrace)
	set(&l.Keepalive, d.Keepalive)
	set(&l.KeepaliveTimeout, d.KeepaliveTimeout)
	set(&l.MinPingInterval, d.MinPingInterval)
	return l
}

// serverOptions are the gRPC transport's share of the limits.
func (l StreamLimits) serverOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxHeaderListSize(l.HeaderBytes),
		grpc.MaxConcurrentStreams(l.PerConnection),
		grpc.ConnectionTimeout(l.Handshake),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: l.ConnectionIdle, MaxConnectionAge: l.ConnectionAge, MaxConnectionAgeGrace: l.ConnectionAgeGrace,
			Time: l.Keepalive, Timeout: l.KeepaliveTimeout,
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: l.MinPingInterval, PermitWithoutStream: true}),
	}
}

// streamCounts counts open streams per method, per caller and in all.
type streamCounts struct {
	perUser, total int

	mu     sync.Mutex
	byWho  map[[2]string]int // method, caller
	byMeth map[string]int
}

func newStreamCounts(l StreamLimits) *streamCounts {
	return &streamCounts{perUser: l.PerUser, total: l.Total, byWho: map[[2]string]int{}, byMeth: map[string]int{}}
}

// acquire counts a new stream of method for who, or refuses it with
// RESOURCE_EXHAUSTED; release uncounts it.
func (c *streamCounts) acquire(method, who string) (release func(), err error) {
	k := [2]string{method, who}
	name := path.Base(method)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byWho[k] >= c.perUser {
		return nil, status.Errorf(codes.ResourceExhausted, "%s: %s already has %d %s streams open, the most allowed at once: finish or close one first", name, who, c.byWho[k], name)
	}
	if c.byMeth[method] >= c.total {
		return nil, status.Errorf(codes.ResourceExhausted, "%s: the server has %d %s streams open, the most it takes at once: retry shortly", name, c.byMeth[method], name)
	}
	c.byWho[k]++
	c.byMeth[method]++
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.byWho[k]--; c.byWho[k] == 0 {
			delete(c.byWho, k)
		}
		c.byMeth[method]--
	}, nil
}

// streamCaller names who a stream is counted against: its user, or
// without one its address.
func streamCaller(ctx context.Context) string {
	if u := userFrom(ctx); u.Name != "" {
		return "user " + u.Name
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		host, _, err := net.SplitHostPort(p.Addr.String())
		if err != nil {
			host = p.Addr.String()
		}
		return "address " + host
	}
	return "an unknown caller"
}

// boundedStream is a server stream with its caller's context, whose idle
// and stall limits end it: a receive waiting longer than Idle for the
// client's next message, or a send the client has not taken for
// SendStall. Either closes fired, after setting cause.
type boundedStream struct {
	grpc.ServerStream
	ctx context.Context

	recvTimer, sendTimer *time.Timer
	idle, stall          time.Duration
	fired                chan struct{}
	once                 sync.Once
	cause                error
}

func (s *Server) bound(ss grpc.ServerStream, ctx context.Context, method string) *boundedStream {
	name := path.Base(method)
	b := &boundedStream{ServerStream: ss, ctx: ctx, idle: s.cfg.Streams.Idle, stall: s.cfg.Streams.SendStall, fired: make(chan struct{})}
	b.recvTimer = time.AfterFunc(time.Hour, func() {
		b.end(status.Errorf(codes.DeadlineExceeded, "%s stream ended: no message from the client for %s", name, b.idle))
	})
	b.recvTimer.Stop()
	b.sendTimer = time.AfterFunc(time.Hour, func() {
		b.end(status.Errorf(codes.DeadlineExceeded, "%s stream ended: the client took nothing the server sent for %s", name, b.stall))
	})
	b.sendTimer.Stop()
	return b
}

func (b *boundedStream) end(cause error) {
	b.once.Do(func() { b.cause = cause; close(b.fired) })
}

func (b *boundedStream) Context() context.Context { return b.ctx }

func (b *boundedStream) RecvMsg(m any) error {
	b.recvTimer.Reset(b.idle)
	err := b.ServerStream.RecvMsg(m)
	b.recvTimer.Stop()
	return err
}

func (b *boundedStream) SendMsg(m any) error {
	b.sendTimer.Reset(b.stall)
	err := b.ServerStream.SendMsg(m)
	b.sendTimer.Stop()
	return err
}

// run runs the handler on b until it returns or a limit ends the stream.
// Then run returns the limit's error at once: gRPC sends it as the
// stream's status and closes the stream, which unblocks the Send or Recv
// the handler is stuck in, so it returns too (into the buffered channel).
// The status goes out first, so the client learns why; cancelling the
// stream's context instead would have it told only "context canceled".
func (b *boundedStream) run(handler func() error) error {
	done := make(chan error, 1)
	go func() { done <- handler() }()
	select {
	case err := <-done:
		b.recvTimer.Stop()
		b.sendTimer.Stop()
		return err
	case <-b.fired:
		return b.cause
	}
}

// pageGate admits PagesAtOnce page reads at a time and one per user. A
// user's streams queue on the user's turn first, so at most one waiter per
// user queues for the shared slots, and channel waiters are served in
// arrival order: a user behind many busy ones waits for at most one page
// of each.
type pageGate struct {
	slots chan struct{}

	mu    sync.Mutex
	turns map[string]*userTurn
}

type userTurn struct {
	ch    chan struct{}
	users int // streams holding or waiting for the turn
}

func newPageGate(n int) *pageGate {
	return &pageGate{slots: make(chan struct{}, n), turns: map[string]*userTurn{}}
}

// enter waits for user's turn and a slot; leave gives both back.
func (g *pageGate) enter(ctx context.Context, user string) (leave func(), err error) {
	g.mu.Lock()
	t := g.turns[user]
	if t == nil {
		t = &userTurn{ch: make(chan struct{}, 1)}
		g.turns[user] = t
	}
	t.users++
	g.mu.Unlock()
	done := func() {
		g.mu.Lock()
		if t.users--; t.users == 0 {
			delete(g.turns, user)
		}
		g.mu.Unlock()
	}
	select {
	case t.ch <- struct{}{}:
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		<-t.ch
		done()
		return nil, ctx.Err()
	}
	return func() { <-g.slots; <-t.ch; done() }, nil
}
