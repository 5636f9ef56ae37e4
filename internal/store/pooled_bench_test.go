package store_test

import (
	"context"
	"database/sql"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// BenchmarkPooledReport measures a national pooled report over a database
// made by scripts/genpooled (about 10 million answers) from the kept
// counts, against the raw GROUP BY over every answer on the same file in
// the same run:
//
//	go run ./scripts/genpooled -out /tmp/pooled.db -answers 10000000
//	FIELDWORK_POOLED_DB=/tmp/pooled.db go test ./internal/store -run XXX -bench Pooled -benchtime 20x
func BenchmarkPooledReport(b *testing.B) {
	path := os.Getenv("FIELDWORK_POOLED_DB")
	if path == "" {
		b.Skip("set FIELDWORK_POOLED_DB to a database made by scripts/genpooled")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	raw, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	var ids []string
	rows, err := raw.Query(`SELECT id FROM inspections ORDER BY id`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	var answers int
	raw.QueryRow(`SELECT count(*) FROM answers`).Scan(&answers)

	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		fw, in, err := db.PooledCounts(ctx, ids...)
		if err != nil {
			b.Fatal(err)
		}
		r := aggregate.Compute(fw, in)
		if r.Cases == 0 {
			b.Fatal("empty report")
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "kept-p50-ms")

	// The baseline: the same figures by a GROUP BY over every answer.
	var group []time.Duration
	for range 3 {
		start := time.Now()
		rows, err := raw.Query(`SELECT a.question_id, a.value, count(*) FROM answers a GROUP BY a.question_id, a.value`)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()
		group = append(group, time.Since(start))
	}
	sort.Slice(group, func(i, j int) bool { return group[i] < group[j] })
	b.ReportMetric(float64(group[1].Milliseconds()), "groupby-p50-ms")
	b.ReportMetric(float64(answers), "answers")
	b.ReportMetric(float64(len(ids)), "inspections")
}
