// Package server assembles the fieldwork gRPC server: the services, the
// authentication and policy interceptors, health checking and reflection,
// over the server's store, and the live view. The rules it applies are
// framework's (access, lifecycle) and syncer's; what it owns is transport:
// which RPC needs which access (auth.go), stream and page bounds, and the
// mapping of errors to gRPC codes at the edge.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/store"
	"github.com/fieldworkhq/fieldwork/internal/wirecodec"
)

// Config configures a Server. Start from DefaultConfig.
type Config struct {
	// DBPath is the SQLite database file, created and migrated if missing.
	DBPath string
	// ListenAddr is where Run listens.
	ListenAddr string
	// FrameworkFiles are extra framework files loaded at start, beside the
	// built-in ones.
	FrameworkFiles []string
	// TLSCertFile and TLSKeyFile, when both set, make the server serve TLS.
	TLSCertFile, TLSKeyFile string
	// AllowInsecure permits plaintext on a non-loopback address.
	AllowInsecure bool
	// MaxMessageBytes bounds every received message.
	MaxMessageBytes int
	// PullPageBytes bounds the encoded size of a pull page (0: the default,
	// DefaultPullPageBytes).
	PullPageBytes int
	Logger        *slog.Logger

	// WebSessionIdle and WebSessionMax end a live-view session unused for
	// that long, and one that old however used.
	WebSessionIdle, WebSessionMax time.Duration
	// Streams bounds streams and connections (limits.go).
	Streams StreamLimits
}

// DefaultConfig returns the embedded default: ./fieldwork.db on loopback.
func DefaultConfig() Config {
	return Config{
		DBPath:          "fieldwork.db",
		ListenAddr:      "127.0.0.1:7070",
		MaxMessageBytes: 16 << 20,
		Logger:          slog.New(slog.NewTextHandler(os.Stderr, nil)),
		WebSessionIdle:  8 * time.Hour,
		WebSessionMax:   24 * time.Hour,
		Streams:         DefaultStreamLimits(),
	}
}

// withDefaults fills the zero fields of cfg from DefaultConfig.
func (cfg Config) withDefaults() Config {
	d := DefaultConfig()
	if cfg.Logger == nil {
		cfg.Logger = d.Logger
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = d.MaxMessageBytes
	}
	if cfg.WebSessionIdle <= 0 {
		cfg.WebSessionIdle = d.WebSessionIdle
	}
	if cfg.WebSessionMax <= 0 {
		cfg.WebSessionMax = d.WebSessionMax
	}
	cfg.Streams = cfg.Streams.withDefaults()
	return cfg
}

// Server is a running fieldwork server's parts.
type Server struct {
	cfg    Config
	db     *store.DB
	grpc   *grpc.Server
	health *health.Server
	log    *slog.Logger

	sessions *webSessions
	signIns  *signInLimiter
	streams  *streamCounts
	metrics  *metrics
	certs    *certPair // nil without TLS
	// clockSkew moves the live view's clock (tests only, see export_test.go).
	clockSkew atomic.Int64
}

func (s *Server) now() time.Time { return time.Now().Add(time.Duration(s.clockSkew.Load())) }

// New opens the database, loads the built-in frameworks and any framework
// files, and builds the gRPC server. It does not listen.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.PullPageBytes <= 0 {
		cfg.PullPageBytes = DefaultPullPageBytes
	}
	db, err := store.Open(ctx, cfg.DBPath)
	if err != nil {
		return nil, err
	}
	db.SetLogger(cfg.Logger)
	s := &Server{cfg: cfg, db: db, log: cfg.Logger}
	s.sessions = newWebSessions(s.now, cfg.WebSessionIdle, cfg.WebSessionMax)
	s.signIns = newSignInLimiter(s.now)
	s.streams = newStreamCounts(cfg.Streams)
	s.metrics = newMetrics(db)
	if err := s.loadFrameworks(ctx); err != nil {
		db.Close()
		return nil, err
	}
	opts := append(cfg.Streams.serverOptions(),
		grpc.MaxRecvMsgSize(cfg.MaxMessageBytes),
		grpc.ForceServerCodecV2(wirecodec.Codec()), // names a string field that is not UTF-8
		// Metrics outermost: they see every call's final code, a refusal
		// by authentication or policy too.
		grpc.ChainUnaryInterceptor(s.metrics.grpc.UnaryServerInterceptor(), s.unaryInterceptor, versionUnary),
		grpc.ChainStreamInterceptor(s.metrics.grpc.StreamServerInterceptor(), s.streamInterceptor, versionStream),
	)
	if cfg.TLSCertFile != "" || cfg.TLSKeyFile != "" {
		certs, err := loadCertPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			db.Close()
			return nil, err
		}
		s.certs = certs
		opts = append(opts, grpc.Creds(credentials.NewTLS(certs.config())))
	}
	g := grpc.NewServer(opts...)
	fieldworkv1.RegisterFrameworkServiceServer(g, &frameworkService{db: db})
	fieldworkv1.RegisterInspectionServiceServer(g, &inspectionService{db: db})
	fieldworkv1.RegisterAnswerServiceServer(g, &answerService{db: db})
	// Pulls and dataset exports read their pages through one gate.
	pages := newPageGate(cfg.Streams.PagesAtOnce)
	fieldworkv1.RegisterSyncServiceServer(g, &syncService{db: db, pageBytes: cfg.PullPageBytes, pages: pages, metrics: s.metrics})
	fieldworkv1.RegisterReportServiceServer(g, &reportService{db: db, pageBytes: cfg.PullPageBytes, pages: pages})
	fieldworkv1.RegisterAdminServiceServer(g, &adminService{db: db})
	fieldworkv1.RegisterAuditServiceServer(g, &auditService{db: db})
	fieldworkv1.RegisterMarkingServiceServer(g, &markingService{db: db})
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(g, s.health)
	reflection.Register(g)
	s.metrics.grpc.InitializeMetrics(g) // every method's series at 0 from the start
	s.grpc = g
	return s, nil
}

func (s *Server) loadFrameworks(ctx context.Context) error {
	fws, raws, err := framework.Builtin()
	if err != nil {
		return err
	}
	for i, fw := range fws {
		if err := s.db.PutFramework(ctx, fw, raws[i], true); err != nil {
			return err
		}
	}
	for _, path := range s.cfg.FrameworkFiles {
		raw, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("load framework: %w", err)
		}
		fw, err := framework.Load(raw)
		if err != nil {
			return fmt.Errorf("load framework %s: %w", path, err)
		}
		if err := s.db.PutFramework(ctx, fw, raw, false); err != nil {
			return err
		}
		s.log.Info("framework loaded", "id", fw.ID, "version", fw.Version, "file", path)
	}
	return nil
}

// DB returns the server's store (for commands such as admin-token).
func (s *Server) DB() *store.DB { return s.db }

// GRPC returns the gRPC server, e.g. to serve it on a bufconn listener.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Serve serves on lis until ctx is done, then stops gracefully (in-flight
// RPCs get up to ten seconds).
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.grpc.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.health.Shutdown()
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.grpc.Stop()
	}
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// Listen opens the configured address, refusing plaintext on a
// non-loopback address unless AllowInsecure is set.
func (s *Server) Listen() (net.Listener, error) { return s.ListenOn(s.cfg.ListenAddr) }

// ListenOn opens addr under the same rule as Listen.
func (s *Server) ListenOn(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	tls := s.cfg.TLSCertFile != ""
	if !tls && !s.cfg.AllowInsecure && !isLoopback(host) {
		return nil, fmt.Errorf("refusing to serve without TLS on non-loopback address %s: give --tls-cert and --tls-key, or --insecure", addr)
	}
	return net.Listen("tcp", addr)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Close stops the server and closes the database.
func (s *Server) Close() error {
	s.grpc.Stop()
	return s.db.Close()
}
