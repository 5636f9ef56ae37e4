// The genpooled command writes a server database holding a national-scale
// pooled sample for the pooled-report benchmark: many PDU inspections of
// probation-pdu-2023 whose answers add up to about -answers rows. It writes
// the rows directly (not through the API) for speed, then fills the kept
// per-question counts with a plain GROUP BY: every answer it writes applies
// to its case (na where a question does not), so that equals what
// `fieldworkd recount` checks them against.
//
//	go run ./scripts/genpooled -out /tmp/pooled.db -answers 10000000
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

func main() {
	out := flag.String("out", "pooled.db", "database `file` to create (must not exist)")
	answers := flag.Int("answers", 10_000_000, "approximate number of answers")
	casesPer := flag.Int("cases", 1000, "cases per inspection")
	flag.Parse()
	if err := run(*out, *answers, *casesPer); err != nil {
		fmt.Fprintln(os.Stderr, "genpooled:", err)
		os.Exit(1)
	}
}

func run(path string, answers, casesPer int) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists", path)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	fws, raws, err := framework.Builtin()
	if err != nil {
		return err
	}
	if err := db.PutFramework(ctx, fws[0], raws[0], true); err != nil {
		return err
	}
	db.Close()
	fw := fws[0]
	qs := fw.Questions()
	perCase := len(qs)
	inspections := (answers + casesPer*perCase - 1) / (casesPer * perCase)
	conn, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=OFF&_foreign_keys=off")
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	start := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC().Format(time.RFC3339Nano)
	total := 0
	for i := range inspections {
		tx, err := conn.Begin()
		if err != nil {
			return err
		}
		id := uuid.Must(uuid.NewV7()).String()
		if _, err := tx.Exec(`INSERT INTO inspections (id, name, unit, framework_id, framework_version, status, created_at, created_by) VALUES (?, ?, ?, ?, ?, 'locked', ?, 'genpooled')`,
			id, fmt.Sprintf("PDU %03d", i), fmt.Sprintf("PDU %03d", i), fw.ID, fw.Version, now); err != nil {
			return err
		}
		caseStmt, _ := tx.Prepare(`INSERT INTO cases (id, inspection_id, case_ref, attributes, inspector, status) VALUES (?, ?, ?, ?, 'insp', 'locked')`)
		ansStmt, _ := tx.Prepare(`INSERT INTO answers (case_id, question_id, value, note, revision, updated_by, device_id, updated_at) VALUES (?, ?, ?, '', 1, 'insp', 'gen', ?)`)
		// Each PDU has its own quality, so units differ.
		quality := 0.3 + 0.5*rng.Float64()
		for c := range casesPer {
			caseID := uuid.Must(uuid.NewV7()).String()
			mappa := "none"
			if rng.IntN(4) == 0 {
				mappa = "1"
			}
			attrs := fmt.Sprintf(`{"age_band":"26-39","contact_suspended":"false","ethnicity":"white","mappa":%q,"pdu":"PDU %03d","rosh":"medium","sentence_type":%q,"sex":"male"}`,
				mappa, i, []string{"community", "licence"}[c%2])
			if _, err := caseStmt.Exec(caseID, id, fmt.Sprintf("C-%05d", c), attrs); err != nil {
				return err
			}
			for _, q := range qs {
				v := "no"
				switch {
				case q.Type == framework.TypeCount:
					v = fmt.Sprint(1 + rng.IntN(4))
				case len(q.AppliesWhen) > 0 && mappa == "none":
					v = "na"
				case rng.Float64() < 0.08:
					v = "na"
				case rng.Float64() < quality:
					v = "yes"
				}
				if _, err := ansStmt.Exec(caseID, q.ID, v, now); err != nil {
					return err
				}
				total++
			}
		}
		caseStmt.Close()
		ansStmt.Close()
		if err := tx.Commit(); err != nil {
			return err
		}
		if i%10 == 9 {
			fmt.Fprintf(os.Stderr, "%d inspections, %d answers, %s\n", i+1, total, time.Since(start).Round(time.Second))
		}
	}
	if _, err := conn.Exec(`INSERT INTO question_counts (inspection_id, question_id, value, n)
		SELECT c.inspection_id, a.question_id, a.value, count(*) FROM answers a JOIN cases c ON c.id = a.case_id
		GROUP BY c.inspection_id, a.question_id, a.value`); err != nil {
		return err
	}
	fmt.Printf("%s: %d inspections, %d answers in %s\n", path, inspections, total, time.Since(start).Round(time.Second))
	return nil
}
