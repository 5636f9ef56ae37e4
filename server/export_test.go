package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// HasPolicy reports whether a full method name has an access policy entry.
func HasPolicy(method string) bool { _, ok := policy[method]; return ok }

// AdvanceClock moves the live view's clock (sessions, sign-in limits) by d.
func AdvanceClock(s *Server, d time.Duration) { s.clockSkew.Add(int64(d)) }

// HTTPError answers a live-view request with err as the live view does.
func HTTPError(w http.ResponseWriter, err error) {
	(&Server{log: slog.New(slog.DiscardHandler)}).httpError(w, err)
}

// HoldPerCaseGate takes the one place for a pooled report with per-case
// sections until the returned func is called.
func HoldPerCaseGate() func() {
	perCaseGate <- struct{}{}
	return func() { <-perCaseGate }
}

// FeedMarkingPairs makes the agreement figures read pairs from pairs (by
// inspection) instead of the store, until restore is called.
func FeedMarkingPairs(pairs map[string][]framework.MarkingPair) (restore func()) {
	was := markingPairs
	markingPairs = func(_ context.Context, _ *store.DB, id string) ([]framework.MarkingPair, error) {
		return pairs[id], nil
	}
	return func() { markingPairs = was }
}

// SetTableRows sets how many rows a live page's table may have before it
// is drawn in pages, and the rows of a page, until the returned func.
func SetTableRows(inline, page int) (restore func()) {
	oi, op := maxInlineRows, tablePageRows
	maxInlineRows, tablePageRows = inline, page
	return func() { maxInlineRows, tablePageRows = oi, op }
}
