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

// The kept counts: what pooled reports read instead of every answer, kept
// current inside every write's transaction (recount.go checks them).
//
//   - question_counts: the answers that count, by inspection, question and
//     value;
//   - breakdown_counts: the same, by the value each of the framework's
//     attributes has on the answer's case, for breakdowns (--by);
//   - attribute_counts: the cases of each attribute value, for a
//     breakdown's columns and the sample profile.

// countKey names one kept count. attribute "" is a question_counts row;
// question "" an attribute_counts row (attrValue is the value, value
// empty); both set a breakdown_counts row.
type countKey struct {
	inspection           string
	attribute, attrValue string
	question, value      string
}

// countDeltas are changes to the kept counts made by a transaction's
// writes, applied once at its end (flush).
type countDeltas map[countKey]int

// add counts n answers of a value to a question of one case (n < 0: takes
// them away), if such an answer counts for the case with the given facts:
// one that no longer applies to it (framework.NoLongerApplies) is in no
// kept count. Each counts once per question and once by every attribute's
// value on the case.
func (d countDeltas) add(fw *framework.Framework, inspectionID string, facts framework.Facts, questionID, value string, n int) {
	if fw.NoLongerApplies(facts, questionID, value) {
		return
	}
	d[countKey{inspection: inspectionID, question: questionID, value: value}] += n
	for _, a := range fw.Attributes {
		d[countKey{inspectionID, a.Name, facts.Attributes[a.Name], questionID, value}] += n
	}
}

// addCase counts n cases with the given attributes (n < 0: takes them
// away), by every attribute's value.
func (d countDeltas) addCase(fw *framework.Framework, inspectionID string, attrs map[string]string, n int) {
	for _, a := range fw.Attributes {
		d[countKey{inspection: inspectionID, attribute: a.Name, attrValue: attrs[a.Name]}] += n
	}
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

// flush adds the deltas to the kept counts: one multi-row upsert per table
// (per 400 rows), in key order so that the rows of a table's pages are
// touched together.
func (d countDeltas) flush(ctx context.Context, tx *sql.Tx) error {
	keys := make([]countKey, 0, len(d))
	for k, n := range d {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	var questions, breakdowns, cases [][]any
	for _, k := range keys {
		n := d[k]
		switch {
		case k.attribute == "":
			questions = append(questions, []any{k.inspection, k.question, k.value, n})
		case k.question == "":
			cases = append(cases, []any{k.inspection, k.attribute, k.attrValue, n})
		default:
			breakdowns = append(breakdowns, []any{k.inspection, k.attribute, k.attrValue, k.question, k.value, n})
		}
	}
	for _, t := range []struct {
		head, row, tail string
		rows            [][]any
	}{
		{`INSERT INTO question_counts (inspection_id, question_id, value, n) VALUES `, `(?, ?, ?, ?)`,
			` ON CONFLICT (inspection_id, question_id, value) DO UPDATE SET n = n + excluded.n`, questions},
		{`INSERT INTO breakdown_counts (inspection_id, attribute, attr_value, question_id, value, n) VALUES `, `(?, ?, ?, ?, ?, ?)`,
			` ON CONFLICT (inspection_id, attribute, attr_value, question_id, value) DO UPDATE SET n = n + excluded.n`, breakdowns},
		{`INSERT INTO attribute_counts (inspection_id, attribute, value, n) VALUES `, `(?, ?, ?, ?)`,
			` ON CONFLICT (inspection_id, attribute, value) DO UPDATE SET n = n + excluded.n`, cases},
	} {
		if err := sqlite.InsertMany(ctx, tx, t.head, t.row, t.tail, t.rows); err != nil {
			return fmt.Errorf("update counts: %w", err)
		}
	}
	return nil
}

// recountCase moves a case's answers out of and into the kept counts when
// its attributes change from before (as stored) to after: an answer whose
// question stops applying leaves them, one whose question applies again
// comes back (countDeltas.add decides each), and every answer that counts
// moves from its old attribute values to its new ones, as does the case.
// The answers stay as they are: the change is accepted whatever it does to
// them.
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
	counts.addCase(fw, inspectionID, old, -1)
	counts.addCase(fw, inspectionID, after, +1)
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
