package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// genpooled writes the database as the server holds it: every kept count
// right (a recount finds nothing to fix), nothing left for the server to
// do at start (no pending task), and breakdowns with every value.
func TestGenpooled_WritesEveryKeptCount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pooled.db")
	if err := run(path, 3*20*66, 20); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var pending, breakdowns int
	if err := raw.QueryRow(`SELECT (SELECT count(*) FROM pending_tasks), (SELECT count(*) FROM breakdown_counts)`).Scan(&pending, &breakdowns); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if pending != 0 || breakdowns == 0 {
		t.Errorf("%d pending task(s), %d breakdown counts; want none left for the server, and counts written", pending, breakdowns)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := db.Recount(ctx, false)
	if err != nil || len(ms) != 0 {
		t.Fatalf("recount = %d mismatch(es) %+v, %v; want none", len(ms), ms[:min(len(ms), 5)], err)
	}
	all, err := db.Inspections(ctx, framework.User{Name: "admin", Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range all {
		ids = append(ids, in.ID)
	}
	_, in, err := db.PooledSample(ctx, store.PoolOptions{By: []string{"ethnicity"}}, ids...)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 3 || in.CaseCount != 60 || len(in.ByCounts["ethnicity"]) < 3 {
		t.Errorf("%d inspections, %d cases, ethnicity values %d; want 3, 60 and several", len(ids), in.CaseCount, len(in.ByCounts["ethnicity"]))
	}
}
