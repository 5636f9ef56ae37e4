package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// A breakdown_counts row holds the counts of one inspection, attribute and
// attribute value, by question and answer, packed in a blob by question
// position (framework.Position), which is fixed for a framework version
// once an inspection uses it:
//
//	byte 1 (the format), uvarint Q (the framework's questions),
//	3·Q varints: for each question in order, its yes, no and na answers,
//	uvarint K, then K times: uvarint position, uvarint length, the value
//	(a count question's number), varint n — in (position, value) order.
//
// A national report sums thousands of these rows per attribute: by
// position, summing is adding arrays, and a row is a few hundred bytes
// that SQLite keeps on its b-tree page. The text packing before it (a
// "question value n" item per count) was 2.7 KB a row, spilled to overflow
// pages, and cost a map insert per item (BENCHMARKS.md).
const packFormat = 1

// denseValues are the answers counted by position; any other value (a
// count question's number) is kept apart, by its text.
var denseValues = [3]string{"yes", "no", "na"}

func denseCode(value string) int {
	switch value {
	case "yes":
		return 0
	case "no":
		return 1
	case "na":
		return 2
	}
	return -1
}

// breakdownRow is a breakdown_counts row unpacked: dense[3·position+code]
// and other (position, value) → n.
type breakdownRow struct {
	dense []int
	other map[posValue]int
}

type posValue struct {
	pos   int
	value string
}

var errMalformedRow = errors.New("malformed kept counts by attribute (fieldworkd recount --fix rewrites them)")

// unpackInto adds a packed row's counts to r, whose dense part has room
// for the row's questions (3·Q); nq < 0 takes Q from the row. It returns
// the row's Q.
func unpackInto(r *breakdownRow, packed []byte, nq int) (int, error) {
	if len(packed) == 0 {
		return nq, nil
	}
	if packed[0] != packFormat {
		return 0, fmt.Errorf("kept counts by attribute of format %d: %w", packed[0], errMalformedRow)
	}
	b := packed[1:]
	q, k := binary.Uvarint(b)
	if k <= 0 || q > 1<<20 {
		return 0, errMalformedRow
	}
	b = b[k:]
	if nq >= 0 && int(q) != nq {
		return 0, fmt.Errorf("kept counts by attribute packed for %d questions, the framework has %d: %w", q, nq, errMalformedRow)
	}
	// Each count takes a byte at least, K one more: a row too short for
	// the questions it claims is refused before room is made for them.
	if uint64(len(b)) < 3*q+1 {
		return 0, errMalformedRow
	}
	if len(r.dense) < 3*int(q) {
		r.dense = append(r.dense, make([]int, 3*int(q)-len(r.dense))...)
	}
	for i := range 3 * int(q) {
		n, k := binary.Varint(b)
		if k <= 0 {
			return 0, errMalformedRow
		}
		r.dense[i] += int(n)
		b = b[k:]
	}
	others, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, errMalformedRow
	}
	b = b[k:]
	for range others {
		pos, k1 := binary.Uvarint(b)
		if k1 <= 0 || pos >= q {
			return 0, errMalformedRow
		}
		b = b[k1:]
		l, k2 := binary.Uvarint(b)
		if k2 <= 0 || l > uint64(len(b)-k2) {
			return 0, errMalformedRow
		}
		v := string(b[k2 : k2+int(l)])
		b = b[k2+int(l):]
		n, k3 := binary.Varint(b)
		if k3 <= 0 {
			return 0, errMalformedRow
		}
		b = b[k3:]
		if r.other == nil {
			r.other = map[posValue]int{}
		}
		r.other[posValue{int(pos), v}] += int(n)
	}
	if len(b) != 0 {
		return 0, errMalformedRow
	}
	return int(q), nil
}

// pack packs r for a framework of nq questions.
func (r *breakdownRow) pack(nq int) []byte {
	out := make([]byte, 0, 16+3*nq+8*len(r.other))
	out = append(out, packFormat)
	out = binary.AppendUvarint(out, uint64(nq))
	for i := range 3 * nq {
		n := 0
		if i < len(r.dense) {
			n = r.dense[i]
		}
		out = binary.AppendVarint(out, int64(n))
	}
	keys := make([]posValue, 0, len(r.other))
	for k, n := range r.other {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].pos < keys[j].pos || keys[i].pos == keys[j].pos && keys[i].value < keys[j].value
	})
	out = binary.AppendUvarint(out, uint64(len(keys)))
	for _, k := range keys {
		out = binary.AppendUvarint(out, uint64(k.pos))
		out = binary.AppendUvarint(out, uint64(len(k.value)))
		out = append(out, k.value...)
		out = binary.AppendVarint(out, int64(r.other[k]))
	}
	return out
}

// add adds n answers of value to a question of fw.
func (r *breakdownRow) add(fw *framework.Framework, question, value string, n int) error {
	pos, ok := fw.Position(question)
	if !ok {
		return fmt.Errorf("question %s is not in framework %s@%d", question, fw.ID, fw.Version)
	}
	if c := denseCode(value); c >= 0 {
		if len(r.dense) < 3*len(fw.Questions()) {
			r.dense = append(r.dense, make([]int, 3*len(fw.Questions())-len(r.dense))...)
		}
		r.dense[3*pos+c] += n
		return nil
	}
	if r.other == nil {
		r.other = map[posValue]int{}
	}
	r.other[posValue{pos, value}] += n
	return nil
}

// addRow adds o's counts to r's, both of one framework.
func (r *breakdownRow) addRow(o *breakdownRow) {
	if len(r.dense) < len(o.dense) {
		r.dense = append(r.dense, make([]int, len(o.dense)-len(r.dense))...)
	}
	for i, n := range o.dense {
		r.dense[i] += n
	}
	for k, n := range o.other {
		if r.other == nil {
			r.other = map[posValue]int{}
		}
		r.other[k] += n
	}
}

// each calls fn with every non-zero count, naming questions by fw (nil:
// by position, "#12", for counts of an inspection that no longer exists).
func (r *breakdownRow) each(fw *framework.Framework, fn func(question, value string, n int)) {
	name := func(pos int) string {
		if fw != nil && pos < len(fw.Questions()) {
			return fw.Questions()[pos].ID
		}
		return fmt.Sprintf("#%d", pos)
	}
	for i, n := range r.dense {
		if n != 0 {
			fn(name(i/3), denseValues[i%3], n)
		}
	}
	for k, n := range r.other {
		if n != 0 {
			fn(name(k.pos), k.value, n)
		}
	}
}

// mergeBreakdown adds changes to a packed row (nil: none yet) of an
// inspection of fw.
func mergeBreakdown(fw *framework.Framework, packed []byte, changes map[qv]int) ([]byte, error) {
	var r breakdownRow
	nq := len(fw.Questions())
	if _, err := unpackInto(&r, packed, nq); err != nil {
		return nil, err
	}
	for k, n := range changes {
		if err := r.add(fw, k.question, k.value, n); err != nil {
			return nil, err
		}
	}
	return r.pack(nq), nil
}

// repackBreakdowns moves the text rows migration 0020 set aside into
// breakdown_counts, packed by position, and drops them. Rows of an
// inspection that no longer exists count nothing and go; a row it cannot
// repack (malformed, of a question its framework lacks) is left out, and
// it reports that a recount is needed to put every kept count right.
func (db *DB) repackBreakdowns(ctx context.Context, tx *sql.Tx) (recount bool, err error) {
	type textRow struct{ inspection, attribute, attrValue, counts string }
	var text []textRow
	rows, err := tx.QueryContext(ctx, `SELECT inspection_id, attribute, attr_value, counts FROM breakdown_counts_text
		WHERE inspection_id IN (SELECT id FROM inspections) ORDER BY inspection_id`)
	if err != nil {
		return false, err
	}
	for rows.Next() {
		var r textRow
		if err := rows.Scan(&r.inspection, &r.attribute, &r.attrValue, &r.counts); err != nil {
			rows.Close()
			return false, err
		}
		text = append(text, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	var packed [][]any
	for _, r := range text {
		fw, _, err := db.inspectionFramework(ctx, tx, r.inspection)
		if err != nil {
			return false, fmt.Errorf("inspection %s: %w", r.inspection, err)
		}
		changes := map[qv]int{}
		if err := eachPacked(r.counts, func(q, v string, n int) { changes[qv{q, v}] += n }); err != nil {
			recount = true
			continue
		}
		blob, err := mergeBreakdown(fw, nil, changes)
		if err != nil {
			recount = true
			continue
		}
		packed = append(packed, []any{r.inspection, r.attribute, r.attrValue, blob})
	}
	if err := sqlite.InsertMany(ctx, tx, `INSERT INTO breakdown_counts (inspection_id, attribute, attr_value, counts) VALUES `, `(?, ?, ?, ?)`, ``, packed); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE breakdown_counts_text`); err != nil {
		return false, err
	}
	return recount, nil
}
