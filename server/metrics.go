package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// metrics are the server's Prometheus metrics, on a registry of its own
// (tests run many servers in one process; the global registry would mix
// them). Every label value is a method, a gRPC code, a sync result or a
// conflict kind: never a user, a device, an inspection or a case, so a
// scrape holds no personal data and its series stay few (docs/operations.md).
type metrics struct {
	reg  *prometheus.Registry
	grpc *grpcprom.ServerMetrics
	// syncOps counts pushed ops by the result of their ack.
	syncOps *prometheus.CounterVec
	// pullPages and pullChanges count the pages a pull sent, and the
	// changes on them.
	pullPages, pullChanges prometheus.Counter
	// pullDiverged counts pulls whose cursor the change log no longer
	// held: laptops finding the server restored from an earlier copy.
	pullDiverged prometheus.Counter
}

// Sync results as metric labels (syncResult).
const (
	resultApplied  = "applied"
	resultConflict = "conflict"
	resultRefused  = "refused"
	resultReplay   = "replay"
)

func newMetrics(db *store.DB) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		// The ecosystem's interceptors: grpc_server_started_total,
		// grpc_server_handled_total{grpc_code} and the handling-time
		// histogram, by service and method.
		grpc: grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramBuckets([]float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}))),
		syncOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fieldwork_sync_ops_total",
			Help: "Pushed ops acknowledged, by result: applied, conflict (stale base, both values kept), refused (rejected), replay (an op_id already decided, its recorded result sent again).",
		}, []string{"result"}),
		pullPages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fieldwork_sync_pull_pages_total",
			Help: "Pull pages sent.",
		}),
		pullChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fieldwork_sync_pull_changes_total",
			Help: "Changes sent on pull pages.",
		}),
		pullDiverged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fieldwork_sync_pull_diverged_total",
			Help: "Pulls whose cursor the change log no longer held (the server was restored from an earlier copy): each such laptop pulls everything again and sends again what the server lost.",
		}),
	}
	for _, r := range []string{resultApplied, resultConflict, resultRefused, resultReplay} {
		m.syncOps.WithLabelValues(r) // present at 0 before the first push
	}
	m.reg.MustRegister(m.grpc, m.syncOps, m.pullPages, m.pullChanges, m.pullDiverged, &dbCollector{db: db},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// syncResult is an ack's metric label.
func syncResult(a framework.Ack) string {
	switch {
	case a.Duplicate:
		return resultReplay
	case a.Result == framework.OpApplied:
		return resultApplied
	case a.Result == framework.OpConflict:
		return resultConflict
	}
	return resultRefused
}

// countAcks counts a pushed batch's acks by result.
func (m *metrics) countAcks(acks []framework.Ack) {
	for _, a := range acks {
		m.syncOps.WithLabelValues(syncResult(a)).Inc()
	}
}

var (
	descDBBytes = prometheus.NewDesc("fieldwork_db_size_bytes",
		"Size of the SQLite database file.", nil, nil)
	descWALBytes = prometheus.NewDesc("fieldwork_db_wal_size_bytes",
		"Size of the database's write-ahead log (-wal file); it grows while a long read, such as a backup, holds checkpoints back.", nil, nil)
	descConflicts = prometheus.NewDesc("fieldwork_open_conflicts",
		"Conflicts nobody has resolved yet, across every inspection, by kind: answer or written (a written judgement's text).", []string{"kind"}, nil)
)

// dbCollector reads the database's sizes and open conflicts at scrape
// time (store.Health: two file stats and one count query).
type dbCollector struct{ db *store.DB }

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descDBBytes
	ch <- descWALBytes
	ch <- descConflicts
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h, err := c.db.Health(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descDBBytes, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(descDBBytes, prometheus.GaugeValue, float64(h.DBBytes))
	ch <- prometheus.MustNewConstMetric(descWALBytes, prometheus.GaugeValue, float64(h.WALBytes))
	ch <- prometheus.MustNewConstMetric(descConflicts, prometheus.GaugeValue, float64(h.OpenConflicts), "answer")
	ch <- prometheus.MustNewConstMetric(descConflicts, prometheus.GaugeValue, float64(h.OpenWrittenConflicts), "written")
}

// MetricsHandler serves the metrics in Prometheus's text format.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{
		// A failed database read still serves the other series.
		ErrorHandling: promhttp.ContinueOnError,
		// One scrape at a time: a scraper gone wild cannot pile up reads.
		MaxRequestsInFlight: 1,
		Timeout:             10 * time.Second,
	}))
	return mux
}

// ServeMetrics serves MetricsHandler on lis until ctx is done. It is a
// listener of its own, unauthenticated: the metrics hold no personal data,
// and an operator binds it to loopback or a monitoring network
// (--metrics-addr), apart from the live view, which leads reach.
func (s *Server) ServeMetrics(ctx context.Context, lis net.Listener) error {
	hs := &http.Server{Handler: s.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	if err := hs.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}
