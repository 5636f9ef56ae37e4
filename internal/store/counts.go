package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// The kept counts: what pooled reports read instead of every answer, kept
// current inside every write's transaction (recount.go checks them).
//
//   - question_counts: the answers that count, by inspection, question and
//     value;
//   - breakdown_counts: the same counts by inspection, attribute and the
//     value a case has of it, packed (packCounts), for breakdowns (--by);
//   - attribute_counts: the cases with each attribute value, for a
//     breakdown's columns and the profile.

// countKey names one kept count. attribute "" is a question_counts row;
// question "" an attribute_counts row (attrValue is the value); both set,
// one of a breakdown_counts row's packed counts.
type countKey struct {
	inspection           string
	attribute, attrValue string
	question, value      string
}

// countDeltas are changes to the kept counts made by a transaction's
// writes, applied once at its end (flush). The per-question and case
// counts are kept flat; the counts by attribute value are kept by
// breakdown row, unpacked (breakdownRow, by question position), so that a
// case's moved answers are looked up by position once and added to each
// of its rows as arrays: this runs in the one writer's transaction, and a
// map insert per answer and attribute lengthened every push (BENCHMARKS.md).
type countDeltas struct {
	flat map[countKey]int                // attribute "" (per question) or question "" (cases)
	rows map[rowKey]*breakdownRow        // breakdown_counts changes, by row
	fws  map[string]*framework.Framework // by inspection: how its rows are packed
	// unknown holds a change to a question its framework lacks (none
	// should reach here: ops are checked first); flush refuses it.
	unknown map[string]bool
}

// rowKey names one breakdown_counts row; qv one count in it.
type rowKey struct{ inspection, attribute, attrValue string }
type qv struct{ question, value string }

// qvn is one count's change.
type qvn struct {
	qv
	n int
}

func newCountDeltas() countDeltas {
	return countDeltas{flat: map[countKey]int{}, rows: map[rowKey]*breakdownRow{}, fws: map[string]*framework.Framework{}, unknown: map[string]bool{}}
}

// add counts n answers of a value to a question of one case (n < 0: takes
// them away), if such an answer counts for the case with the given facts:
// one that no longer applies to it (framework.NoLongerApplies) is in no
// kept count. Each counts once per question and once by every attribute's
// value on the case.
func (d countDeltas) add(fw *framework.Framework, inspectionID string, facts framework.Facts, questionID, value string, n int) {
	if fw.NoLongerApplies(facts, questionID, value) {
		return
	}
	d.addCounted(fw, inspectionID, facts.Attributes, []qvn{{qv{questionID, value}, n}})
}

// addCounted adds changes to counts of answers that count, all of one case
// with the given attributes.
func (d countDeltas) addCounted(fw *framework.Framework, inspectionID string, attrs map[string]string, changes []qvn) {
	if len(changes) == 0 {
		return
	}
	for _, c := range changes {
		d.flat[countKey{inspection: inspectionID, question: c.question, value: c.value}] += c.n
	}
	d.fws[inspectionID] = fw
	if len(fw.Attributes) == 0 {
		return
	}
	type at struct{ i, code int } // dense index, or code -1 for another value
	var buf [96]at
	where := buf[:0]
	for _, c := range changes {
		pos, ok := fw.Position(c.question)
		if !ok {
			d.unknown[fmt.Sprintf("question %s is not in framework %s@%d", c.question, fw.ID, fw.Version)] = true
			where = append(where, at{-1, -1})
			continue
		}
		code := denseCode(c.value)
		where = append(where, at{3*pos + max(code, 0), code})
	}
	nq := len(fw.Questions())
	for _, a := range fw.Attributes {
		rk := rowKey{inspectionID, a.Name, attrs[a.Name]}
		row := d.rows[rk]
		if row == nil {
			row = &breakdownRow{dense: make([]int, 3*nq)}
			d.rows[rk] = row
		}
		for j, c := range changes {
			switch w := where[j]; {
			case w.code >= 0:
				row.dense[w.i] += c.n
			case w.i >= 0:
				if row.other == nil {
					row.other = map[posValue]int{}
				}
				row.other[posValue{w.i / 3, c.value}] += c.n
			}
		}
	}
}

// addCase counts n cases with the given attributes (n < 0: takes them
// away), by every attribute's value.
func (d countDeltas) addCase(fw *framework.Framework, inspectionID string, attrs map[string]string, n int) {
	for _, a := range fw.Attributes {
		d.flat[countKey{inspection: inspectionID, attribute: a.Name, attrValue: attrs[a.Name]}] += n
	}
}

// moveCase moves a case's answers to the given questions out of the kept
// counts as they counted with the facts before and back in as they count
// with the facts after. With rules on answers, one answer's change can
// make another count or not, so the questions moved are those written and
// their dependents (framework.Dependents).
func (d countDeltas) moveCase(fw *framework.Framework, inspectionID string, before, after framework.Facts, questions []string) {
	seen := make(map[string]bool, len(questions))
	var out, in []qvn
	move := func(q string) {
		if seen[q] {
			return
		}
		seen[q] = true
		if v, ok := before.Answer(q); ok && !fw.NoLongerApplies(before, q, v) {
			out = append(out, qvn{qv{q, v}, -1})
		}
		if v, ok := after.Answer(q); ok && !fw.NoLongerApplies(after, q, v) {
			in = append(in, qvn{qv{q, v}, +1})
		}
	}
	for _, q := range questions {
		move(q)
		for _, dep := range fw.Dependents(q) {
			move(dep)
		}
	}
	d.addCounted(fw, inspectionID, before.Attributes, out)
	d.addCounted(fw, inspectionID, after.Attributes, in)
}

// all is every change as one map, the breakdown counts included: what a
// recount compares with the kept counts.
func (d countDeltas) all() map[countKey]int {
	out := make(map[countKey]int, len(d.flat))
	for k, n := range d.flat {
		out[k] = n
	}
	for rk, row := range d.rows {
		row.each(d.fws[rk.inspection], func(q, v string, n int) {
			out[countKey{rk.inspection, rk.attribute, rk.attrValue, q, v}] += n
		})
	}
	return out
}

// flush adds the deltas to the kept counts: the per-question and case
// counts by multi-row upserts (per 400 rows), each breakdown row touched
// read, its counts added to the changes and written back by another.
func (d countDeltas) flush(ctx context.Context, tx *sql.Tx) error {
	for e := range d.unknown {
		return fmt.Errorf("update counts: %s", e)
	}
	keys := make([]countKey, 0, len(d.flat))
	for k, n := range d.flat {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	var questions, cases [][]any
	for _, k := range keys {
		if k.attribute == "" {
			questions = append(questions, []any{k.inspection, k.question, k.value, d.flat[k]})
		} else {
			cases = append(cases, []any{k.inspection, k.attribute, k.attrValue, d.flat[k]})
		}
	}
	if err := sqlite.InsertMany(ctx, tx, `INSERT INTO attribute_counts (inspection_id, attribute, value, n) VALUES `, `(?, ?, ?, ?)`,
		` ON CONFLICT (inspection_id, attribute, value) DO UPDATE SET n = n + excluded.n`, cases); err != nil {
		return fmt.Errorf("update counts: %w", err)
	}
	if err := sqlite.InsertMany(ctx, tx, `INSERT INTO question_counts (inspection_id, question_id, value, n) VALUES `, `(?, ?, ?, ?)`,
		` ON CONFLICT (inspection_id, question_id, value) DO UPDATE SET n = n + excluded.n`, questions); err != nil {
		return fmt.Errorf("update counts: %w", err)
	}
	touched := make([]rowKey, 0, len(d.rows))
	for rk := range d.rows {
		touched = append(touched, rk)
	}
	sort.Slice(touched, func(i, j int) bool {
		a, b := touched[i], touched[j]
		return a.inspection < b.inspection || a.inspection == b.inspection &&
			(a.attribute < b.attribute || a.attribute == b.attribute && a.attrValue < b.attrValue)
	})
	breakdowns := make([][]any, 0, len(touched))
	for _, rk := range touched {
		var packed []byte
		err := tx.QueryRowContext(ctx, `SELECT counts FROM breakdown_counts WHERE inspection_id = ? AND attribute = ? AND attr_value = ?`,
			rk.inspection, rk.attribute, rk.attrValue).Scan(&packed)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("update counts: %w", err)
		}
		row, nq := d.rows[rk], len(d.fws[rk.inspection].Questions())
		if _, err := unpackInto(row, packed, nq); err != nil {
			return fmt.Errorf("update counts: inspection %s %s: %w", rk.inspection, rk.attribute, err)
		}
		breakdowns = append(breakdowns, []any{rk.inspection, rk.attribute, rk.attrValue, row.pack(nq)})
	}
	if err := sqlite.InsertMany(ctx, tx, `INSERT INTO breakdown_counts (inspection_id, attribute, attr_value, counts) VALUES `, `(?, ?, ?, ?)`,
		` ON CONFLICT (inspection_id, attribute, attr_value) DO UPDATE SET counts = excluded.counts`, breakdowns); err != nil {
		return fmt.Errorf("update counts: %w", err)
	}
	return nil
}

// eachPacked calls fn with each count of per-question counts packed by
// SQL (group_concat of "question US value US n", joined by RS).
func eachPacked(packed string, fn func(question, value string, n int)) error {
	for rest := packed; rest != ""; {
		var item string
		item, rest, _ = strings.Cut(rest, "\x1e")
		q, tail, ok1 := strings.Cut(item, "\x1f")
		v, num, ok2 := strings.Cut(tail, "\x1f")
		n, err := strconv.Atoi(num)
		if !ok1 || !ok2 || err != nil {
			return fmt.Errorf("malformed kept count %q", item)
		}
		fn(q, v, n)
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
