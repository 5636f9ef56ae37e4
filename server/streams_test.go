package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/server"
)

// loopEnv is a server on a real loopback TCP listener.
type loopEnv struct {
	*testEnv
	addr string
}

func newLoopbackServer(t *testing.T, mutate func(*server.Config)) *loopEnv {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.DBPath = filepath.Join(t.TempDir(), "fieldwork.db")
	if mutate != nil {
		mutate(&cfg)
	}
	e := newTestServerAt(t, cfg, &syncBuffer{}) // bufconn, for setting up
	lis, err := e.srv.ListenOn("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.srv.Serve(ctx, lis); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &loopEnv{testEnv: e, addr: lis.Addr().String()}
}

func (l *loopEnv) dial(t *testing.T, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(l.addr, append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// bigInspection creates an inspection of n cases with leads, whose pulls
// are therefore large; it returns their tokens.
func (l *loopEnv) bigInspection(t *testing.T, n int, leads ...string) []string {
	t.Helper()
	ctx := as(t.Context(), l.admin)
	insp := fieldworkv1.NewInspectionServiceClient(l.conn)
	resp, err := insp.CreateInspection(ctx, &fieldworkv1.CreateInspectionRequest{Name: "Big", FrameworkId: "probation-pdu-2023"})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetInspection().GetId()
	var csv strings.Builder
	csv.WriteString("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n")
	for i := range n {
		fmt.Fprintf(&csv, "B-%05d,community,male,26-39,white,medium,none,Big unit with a longer name,false,insp.big\n", i)
	}
	if _, err := insp.ImportCases(ctx, &fieldworkv1.ImportCasesRequest{InspectionId: id, Csv: []byte(csv.String())}); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for _, u := range leads {
		if err := l.srv.DB().CreateUser(t.Context(), adminActor, u, false); err != nil {
			t.Fatal(err)
		}
		if err := l.srv.DB().AddTeamMember(t.Context(), adminActor, id, u, framework.RoleLead); err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, l.token(t, u))
	}
	return tokens
}

var handlerFrame = regexp.MustCompile(`server\.\(\*syncService\)\.(Push|Pull)\(`)

// openHandlers counts the server's Push and Pull handlers still running.
func openHandlers() (push, pull int) {
	buf := make([]byte, 64<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, m := range handlerFrame.FindAllSubmatch(buf, -1) {
		if string(m[1]) == "Push" {
			push++
		} else {
			pull++
		}
	}
	return push, pull
}

// waitHandlers waits until at most push and pull handlers run.
func waitHandlers(t *testing.T, push, pull int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		p, q := openHandlers()
		if p <= push && q <= pull {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %d push and %d pull handlers still run, want at most %d and %d", within, p, q, push, pull)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recvWithin reports the error of a first Recv on a stream, or nil if it
// has not returned within d (the stream is open and idle).
func recvWithin(recv func() error, d time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- recv() }()
	select {
	case err := <-errc:
		if err == nil {
			err = errors.New("a message")
		}
		return err
	case <-time.After(d):
		return nil
	}
}

// A user may hold StreamLimits.PerUser streams of one method; all callers
// together StreamLimits.Total. The stream over either limit is refused at
// once with RESOURCE_EXHAUSTED saying which, and a freed slot is reusable.
func TestStreamLimitsRefuseTheExtraStream(t *testing.T) {
	l := newLoopbackServer(t, func(c *server.Config) { c.Streams.PerUser, c.Streams.Total = 2, 3 })
	tokens := l.bigInspection(t, 1, "a0", "a1", "a2")
	syncc := fieldworkv1.NewSyncServiceClient(l.dial(t))
	open := func(token string) (context.CancelFunc, error) {
		ctx, cancel := context.WithCancel(as(t.Context(), token))
		stream, err := syncc.Push(ctx)
		if err != nil {
			cancel()
			return nil, err
		}
		if err := recvWithin(func() error { _, err := stream.Recv(); return err }, 300*time.Millisecond); err != nil {
			cancel()
			return nil, err
		}
		return cancel, nil
	}
	close0, err := open(tokens[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open(tokens[0]); err != nil {
		t.Fatal(err)
	}
	_, err = open(tokens[0])
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "user a0 already has 2 Push streams open") {
		t.Fatalf("a0's third push: %v, want ResourceExhausted naming the per-user limit", err)
	}
	// Another method has its own count: a0 can still pull.
	pull, err := syncc.Pull(as(t.Context(), tokens[0]), &fieldworkv1.PullRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := pull.Recv(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("a0's pull beside two pushes: %v", err)
		}
	}
	if _, err := open(tokens[1]); err != nil {
		t.Fatal(err)
	}
	_, err = open(tokens[2])
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "the server has 3 Push streams open") {
		t.Fatalf("a2's push with 3 open in all: %v, want ResourceExhausted naming the total", err)
	}
	close0()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err = open(tokens[2]); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a2's push after one closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A push stream the client leaves silent is ended after StreamLimits.Idle
// with DEADLINE_EXCEEDED, acks already due still sent.
func TestIdlePushStreamIsEnded(t *testing.T) {
	l := newLoopbackServer(t, func(c *server.Config) { c.Streams.Idle = 300 * time.Millisecond })
	id := l.inspection(t)
	syncc := fieldworkv1.NewSyncServiceClient(l.dial(t))
	stream, err := syncc.Push(as(t.Context(), l.admin))
	if err != nil {
		t.Fatal(err)
	}
	op := &fieldworkv1.Op{OpId: "0195f3a0-0000-7000-8000-000000000001", InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: "yes", DeviceId: "d"}
	if err := stream.Send(&fieldworkv1.PushRequest{Ops: []*fieldworkv1.Op{op}}); err != nil {
		t.Fatal(err)
	}
	if resp, err := stream.Recv(); err != nil || len(resp.GetAcks()) != 1 {
		t.Fatalf("ack: %v %v", resp, err)
	}
	start := time.Now()
	err = recvWithin(func() error { _, err := stream.Recv(); return err }, 5*time.Second)
	if status.Code(err) != codes.DeadlineExceeded || !strings.Contains(err.Error(), "no message from the client for 300ms") {
		t.Fatalf("silent push stream after %s: %v, want DeadlineExceeded naming the idle limit", time.Since(start), err)
	}
	waitHandlers(t, 0, 0, 2*time.Second)
}

// A pull whose reader stops reading is ended once a send has waited
// StreamLimits.SendStall: its handler returns (freeing what it held), and
// a reader that comes back gets what was already sent, then
// DEADLINE_EXCEEDED.
func TestUnreadPullIsEnded(t *testing.T) {
	l := newLoopbackServer(t, func(c *server.Config) { c.Streams.SendStall = 500 * time.Millisecond })
	tokens := l.bigInspection(t, 2000, "lead.slow")
	stream, err := fieldworkv1.NewSyncServiceClient(l.dial(t)).Pull(as(t.Context(), tokens[0]), &fieldworkv1.PullRequest{PageSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil { // one page, then nothing
		t.Fatal(err)
	}
	waitHandlers(t, 0, 0, 5*time.Second)
	var pages int
	for {
		_, err := stream.Recv()
		if err == nil {
			pages++
			continue
		}
		if status.Code(err) != codes.DeadlineExceeded || !strings.Contains(err.Error(), "the client took nothing the server sent for 500ms") {
			t.Fatalf("reading the stalled pull again: %v after %d pages, want DeadlineExceeded naming the stall limit", err, pages)
		}
		break
	}
	if pages >= 9 {
		t.Errorf("%d more pages of 10 arrived: the pull was not cut short", pages)
	}
}

// Headers are bounded before any token is checked: a request with 64 KiB
// of headers and no token gets its stream reset, not an answer.
func TestOversizedHeadersAreRefusedBeforeAuthentication(t *testing.T) {
	l := newLoopbackServer(t, nil)
	c, err := net.Dial("tcp", l.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	fr.ReadMetaHeaders = hpack.NewDecoder(1<<20, nil)
	fr.MaxHeaderListSize = 1 << 20
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	// The server's settings come first: read them before it has reason to
	// close the connection on us.
	f, err := fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok {
		t.Fatalf("first frame %v, want the server's SETTINGS", f)
	}
	if v, ok := sf.Value(http2.SettingMaxHeaderListSize); !ok || v > 16<<10 {
		t.Errorf("server's header list limit: %d (advertised %v), want at most 16 KiB", v, ok)
	}
	fr.WriteSettingsAck()
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", fieldworkv1.AdminService_WhoAmI_FullMethodName},
		{":authority", l.addr}, {"content-type", "application/grpc"}, {"te", "trailers"}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	for i := range 16 {
		enc.WriteField(hpack.HeaderField{Name: fmt.Sprintf("x-pad-%d", i), Value: strings.Repeat("p", 4<<10)})
	}
	const maxFrame = 16 << 10
	block := buf.Bytes()
	first := true
	for len(block) > 0 {
		n := min(len(block), maxFrame)
		chunk := block[:n]
		block = block[n:]
		if first {
			err = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: chunk, EndStream: false, EndHeaders: len(block) == 0})
			first = false
		} else {
			err = fr.WriteContinuation(1, len(block) == 0, chunk)
		}
		if err != nil { // the server closed the connection mid-request: refused
			break
		}
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil { // the connection was closed on us: refused too
			break
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			t.Fatalf("the server answered 64 KiB of headers: %v", f.Fields)
		case *http2.RSTStreamFrame, *http2.GoAwayFrame:
		default:
			continue
		}
		break
	}
}

// A connection with no stream is closed after StreamLimits.ConnectionIdle.
func TestIdleConnectionIsClosed(t *testing.T) {
	l := newLoopbackServer(t, func(c *server.Config) { c.Streams.ConnectionIdle = 300 * time.Millisecond })
	conn := l.dial(t)
	if _, err := fieldworkv1.NewAdminServiceClient(conn).WhoAmI(as(t.Context(), l.admin), &fieldworkv1.WhoAmIRequest{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for s := conn.GetState(); s != connectivity.Idle; s = conn.GetState() {
		if !conn.WaitForStateChange(ctx, s) {
			t.Fatalf("connection still %v after 5s, want closed by the server (idle)", s)
		}
	}
}

// The acceptance test of the stream limits: 1,000 idle streams from ten
// users (500 silent pushes, 500 pulls asking for the largest pages and
// never reading), then a normal client's push and pull must each finish
// within two seconds (five under -race); the server runs a bounded number
// of handlers and heap; and
// once the idle and stall limits pass, none of the idle ones is left.
func TestNormalSyncHoldsWhile1000IdleStreamsAreOpen(t *testing.T) {
	for _, tc := range []struct {
		name            string
		perUser, total  int
		wantOpen        int // streams admitted
		wantMaxHandlers int // push, and pull, handlers at most
		maxHeapMiB      int64
		idle            time.Duration // long enough for all to be open at once
		pageSize        int32
	}{
		// Default limits: each user gets 8 of each, the rest are refused.
		// Each of the 80 unread pulls holds up to two encoded pages of
		// 76 KB, in 1 MiB pooled buffers: 120-280 MiB measured, noisy, so
		// the bound is loose (1.7 GiB without the limits).
		{name: "default limits", wantOpen: 160, wantMaxHandlers: 80, maxHeapMiB: 512, idle: 6 * time.Second, pageSize: 300},
		// Limits raised so that all 1,000 really are open at once: the
		// heap then holds 500 unread pages (about 250 MiB, not checked).
		// Not under -race, which makes its 2,000 page reads take minutes.
		{name: "all open", perUser: 100, total: 1000, wantOpen: 1000, wantMaxHandlers: 500, idle: 15 * time.Second, pageSize: 250},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.perUser > 0 && raceDetector {
				t.Skip("too slow under the race detector; runs without -race")
			}
			idle := tc.idle
			l := newLoopbackServer(t, func(c *server.Config) {
				c.Streams.Idle, c.Streams.SendStall = idle, idle
				if tc.perUser > 0 {
					c.Streams.PerUser, c.Streams.Total = tc.perUser, tc.total
				}
			})
			users := make([]string, 10)
			for i := range users {
				users[i] = fmt.Sprintf("idle.%d", i)
			}
			tokens := l.bigInspection(t, 1000, users...)
			normalInsp := l.inspectionFor(t, "insp.n", "insp.n")
			normal := l.token(t, "insp.n")
			normalConn := l.dial(t)
			// Warm the normal client's connection.
			if _, err := fieldworkv1.NewAdminServiceClient(normalConn).WhoAmI(as(t.Context(), normal), &fieldworkv1.WhoAmIRequest{}); err != nil {
				t.Fatal(err)
			}

			var before runtime.MemStats
			runtime.GC()
			runtime.GC() // twice: buffer pools keep what one GC frees until the next
			runtime.ReadMemStats(&before)
			ctx, cancelIdle := context.WithCancel(t.Context())
			defer cancelIdle()
			var mu sync.Mutex
			var opened, refused int
			var other []error
			var wg sync.WaitGroup
			for _, token := range tokens {
				// A fixed window: without it the idle clients' own
				// buffers (which BDP estimation grows) would swamp the
				// heap measured here, which is the server's concern.
				pushc := fieldworkv1.NewSyncServiceClient(l.dial(t, grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(1<<20)))
				pullc := fieldworkv1.NewSyncServiceClient(l.dial(t, grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(1<<20)))
				for range 50 {
					wg.Add(2)
					tally := func(err error) {
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							opened++
						case status.Code(err) == codes.ResourceExhausted:
							refused++
						default:
							other = append(other, err)
						}
					}
					go func() { // a push stream that never sends
						defer wg.Done()
						stream, err := pushc.Push(as(ctx, token))
						if err == nil {
							err = recvWithin(func() error { _, err := stream.Recv(); return err }, 2*time.Second)
						}
						tally(err)
					}()
					go func() { // a pull that reads its first page and no more
						defer wg.Done()
						stream, err := pullc.Pull(as(ctx, token), &fieldworkv1.PullRequest{PageSize: tc.pageSize})
						if err == nil {
							_, err = stream.Recv()
						}
						tally(err)
					}()
				}
			}
			wg.Wait()
			if len(other) > 0 {
				t.Fatalf("%d idle streams failed otherwise, e.g. %v", len(other), other[0])
			}
			push, pull := openHandlers()
			var after runtime.MemStats
			runtime.GC()
			runtime.GC()
			runtime.ReadMemStats(&after)
			grown := (int64(after.HeapInuse) - int64(before.HeapInuse)) >> 20
			t.Logf("%d idle streams open, %d refused; %d push and %d pull handlers running; heap grew %d MiB, %d goroutines in all (server and clients)",
				opened, refused, push, pull, grown, runtime.NumGoroutine())
			if opened != tc.wantOpen || push > tc.wantMaxHandlers || pull > tc.wantMaxHandlers {
				t.Errorf("%d streams open (%d refused), %d push and %d pull handlers; want %d open and at most %d handlers of each",
					opened, refused, push, pull, tc.wantOpen, tc.wantMaxHandlers)
			}
			if tc.maxHeapMiB > 0 && grown > tc.maxHeapMiB {
				t.Errorf("heap grew %d MiB with the idle streams open, want at most %d", grown, tc.maxHeapMiB)
			}

			// The normal client syncs: one op pushed, then a full pull.
			syncc := fieldworkv1.NewSyncServiceClient(normalConn)
			start := time.Now()
			sctx, cancel := context.WithTimeout(as(t.Context(), normal), 10*time.Second)
			defer cancel()
			stream, err := syncc.Push(sctx)
			if err != nil {
				t.Fatal(err)
			}
			op := &fieldworkv1.Op{OpId: "0195f3a0-0000-7000-8000-000000000001", InspectionId: normalInsp, CaseRef: "T-1", QuestionId: "2.1.1", Value: "yes", DeviceId: "n"}
			if err := stream.Send(&fieldworkv1.PushRequest{Ops: []*fieldworkv1.Op{op}}); err != nil {
				t.Fatal(err)
			}
			resp, err := stream.Recv()
			if err != nil || resp.GetAcks()[0].GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED {
				t.Fatalf("normal push: %v %v", resp, err)
			}
			stream.CloseSend()
			pushed := time.Since(start)
			pullStream, err := syncc.Pull(sctx, &fieldworkv1.PullRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var answers int
			for {
				page, err := pullStream.Recv()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("normal pull: %v", err)
				}
				for _, ch := range page.GetChanges() {
					if ch.GetAnswer() != nil {
						answers++
					}
				}
			}
			pulled := time.Since(start) - pushed
			t.Logf("normal sync beside them: push %s, pull %s", pushed, pulled)
			bound := 2 * time.Second
			if raceDetector {
				bound = 5 * time.Second
			}
			if answers != 1 || pushed > bound || pulled > bound {
				t.Errorf("normal sync: %d answers pulled, push %s, pull %s; want its answer back, each within %s", answers, pushed, pulled, bound)
			}

			// The idle streams end by themselves: nothing is left of them.
			start = time.Now()
			// Generous: on a loaded machine (the suite's other packages, the
			// race detector) a thousand streams take minutes to be scheduled
			// out; the check is that they all end, not how fast.
			waitHandlers(t, 0, 0, idle+240*time.Second)
			t.Logf("the last idle stream ended %s later", time.Since(start))
		})
	}
}
