package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// BenchmarkHistoryGroupsOfEverySize writes history groups of 145 to 400
// rows, as a server under mixed load would, and reports how much the
// process grew: the writer connection caches a prepared statement per
// distinct INSERT, so the number of statement lengths sets its memory.
// Run alone, so that nothing else grows the process:
// go test ./internal/store -run XXX -bench HistoryGroupsOfEverySize -benchtime 1x
func BenchmarkHistoryGroupsOfEverySize(b *testing.B) {
	reportGrowth(b, 145, 400, func(ctx context.Context, tx *sql.Tx, n int) error {
		rows := make([][]any, 0, n)
		for k := range n {
			rows = append(rows, []any{fmt.Sprintf("case-%d-%d", n, k), "2.1.1", "yes", "", int64(1), "u", "d", "t", nil, nil})
		}
		return sqlite.InsertMany(ctx, tx, `INSERT INTO answer_history (case_id, question_id, value, note, revision, updated_by, device_id, updated_at, op_id, device_seq) VALUES `,
			`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``, rows)
	})
}

// BenchmarkOpRecordLookupsOfEverySize looks up the op records of groups of
// 145 to 500 ops (one IN list each) and reports how much the process grew.
// go test ./internal/store -run XXX -bench OpRecordLookupsOfEverySize -benchtime 1x
func BenchmarkOpRecordLookupsOfEverySize(b *testing.B) {
	reportGrowth(b, 145, 500, func(ctx context.Context, tx *sql.Tx, n int) error {
		ops := make([]framework.Op, n)
		for k := range ops {
			ops[k].ID = fmt.Sprintf("01a20000-0000-7000-8000-%012d", k)
		}
		return newGroupCache().prefetchRecorded(ctx, tx, []*applyRequest{{ops: ops}})
	})
}

// reportGrowth runs step for every group size from lo to hi, each in its
// own write transaction on a new database, and reports how much the
// process's resident set grew.
func reportGrowth(b *testing.B, lo, hi int, step func(ctx context.Context, tx *sql.Tx, n int) error) {
	for b.Loop() {
		ctx := context.Background()
		db, err := Open(ctx, filepath.Join(b.TempDir(), "s.db"))
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		before := rssKiB(b)
		for n := lo; n <= hi; n++ {
			if err := db.write(ctx, func(tx *sql.Tx) error { return step(ctx, tx, n) }); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		b.ReportMetric(float64(rssKiB(b)-before)/1024, "rss-growth-MiB")
		db.Close()
	}
}

// rssKiB is this process's resident set size.
func rssKiB(b *testing.B) int {
	body, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for _, l := range strings.Split(string(body), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	b.Skip("no VmRSS")
	return 0
}
