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

// Mismatch is a kept count that differs from a full recount. Attribute is
// "" for a per-question count (question_counts); QuestionID is "" for a
// count of cases by attribute value (attribute_counts); with both, a
// count by attribute value (breakdown_counts). Unreadable is a whole
// breakdown_counts row (Attribute, AttributeValue) that cannot be read
// (errMalformedRow): none of its counts is known, and a fix rewrites them
// all.
type Mismatch struct {
	InspectionID, Attribute, AttributeValue, QuestionID, Value string
	Kept, Counted                                              int
	Unreadable                                                 bool
}

// Recount recounts every answer and case and compares with every kept
// count; with fix, it replaces the kept counts that differ by the recount
// (in one transaction).
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

// recount works inspection by inspection, so that it holds one
// inspection's counts at a time whatever the database's size.
func (db *DB) recount(ctx context.Context, tx *sql.Tx, fix bool) ([]Mismatch, error) {
	ids, err := queryStrings(ctx, tx, `SELECT id FROM inspections ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var out []Mismatch
	for _, id := range ids {
		fw, _, err := db.inspectionFramework(ctx, tx, id)
		if err != nil {
			return nil, fmt.Errorf("inspection %s: %w", id, err)
		}
		counted, err := countInspection(ctx, tx, fw, id)
		if err != nil {
			return nil, fmt.Errorf("inspection %s: %w", id, err)
		}
		ms, err := compareKept(ctx, tx, fw, id, counted)
		if err != nil {
			return nil, err
		}
		if fix && len(ms) > 0 {
			if err := rewriteCounts(ctx, tx, id, counted); err != nil {
				return nil, err
			}
		}
		out = append(out, ms...)
	}
	// Kept counts of an inspection that does not exist count nothing.
	orphans, err := queryStrings(ctx, tx, `SELECT inspection_id FROM question_counts WHERE n != 0 AND inspection_id NOT IN (SELECT id FROM inspections)
		UNION SELECT inspection_id FROM breakdown_counts WHERE inspection_id NOT IN (SELECT id FROM inspections)
		UNION SELECT inspection_id FROM attribute_counts WHERE n != 0 AND inspection_id NOT IN (SELECT id FROM inspections)`)
	if err != nil {
		return nil, err
	}
	for _, id := range orphans {
		ms, err := compareKept(ctx, tx, nil, id, newCountDeltas())
		if err != nil {
			return nil, err
		}
		if fix {
			if err := rewriteCounts(ctx, tx, id, newCountDeltas()); err != nil {
				return nil, err
			}
		}
		out = append(out, ms...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key().less(out[j].key()) })
	return out, nil
}

func (m Mismatch) key() countKey {
	return countKey{m.InspectionID, m.Attribute, m.AttributeValue, m.QuestionID, m.Value}
}

func (k countKey) less(o countKey) bool {
	a := [5]string{k.inspection, k.attribute, k.attrValue, k.question, k.value}
	b := [5]string{o.inspection, o.attribute, o.attrValue, o.question, o.value}
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// compareKept lists the kept counts of an inspection of fw (nil: one that
// no longer exists) that differ from counted (zero counts and absent rows
// are the same).
func compareKept(ctx context.Context, tx *sql.Tx, fw *framework.Framework, inspectionID string, deltas countDeltas) ([]Mismatch, error) {
	counted, kept := deltas.all(), map[countKey]int{}
	for _, q := range []string{
		`SELECT '', '', question_id, value, n FROM question_counts WHERE inspection_id = ? AND n != 0`,
		`SELECT attribute, value, '', '', n FROM attribute_counts WHERE inspection_id = ? AND n != 0`,
	} {
		err := eachRow(ctx, tx, q, []any{inspectionID}, func(k countKey, n int) {
			k.inspection = inspectionID
			kept[k] = n
		})
		if err != nil {
			return nil, err
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT attribute, attr_value, counts FROM breakdown_counts WHERE inspection_id = ?`, inspectionID)
	if err != nil {
		return nil, err
	}
	nq := -1 // an inspection that no longer exists: questions by position
	if fw != nil {
		nq = len(fw.Questions())
	}
	var out []Mismatch
	// A row that cannot be read is one mismatch, not an error: rewriting
	// it from the counted is what a recount is for, and every write that
	// touches it is refused until then (flush).
	unreadable := map[rowKey]bool{}
	for rows.Next() {
		var attr, av string
		var packed []byte
		if err := rows.Scan(&attr, &av, &packed); err != nil {
			rows.Close()
			return nil, err
		}
		var r breakdownRow
		if _, err := unpackInto(&r, packed, nq); err != nil { // errMalformedRow
			unreadable[rowKey{inspectionID, attr, av}] = true
			out = append(out, Mismatch{InspectionID: inspectionID, Attribute: attr, AttributeValue: av, Unreadable: true})
			continue
		}
		r.each(fw, func(q, v string, n int) { kept[countKey{inspectionID, attr, av, q, v}] = n })
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	mismatch := func(k countKey, kept, counted int) {
		out = append(out, Mismatch{InspectionID: k.inspection, Attribute: k.attribute, AttributeValue: k.attrValue,
			QuestionID: k.question, Value: k.value, Kept: kept, Counted: counted})
	}
	for k, n := range kept {
		if counted[k] != n {
			mismatch(k, n, counted[k])
		}
	}
	for k, n := range counted {
		if k.question != "" && unreadable[rowKey{k.inspection, k.attribute, k.attrValue}] {
			continue // reported as its row
		}
		if _, ok := kept[k]; !ok && n != 0 {
			mismatch(k, 0, n)
		}
	}
	return out, nil
}

// rewriteCounts replaces an inspection's kept counts by counted.
func rewriteCounts(ctx context.Context, tx *sql.Tx, inspectionID string, counted countDeltas) error {
	for _, table := range []string{"question_counts", "breakdown_counts", "attribute_counts"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE inspection_id = ?`, inspectionID); err != nil {
			return fmt.Errorf("rewrite %s: %w", table, err)
		}
	}
	return counted.flush(ctx, tx)
}

// countInspection is the full recount an inspection's kept counts must
// equal: every answer that counts for its case (countDeltas.add, the rule
// the kept counts follow) and every case (countDeltas.addCase). SQLite
// groups the answers by their case's attributes, so the rule is judged
// once per distinct attributes, question and value rather than once per
// answer.
func countInspection(ctx context.Context, tx *sql.Tx, fw *framework.Framework, inspectionID string) (countDeltas, error) {
	counted := newCountDeltas()
	parsed := map[string]map[string]string{}
	attrsOf := func(raw string) (map[string]string, error) {
		attrs, ok := parsed[raw]
		if !ok {
			if err := json.Unmarshal([]byte(raw), &attrs); err != nil {
				return nil, fmt.Errorf("case attributes: %w", err)
			}
			parsed[raw] = attrs
		}
		return attrs, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT attributes, count(*) FROM cases WHERE inspection_id = ? GROUP BY attributes`, inspectionID)
	if err != nil {
		return countDeltas{}, err
	}
	for rows.Next() {
		var raw string
		var n int
		if err := rows.Scan(&raw, &n); err != nil {
			rows.Close()
			return countDeltas{}, err
		}
		attrs, err := attrsOf(raw)
		if err != nil {
			rows.Close()
			return countDeltas{}, err
		}
		counted.addCase(fw, inspectionID, attrs, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return countDeltas{}, err
	}
	rows, err = tx.QueryContext(ctx, `SELECT c.attributes, a.question_id, a.value, count(*) FROM answers a JOIN cases c ON c.id = a.case_id
		WHERE c.inspection_id = ? GROUP BY c.attributes, a.question_id, a.value`, inspectionID)
	if err != nil {
		return countDeltas{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var raw, q, v string
		var n int
		if err := rows.Scan(&raw, &q, &v, &n); err != nil {
			return countDeltas{}, err
		}
		attrs, err := attrsOf(raw)
		if err != nil {
			return countDeltas{}, err
		}
		if len(fw.References(q)) > 0 {
			continue // its rules name answers: judged case by case below
		}
		counted.add(fw, inspectionID, framework.Facts{Attributes: attrs}, q, v, n)
	}
	if err := rows.Err(); err != nil {
		return countDeltas{}, err
	}
	rows.Close()
	if fw.AnswerConditions() {
		if err := countDependents(ctx, tx, counted, fw, inspectionID); err != nil {
			return countDeltas{}, err
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

// queryStrings reads one text column.
func queryStrings(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// eachRow calls fn with each row of a query of four texts (a count's key
// but its inspection) and a count.
func eachRow(ctx context.Context, tx *sql.Tx, q string, args []any, fn func(countKey, int)) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k countKey
		var n int
		if err := rows.Scan(&k.attribute, &k.attrValue, &k.question, &k.value, &n); err != nil {
			return err
		}
		fn(k, n)
	}
	return rows.Err()
}
