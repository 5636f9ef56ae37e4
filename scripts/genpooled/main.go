// The genpooled command writes a server database holding a national-scale
// pooled sample for the pooled-report benchmark: many PDU inspections of
// probation-pdu-2023 whose answers add up to about -answers rows, their
// cases spread over every value of each attribute. It writes the cases and
// answers directly (not through the API) for speed (na where a question
// does not apply, framework.Applies), then fills every kept count by the
// server's own full recount (store.DB.Recount with fix), so the file is as
// the server would hold it: fieldworkd serves it at once, and `fieldworkd
// recount` finds nothing to fix.
//
//	go run ./scripts/genpooled -out /tmp/pooled.db -answers 10000000
package main

import (
	"context"
	"database/sql"
	"encoding/json"
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
			attrs := map[string]string{"pdu": fmt.Sprintf("PDU %03d", i), "sentence_type": []string{"community", "licence"}[c%2], "contact_suspended": []string{"false", "false", "false", "true"}[rng.IntN(4)]}
			for _, a := range fw.Attributes {
				if _, set := attrs[a.Name]; !set && len(a.Values) > 0 {
					attrs[a.Name] = a.Values[rng.IntN(len(a.Values))]
				}
			}
			raw, _ := json.Marshal(attrs)
			if _, err := caseStmt.Exec(caseID, id, fmt.Sprintf("C-%05d", c), string(raw)); err != nil {
				return err
			}
			facts := framework.Facts{Attributes: attrs}
			for _, q := range qs {
				v := "no"
				switch st, _ := fw.Applies(q, facts); {
				case st != framework.Applies:
					v = "na"
				case q.Type == framework.TypeCount:
					v = fmt.Sprint(1 + rng.IntN(4))
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
	conn.Close()
	// Every kept count by the server's own rule and code.
	counting := time.Now()
	db, err = store.Open(ctx, path)
	if err != nil {
		return err
	}
	if _, err := db.Recount(ctx, true); err != nil {
		db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "kept counts in %s\n", time.Since(counting).Round(time.Second))
	fmt.Printf("%s: %d inspections, %d answers in %s\n", path, inspections, total, time.Since(start).Round(time.Second))
	return nil
}
