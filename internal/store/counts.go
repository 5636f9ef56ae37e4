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
		if len(fw.References(q)) > 0 {
			continue // its rules name answers: judged case by case below
		}
		counted.add(fw, inspectionID, framework.Facts{Attributes: attrs}, q, v, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for _, b := range bs {
		if fw := fws[b.id]; fw.AnswerConditions() {
			if err := countDependents(ctx, tx, counted, fw, b.id); err != nil {
				return nil, fmt.Errorf("inspection %s: %w", b.id, err)
			}
		}
	}
	return counted, nil
}

// countDependents counts an inspection's answers to the questions whose
// rules name answers, case by case: each on its case's answers to the
// questions its rules name, read with it (and only those).
func countDependents(ctx context.Context, tx *sql.Tx, counted countDeltas, fw *framework.Framework, inspectionID string) error {
	var ids []any
	seen := map[string]bool{}
	for _, q := range fw.Questions() {
		if refs := fw.References(q.ID); len(refs) > 0 {
			for _, id := range append([]string{q.ID}, refs...) {
				if !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
			}
		}
	}
	marks, args := sqlite.InList(ids)
	rows, err := tx.QueryContext(ctx, `SELECT a.case_id, c.attributes, a.question_id, a.value FROM answers a JOIN cases c ON c.id = a.case_id
		WHERE c.inspection_id = ? AND a.question_id IN (`+marks+`) ORDER BY a.case_id`, append([]any{inspectionID}, args...)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var caseID, raw string
	answers := map[string]string{}
	settle := func() error {
		if len(answers) == 0 {
			return nil
		}
		var attrs map[string]string
		if err := json.Unmarshal([]byte(raw), &attrs); err != nil {
			return fmt.Errorf("case attributes: %w", err)
		}
		facts := framework.CaseFacts(attrs, answers)
		for q, v := range answers {
			if len(fw.References(q)) > 0 {
				counted.add(fw, inspectionID, facts, q, v, 1)
			}
		}
		answers = map[string]string{}
		return nil
	}
	for rows.Next() {
		var id, a, q, v string
		if err := rows.Scan(&id, &a, &q, &v); err != nil {
			return err
		}
		if id != caseID {
			if err := settle(); err != nil {
				return err
			}
			caseID, raw = id, a
		}
		answers[q] = v
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return settle()
}

// countDeltas are changes to question_counts made by a transaction's
// writes, applied once at its end: (inspection, question, value) → delta.
type countDeltas map[[3]string]int

// add counts n answers of a value to a question of one case (n < 0: takes
// them away), if such an answer counts for the case with the given facts:
// one that no longer applies to it (framework.NoLongerApplies) is in no
// kept count.
func (d countDeltas) add(fw *framework.Framework, inspectionID string, facts framework.Facts, questionID, value string, n int) {
	if fw.NoLongerApplies(facts, questionID, value) {
		return
	}
	d[[3]string{inspectionID, questionID, value}] += n
}

// moveCase moves a case's answers to the given questions out of the kept
// counts as they counted with the facts before and back in as they count
// with the facts after. With rules on answers, one answer's change can
// make another count or not, so the questions moved are those written and
// their dependents (framework.Dependents).
func (d countDeltas) moveCase(fw *framework.Framework, inspectionID string, before, after framework.Facts, questions []string) {
	seen := make(map[string]bool, len(questions))
	move := func(q string) {
		if seen[q] {
			return
		}
		seen[q] = true
		if v, ok := before.Answer(q); ok {
			d.add(fw, inspectionID, before, q, v, -1)
		}
		if v, ok := after.Answer(q); ok {
			d.add(fw, inspectionID, after, q, v, +1)
		}
	}
	for _, q := range questions {
		move(q)
		for _, dep := range fw.Dependents(q) {
			move(dep)
		}
	}
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
	answers, err := caseAnswers(ctx, tx, caseID)
	if err != nil {
		return fmt.Errorf("recount case: %w", err)
	}
	questions := make([]string, 0, len(answers))
	for q := range answers {
		questions = append(questions, q)
	}
	counts.moveCase(fw, inspectionID, framework.CaseFacts(old, answers), framework.CaseFacts(after, answers), questions)
	return nil
}

// caseAnswers reads a case's answers: question → value.
func caseAnswers(ctx context.Context, tx *sql.Tx, caseID string) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT question_id, value FROM answers WHERE case_id = ?`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var q, v string
		if err := rows.Scan(&q, &v); err != nil {
			return nil, err
		}
		out[q] = v
	}
	return out, rows.Err()
}
