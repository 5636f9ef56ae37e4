package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// Mismatch is a kept count that differs from a full recount.
type Mismatch struct {
	InspectionID, QuestionID, Value string
	Kept, Counted                   int
}

// Recount recounts every answer and compares with the kept counts; with
// fix, it replaces the kept counts by the recount (in one transaction).
func (db *DB) Recount(ctx context.Context, fix bool) ([]Mismatch, error) {
	var out []Mismatch
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = db.recount(ctx, tx, fix)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("recount: %w", err)
	}
	return out, nil
}

func (db *DB) recount(ctx context.Context, tx *sql.Tx, fix bool) ([]Mismatch, error) {
	counted, err := db.countAnswers(ctx, tx)
	if err != nil {
		return nil, err
	}
	kept := map[[3]string]int{}
	rows, err := tx.QueryContext(ctx, `SELECT inspection_id, question_id, value, n FROM question_counts WHERE n != 0`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k [3]string
		var n int
		if err := rows.Scan(&k[0], &k[1], &k[2], &n); err != nil {
			rows.Close()
			return nil, err
		}
		kept[k] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []Mismatch
	for k, n := range kept {
		if counted[k] != n {
			out = append(out, Mismatch{InspectionID: k[0], QuestionID: k[1], Value: k[2], Kept: n, Counted: counted[k]})
		}
	}
	for k, n := range counted {
		if _, ok := kept[k]; !ok {
			out = append(out, Mismatch{InspectionID: k[0], QuestionID: k[1], Value: k[2], Counted: n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.InspectionID+"\x00"+a.QuestionID+"\x00"+a.Value < b.InspectionID+"\x00"+b.QuestionID+"\x00"+b.Value
	})
	if !fix || len(out) == 0 {
		return out, nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM question_counts`); err != nil {
		return nil, err
	}
	var fresh [][]any
	for k, n := range counted {
		fresh = append(fresh, []any{k[0], k[1], k[2], n})
	}
	if err := sqlite.InsertMany(ctx, tx, `INSERT INTO question_counts (inspection_id, question_id, value, n) VALUES `, `(?, ?, ?, ?)`, ``, fresh); err != nil {
		return nil, err
	}
	return out, nil
}

// countAnswers is the full recount the kept counts must equal: every
// answer that counts for its case (countDeltas.add, the rule the kept
// counts follow), by inspection, question and value. SQLite groups the
// answers by their case's attributes, so the rule is judged once per
// distinct attributes, question and value rather than once per answer.
func (db *DB) countAnswers(ctx context.Context, tx *sql.Tx) (map[[3]string]int, error) {
	fws := map[string]*framework.Framework{}
	rows, err := tx.QueryContext(ctx, `SELECT id, framework_id, framework_version FROM inspections`)
	if err != nil {
		return nil, err
	}
	type binding struct {
		id, fw  string
		version int
	}
	var bs []binding
	for rows.Next() {
		var b binding
		if err := rows.Scan(&b.id, &b.fw, &b.version); err != nil {
			rows.Close()
			return nil, err
		}
		bs = append(bs, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, b := range bs {
		fw, _, err := db.Framework(ctx, b.fw, b.version)
		if err != nil {
			return nil, fmt.Errorf("inspection %s: %w", b.id, err)
		}
		fws[b.id] = fw
	}
	rows, err = tx.QueryContext(ctx, `SELECT c.inspection_id, c.attributes, a.question_id, a.value, count(*) FROM answers a JOIN cases c ON c.id = a.case_id
		GROUP BY c.inspection_id, c.attributes, a.question_id, a.value`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counted := countDeltas{}
	parsed := map[string]map[string]string{}
	for rows.Next() {
		var inspectionID, raw, q, v string
		var n int
		if err := rows.Scan(&inspectionID, &raw, &q, &v, &n); err != nil {
			return nil, err
		}
		attrs, ok := parsed[raw]
		if !ok {
			if err := json.Unmarshal([]byte(raw), &attrs); err != nil {
				return nil, fmt.Errorf("inspection %s: case attributes: %w", inspectionID, err)
			}
			parsed[raw] = attrs
		}
		fw := fws[inspectionID]
		if fw == nil {
			return nil, fmt.Errorf("answers of inspection %s, which does not exist", inspectionID)
		}
		counted.add(fw, inspectionID, attrs, q, v, n)
	}
	return counted, rows.Err()
}

// countDeltas are changes to question_counts made by a transaction's
// writes, applied once at its end: (inspection, question, value) → delta.
type countDeltas map[[3]string]int

// add counts n answers of a value to a question of one case (n < 0: takes
// them away), if such an answer counts for the case: one that no longer
// applies to it (framework.NoLongerApplies) is in no kept count.
func (d countDeltas) add(fw *framework.Framework, inspectionID string, attrs map[string]string, questionID, value string, n int) {
	if fw.NoLongerApplies(attrs, questionID, value) {
		return
	}
	d[[3]string{inspectionID, questionID, value}] += n
}

func (d countDeltas) flush(ctx context.Context, tx *sql.Tx) error {
	for k, n := range d {
		if n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO question_counts (inspection_id, question_id, value, n) VALUES (?, ?, ?, ?)
			ON CONFLICT (inspection_id, question_id, value) DO UPDATE SET n = n + excluded.n`, k[0], k[1], k[2], n); err != nil {
			return fmt.Errorf("update counts: %w", err)
		}
	}
	return nil
}

// recountCase moves a case's answers out of and into the kept counts when
// its attributes change from before (as stored) to after: an answer whose
// question stops applying leaves them, one whose question applies again
// comes back (countDeltas.add decides each). The answers stay as they are:
// the change is accepted whatever it does to them.
func recountCase(ctx context.Context, tx *sql.Tx, counts countDeltas, fw *framework.Framework, inspectionID, caseID, before string, after map[string]string) error {
	var old map[string]string
	if err := json.Unmarshal([]byte(before), &old); err != nil {
		return fmt.Errorf("case %s attributes: %w", caseID, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT question_id, value FROM answers WHERE case_id = ?`, caseID)
	if err != nil {
		return fmt.Errorf("recount case: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var q, v string
		if err := rows.Scan(&q, &v); err != nil {
			return fmt.Errorf("recount case: %w", err)
		}
		counts.add(fw, inspectionID, old, q, v, -1)
		counts.add(fw, inspectionID, after, q, v, +1)
	}
	return rows.Err()
}
