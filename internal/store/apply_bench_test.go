package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
)

// BenchmarkApplyOps measures the server's one writer alone: a push's
// batches of 1000 new answers applied by ApplyOps (decide, answer,
// history, change, audit, op record, kept counts, commit), 20,000 answers
// a round on a fresh database, without gRPC or a client. A push's wall
// time is bounded by this path, which runs one transaction at a time:
//
//	go test ./internal/store -run XXX -bench ApplyOps -benchtime 10x
func BenchmarkApplyOps(b *testing.B) {
	const n, batch = 20000, 1000
	pdu, _, err := framework.BuiltinByID("probation-pdu-2023")
	if err != nil {
		b.Fatal(err)
	}
	var qs []string
	for _, q := range pdu.Questions() {
		if q.Type == framework.TypeYesNo {
			qs = append(qs, q.ID)
		}
	}
	ctx := context.Background()
	var total time.Duration
	b.StopTimer()
	for range b.N {
		db := mustOpen(b)
		id := mustInspection(b, db)
		var sb strings.Builder
		sb.WriteString("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n")
		for i := range n/len(qs) + 1 {
			fmt.Fprintf(&sb, "B-%04d,licence,female,40-49,white,high,1,T,false,insp.a\n", i)
		}
		rows, err := interchange.ReadCases(strings.NewReader(sb.String()))
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := db.ImportCases(ctx, admin, id, rows); err != nil {
			b.Fatal(err)
		}
		ops := make([]framework.Op, n)
		for i := range ops {
			ops[i] = op(id, fmt.Sprintf("B-%04d", i/len(qs)), qs[i%len(qs)], "yes", 0)
		}
		b.StartTimer()
		start := time.Now()
		for lo := 0; lo < n; lo += batch {
			if _, err := db.ApplyOps(ctx, adminUser(), ops[lo:lo+batch]); err != nil {
				b.Fatal(err)
			}
		}
		total += time.Since(start)
		b.StopTimer()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "answers/s")
}
