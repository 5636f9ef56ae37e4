package store_test

import (
	"context"
	"database/sql"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// BenchmarkPooledReport measures a national pooled report over a database
// made by scripts/genpooled (about 10 million answers) from the kept
// counts, without and with breakdowns (--by), against the raw GROUP BY
// over every answer on the same file in the same run:
//
//	go run ./scripts/genpooled -out /tmp/pooled.db -answers 10000000
//	FIELDWORK_POOLED_DB=/tmp/pooled.db go test ./internal/store -run XXX -bench Pooled/by -benchtime 20x
//	FIELDWORK_POOLED_DB=/tmp/pooled.db go test ./internal/store -run XXX -bench Pooled/groupby -benchtime 3x
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

	// Each case of a pooled report as the server computes it (GetReport):
	// the kept counts, by attribute too, and every figure.
	for _, by := range [][]string{nil, {"sex"}, {"ethnicity", "age_band", "sex", "unit"}, {"pdu"},
		{"sentence_type", "sex", "age_band", "ethnicity", "rosh", "mappa", "pdu", "contact_suspended"}} {
		name := "by=" + strings.Join(by, ",")
		if by == nil {
			name = "by=none"
		}
		var lat []time.Duration
		b.Run(name, func(b *testing.B) {
			cpu0 := processCPU()
			for b.Loop() {
				start := time.Now()
				fw, in, err := db.PooledSample(ctx, store.PoolOptions{By: by}, ids...)
				if err != nil {
					b.Fatal(err)
				}
				r := aggregate.ComputeWith(fw, in, aggregate.Options{By: by})
				if r.Cases == 0 || len(r.Breakdowns) < len(by) {
					b.Fatal("empty report")
				}
				lat = append(lat, time.Since(start))
			}
			// CPU as well as wall time: on a shared machine the wall time
			// of a report is mostly waiting for a core.
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "kept-p50-ms")
		})
	}
	// The baseline: the per-question figures by a GROUP BY over every
	// answer (about 11 s a time: run it alone, -bench Pooled/groupby
	// -benchtime 3x).
	b.Run("groupby", func(b *testing.B) {
		for b.Loop() {
			rows, err := raw.Query(`SELECT a.question_id, a.value, count(*) FROM answers a GROUP BY a.question_id, a.value`)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
			}
			rows.Close()
		}
		b.ReportMetric(float64(answers), "answers")
		b.ReportMetric(float64(len(ids)), "inspections")
	})
}

// processCPU is the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
