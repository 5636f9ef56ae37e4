package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// TestPackedRowMatchesAMap holds the packed breakdown row to a plain map
// of (question, value) → n: random changes over yes/no questions and a
// count question's numbers are merged into a row again and again, so that
// counts appear, move, cancel to zero and go negative; the row read back
// holds exactly the map's non-zero counts.
func TestPackedRowMatchesAMap(t *testing.T) {
	fw, _, err := framework.BuiltinByID("probation-pdu-2023")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	questions := []string{fw.Questions()[0].ID, "2.1.1", "2.3.S1", fw.Questions()[len(fw.Questions())-1].ID}
	values := []string{"yes", "no", "na", "1", "3", "12", "250"}
	for trial := range 300 {
		want := map[qv]int{}
		var packed []byte
		for range r.IntN(10) {
			changes := map[qv]int{}
			for range r.IntN(8) {
				k := qv{questions[r.IntN(len(questions))], values[r.IntN(len(values))]}
				n := r.IntN(400) - 150
				changes[k] += n
				want[k] += n
			}
			if packed, err = mergeBreakdown(fw, packed, changes); err != nil {
				t.Fatal(err)
			}
		}
		var row breakdownRow
		if _, err := unpackInto(&row, packed, len(fw.Questions())); err != nil {
			t.Fatal(err)
		}
		if !sameCounts(t, fmt.Sprintf("trial %d", trial), fw, &row, want) {
			t.FailNow()
		}
	}
}

// A row that is not as packed says so (and that a recount rewrites it)
// rather than adding wrong numbers; a question the framework lacks is
// refused by name.
func TestPackedRowRefusesWhatItCannotRead(t *testing.T) {
	fw, _, err := framework.BuiltinByID("probation-pdu-2023")
	if err != nil {
		t.Fatal(err)
	}
	nq := len(fw.Questions())
	good, err := mergeBreakdown(fw, nil, map[qv]int{{"2.1.1", "yes"}: 3, {"2.3.S1", "4"}: 2})
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := framework.BuiltinByID("probation-public-protection-2025")
	otherRow, _ := mergeBreakdown(other, nil, map[qv]int{})
	for name, packed := range map[string][]byte{
		"another format":       append([]byte{2}, good[1:]...),
		"cut short":            good[:len(good)-2],
		"trailing bytes":       append(append([]byte{}, good...), 0),
		"a text row":           []byte("2.1.1\x1fyes\x1f3"),
		"another framework's":  otherRow,
		"a value past the end": pastTheEnd(nq),
	} {
		var r breakdownRow
		if _, err := unpackInto(&r, packed, nq); !errors.Is(err, errMalformedRow) {
			t.Errorf("%s: err = %v, want a malformed row", name, err)
		}
	}
	if _, err := mergeBreakdown(fw, good, map[qv]int{{"9.9.9", "yes"}: 1}); err == nil || !strings.Contains(err.Error(), "question 9.9.9") {
		t.Errorf("unknown question: err = %v, want it named", err)
	}
}

// Migration 0020 repacks the text rows of kept counts by attribute as they
// are, without recounting: a row that disagrees with the answers stays as
// it was (and a recount finds it), so nothing was recomputed behind the
// operator's back; a row that cannot be repacked makes Open recount.
func TestMigration0020_RepacksTheTextRows(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rows      []any
		wantYes   int // kept count after Open of community cases answering 2.1.1 yes
		mismatchs int
	}{
		{"as they are", []any{"community", "2.1.1\x1fyes\x1f5\x1e2.3.S1\x1f4\x1f1", "licence", "2.1.1\x1fno\x1f1"}, 5, 1},
		{"malformed, recounted", []any{"community", "2.1.1\x1fyes", "licence", "2.1.1\x1fno\x1f1"}, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "old.db")
			old := openBefore(t, path, "0020")
			pdu, pduRaw, _ := framework.BuiltinByID("probation-pdu-2023")
			const at = "2026-11-01T10:00:00Z"
			const attrs = `{"sentence_type":"%s","sex":"male","age_band":"26-39","ethnicity":"white","rosh":"medium","mappa":"none","pdu":"U","contact_suspended":"false"}`
			seed(t, old, []seedStmt{
				{`DELETE FROM pending_tasks`, nil},
				{`INSERT INTO frameworks VALUES (?, ?, 'PDU', ?, 'x', 1, ?)`, []any{pdu.ID, pdu.Version, pduRaw, at}},
				{`INSERT INTO users VALUES ('insp.a', 0, ?)`, []any{at}},
				{`INSERT INTO inspections (id, name, unit, framework_id, framework_version, status, created_at, created_by) VALUES ('I', 'Old', 'U', ?, ?, 'fieldwork', ?, 'admin')`, []any{pdu.ID, pdu.Version, at}},
				{`INSERT INTO cases (id, inspection_id, case_ref, attributes, inspector, status) VALUES ('C1', 'I', 'T-1', ?, 'insp.a', 'in_progress'), ('C2', 'I', 'T-2', ?, 'insp.a', 'in_progress')`,
					[]any{strings.Replace(attrs, "%s", "community", 1), strings.Replace(attrs, "%s", "licence", 1)}},
				{`INSERT INTO answers (case_id, question_id, value, note, revision, updated_by, device_id, updated_at) VALUES ('C1', '2.1.1', 'yes', '', 1, 'insp.a', 'dev-1', ?), ('C2', '2.1.1', 'no', '', 1, 'insp.a', 'dev-1', ?), ('C1', '2.3.S1', '4', '', 1, 'insp.a', 'dev-1', ?)`, []any{at, at, at}},
				{`INSERT INTO question_counts VALUES ('I', '2.1.1', 'yes', 1), ('I', '2.1.1', 'no', 1), ('I', '2.3.S1', '4', 1)`, nil},
				{`INSERT INTO attribute_counts VALUES ('I', 'sentence_type', 'community', 1), ('I', 'sentence_type', 'licence', 1)`, nil},
				{`INSERT INTO breakdown_counts VALUES ('I', 'sentence_type', ?, ?), ('I', 'sentence_type', ?, ?), ('gone', 'sex', 'male', '2.1.1` + "\x1f" + `yes` + "\x1f" + `1')`, tc.rows},
			})
			old.Close()

			db, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_, in, err := db.PooledSample(ctx, PoolOptions{By: []string{"sentence_type"}}, "I")
			if err != nil {
				t.Fatal(err)
			}
			by := in.ByCounts["sentence_type"]
			if by["community"]["2.1.1"]["yes"] != tc.wantYes || by["licence"]["2.1.1"]["no"] != 1 {
				t.Errorf("after the migration: by sentence_type %v; want community 2.1.1 yes %d, licence no 1", by, tc.wantYes)
			}
			if tc.mismatchs == 1 && by["community"]["2.3.S1"]["4"] != 1 {
				t.Errorf("the count question's number was not repacked: %v", by["community"])
			}
			all, err := db.Recount(ctx, false)
			var ms []Mismatch // the other attributes had no rows: only this one's are judged
			for _, m := range all {
				if m.Attribute == "sentence_type" && m.QuestionID != "" || tc.mismatchs == 0 {
					ms = append(ms, m)
				}
			}
			if err != nil || len(ms) != tc.mismatchs {
				t.Errorf("recount = %v, %v; want %d mismatch(es)", ms, err, tc.mismatchs)
			}
			var pending, textTables int
			db.conn.Reader.QueryRow(`SELECT count(*) FROM pending_tasks`).Scan(&pending)
			db.conn.Reader.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'breakdown_counts_text'`).Scan(&textTables)
			if pending != 0 || textTables != 0 {
				t.Errorf("%d pending task(s), %d text table(s) left; want none", pending, textTables)
			}
		})
	}
}

// pastTheEnd is a row whose one other value claims 100 bytes and has 2.
func pastTheEnd(nq int) []byte {
	b := binary.AppendUvarint([]byte{packFormat}, uint64(nq))
	b = append(b, make([]byte, 3*nq)...) // varint 0 is one byte
	b = binary.AppendUvarint(b, 1)
	b = binary.AppendUvarint(b, 0)
	b = binary.AppendUvarint(b, 100)
	return append(b, "ab"...)
}

// countDeltas keeps each breakdown row's changes by position: random
// changes to random cases' answers, added as a write adds them, leave in
// every row (inspection, attribute, the case's value) exactly what a plain
// map of (question, value) → n summed for that row; the per-question counts
// are the sum over cases. A question the framework lacks is refused by
// flush, by name, before anything is written.
func TestCountDeltas_RowsMatchAMap(t *testing.T) {
	fw, _, err := framework.BuiltinByID("probation-pdu-2023")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	questions := []string{fw.Questions()[0].ID, "2.1.1", "2.3.S1", fw.Questions()[len(fw.Questions())-1].ID}
	values := []string{"yes", "no", "na", "1", "3", "12"}
	cases := []map[string]string{{"sex": "male", "rosh": "high"}, {"sex": "female"}, {}}
	d := newCountDeltas()
	want := map[rowKey]map[qv]int{}
	perQuestion := map[qv]int{}
	for range 500 {
		attrs := cases[r.IntN(len(cases))]
		var changes []qvn
		for range r.IntN(5) {
			c := qvn{qv{questions[r.IntN(len(questions))], values[r.IntN(len(values))]}, r.IntN(7) - 3}
			changes = append(changes, c)
			perQuestion[c.qv] += c.n
			for _, a := range fw.Attributes {
				rk := rowKey{"I", a.Name, attrs[a.Name]}
				if want[rk] == nil {
					want[rk] = map[qv]int{}
				}
				want[rk][c.qv] += c.n
			}
		}
		d.addCounted(fw, "I", attrs, changes)
	}
	for rk, m := range want {
		sameCounts(t, fmt.Sprintf("row %v", rk), fw, d.rows[rk], m)
	}
	for k, n := range perQuestion {
		if got := d.flat[countKey{inspection: "I", question: k.question, value: k.value}]; got != n {
			t.Errorf("per question %s %s = %d, want %d", k.question, k.value, got, n)
		}
	}
	d.addCounted(fw, "I", cases[0], []qvn{{qv{"9.9.9", "yes"}, 1}})
	if err := d.flush(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "question 9.9.9") {
		t.Errorf("a question the framework lacks: flush = %v, want it refused by name", err)
	}
}

// sameCounts reports (as errors, naming what) where row's non-zero counts
// differ from want's (zero and absent the same; a nil row holds none).
func sameCounts(t *testing.T, what string, fw *framework.Framework, row *breakdownRow, want map[qv]int) bool {
	t.Helper()
	got := map[qv]int{}
	if row != nil {
		row.each(fw, func(q, v string, n int) { got[qv{q, v}] = n })
	}
	ok := true
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %s %s = %d, want %d", what, k.question, k.value, got[k], n)
			ok = false
		}
	}
	for k, n := range got {
		if want[k] != n {
			t.Errorf("%s: %s %s = %d, want %d", what, k.question, k.value, n, want[k])
			ok = false
		}
	}
	return ok
}
