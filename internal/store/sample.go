package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// ReportInput reads, in one snapshot, everything a report is computed
// from, and the change sequence it is consistent at. Several inspections
// are pooled when they share a framework version: their cases are named
// <unit>/<case_ref> and carry their unit in the "unit" attribute; judged
// ratings are not pooled.
func (db *DB) ReportInput(ctx context.Context, inspectionIDs ...string) (*framework.Framework, framework.Sample, error) {
	var fw *framework.Framework
	var in framework.Sample
	if len(inspectionIDs) == 1 {
		in.InspectionID = inspectionIDs[0]
	}
	err := db.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&in.AsOfSeq); err != nil {
			return err
		}
		pooled := len(inspectionIDs) > 1
		p := db.newPool()
		p.alone = !pooled
		for _, id := range inspectionIDs {
			name, unit, err := p.member(ctx, tx, id)
			if err != nil {
				return err
			}
			fw = p.fw
			cs, err := cases(ctx, tx, id, "")
			if err != nil {
				return err
			}
			as, err := reportAnswers(ctx, tx, id)
			if err != nil {
				return err
			}
			if !pooled {
				in.InspectionName = name
				in.Cases, in.Answers = cs, as
				if in.Judgements, err = judgements(ctx, tx, id); err != nil {
					return err
				}
				in.Written, err = writtenItems(ctx, tx, id)
				return err
			}
			in.Units = append(in.Units, unit)
			pooledNames(unit, cs, as)
			in.Cases = append(in.Cases, cs...)
			in.Answers = append(in.Answers, as...)
		}
		in.InspectionName = fmt.Sprintf("%d inspections pooled", len(inspectionIDs))
		return nil
	})
	if err != nil {
		return nil, in, fmt.Errorf("read report data: %w", err)
	}
	in.GeneratedAt = db.Now().UTC()
	return fw, in, nil
}

// reportAnswers reads only what a report needs of an inspection's answers
// (case, question, value), one row per case with its answers packed by
// SQLite: crossing cgo once per case instead of once per answer column is
// what keeps a 60-case report under 10 ms. Grouped by case_ref (unique in
// an inspection), the order of the (inspection_id, case_ref) index the
// cases are read by: grouping by id sorted every answer in a temporary
// b-tree first (a third of a 1000-case inspection's read, BENCHMARKS.md).
func reportAnswers(ctx context.Context, tx *sql.Tx, inspectionID string) ([]framework.Answer, error) {
	rows, err := tx.QueryContext(ctx, `SELECT c.case_ref, group_concat(a.question_id || char(31) || a.value, char(30))
		FROM cases c JOIN answers a ON a.case_id = c.id WHERE c.inspection_id = ? GROUP BY c.case_ref`, inspectionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.Answer
	for rows.Next() {
		var ref, packed string
		if err := rows.Scan(&ref, &packed); err != nil {
			return nil, err
		}
		items := strings.Split(packed, "\x1e")
		out = slices.Grow(out, len(items))
		for _, item := range items {
			q, v, ok := strings.Cut(item, "\x1f")
			if !ok {
				return nil, fmt.Errorf("case %s: malformed packed answer %q", ref, item)
			}
			out = append(out, framework.Answer{CaseRef: ref, QuestionID: q, Value: v})
		}
	}
	return out, rows.Err()
}

// pooledNames names an inspection's cases and answers as a pooled sample
// does: "unit:ref", with the unit in the "unit" attribute. A case
// reference never holds ':' (framework.FieldCaseRef), so the last ':'
// splits the two and no two units' cases share a name, whatever the units
// are called ("North" + "East/1" and "North/East" + "1" did).
func pooledNames(unit string, cs []framework.Case, as []framework.Answer) {
	for i := range cs {
		cs[i].Ref = unit + ":" + cs[i].Ref
		cs[i].Attributes[framework.UnitAttribute] = unit
	}
	for i := range as {
		as[i].CaseRef = unit + ":" + as[i].CaseRef
	}
}

// PooledCounts is the fast input of a pooled report: the kept counts of the
// inspections, their case count and units, at one change sequence. The
// inspections must share a framework version.
func (db *DB) PooledCounts(ctx context.Context, inspectionIDs ...string) (*framework.Framework, framework.Sample, error) {
	return db.PooledSample(ctx, PoolOptions{}, inspectionIDs...)
}

// PoolOptions says what a pooled report reads beyond the kept
// per-question counts, the cases by attribute value and each unit's
// counts, which it always reads.
type PoolOptions struct {
	// By lists the attributes whose kept counts to read for breakdowns
	// (the unit's are always read).
	By []string
	// EachUnit, if set, is called with each inspection's case-level sample
	// in turn (its cases and answers named as ReportInput's pooled sample
	// names them, Units its one unit), in the same snapshot as the counts:
	// for the opt-in per-case sections, one inspection in memory at a time.
	EachUnit func(*framework.Framework, framework.Sample) error
}

// PooledSample reads the input of a pooled report from the kept counts,
// at one change sequence; no answer is read unless opts.EachUnit asks.
// The inspections must share a framework version.
func (db *DB) PooledSample(ctx context.Context, opts PoolOptions, inspectionIDs ...string) (*framework.Framework, framework.Sample, error) {
	var fw *framework.Framework
	in := framework.Sample{Counts: map[string]map[string]int{}, AttributeCases: map[string]map[string]int{framework.UnitAttribute: {}},
		ByCounts: map[string]map[string]map[string]map[string]int{framework.UnitAttribute: {}}}
	err := db.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&in.AsOfSeq); err != nil {
			return err
		}
		p := db.newPool()
		unitOf := make(map[string]string, len(inspectionIDs))
		for _, id := range inspectionIDs {
			_, unit, err := p.member(ctx, tx, id)
			if err != nil {
				return err
			}
			fw = p.fw
			in.Units = append(in.Units, unit)
			unitOf[id] = unit
			in.AttributeCases[framework.UnitAttribute][unit] = 0
			in.ByCounts[framework.UnitAttribute][unit] = map[string]map[string]int{}
		}
		// Every query below reads the whole pool at once, a row per
		// inspection (its counts packed) or per attribute value: a row per
		// count through cgo was most of a national report's time.
		err := sqlite.InChunks(inspectionIDs, func(marks string, ids []any) error {
			// Each case is counted once under every attribute: the cases of an
			// inspection are those of its first attribute's values (kept, as
			// reading the cases' index was a third of the report).
			count, args := `SELECT inspection_id, '', '', count(*) FROM cases WHERE inspection_id IN (`+marks+`) GROUP BY inspection_id`, ids
			if len(fw.Attributes) > 0 {
				count = `SELECT inspection_id, '', '', sum(n) FROM attribute_counts WHERE inspection_id IN (` + marks + `) AND attribute = ? GROUP BY inspection_id`
				args = append(ids, fw.Attributes[0].Name)
			}
			err := eachCount(ctx, tx, count, args,
				func(id, _, _ string, n int) {
					in.CaseCount += n
					in.AttributeCases[framework.UnitAttribute][unitOf[id]] += n
				})
			if err != nil {
				return err
			}
			if err := sumUnitCounts(ctx, tx, fw, &in, unitOf, marks, ids); err != nil {
				return err
			}
			err = eachCount(ctx, tx, `SELECT attribute, value, '', sum(n) FROM attribute_counts WHERE inspection_id IN (`+marks+`) AND n > 0 GROUP BY attribute, value`, ids,
				func(attr, v, _ string, k int) { addTo(in.AttributeCases, attr, v, k) })
			if err != nil {
				return err
			}
			for _, attr := range opts.By {
				if attr == framework.UnitAttribute {
					continue
				}
				if in.ByCounts[attr] == nil {
					in.ByCounts[attr] = map[string]map[string]map[string]int{}
				}
				if err := sumBreakdowns(ctx, tx, fw, in.ByCounts[attr], marks, append(ids, attr)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if opts.EachUnit != nil {
			for _, id := range inspectionIDs {
				cs, err := cases(ctx, tx, id, "")
				if err != nil {
					return err
				}
				as, err := reportAnswers(ctx, tx, id)
				if err != nil {
					return err
				}
				pooledNames(unitOf[id], cs, as)
				if err := opts.EachUnit(fw, framework.Sample{Cases: cs, Answers: as, Units: []string{unitOf[id]}}); err != nil {
					return err
				}
			}
		}
		in.InspectionName = fmt.Sprintf("%d inspections pooled", len(inspectionIDs))
		return nil
	})
	if err != nil {
		return nil, in, fmt.Errorf("read pooled counts: %w", err)
	}
	in.GeneratedAt = db.Now().UTC()
	return fw, in, nil
}

// sumUnitCounts adds the kept per-question counts of the inspections
// listed, all of fw, to the pool's and to each unit's. With attributes,
// they are read from the breakdown rows of the first: each counted answer
// is in exactly one of its inspection's rows of an attribute (a case has
// one value of each, "" for none: countDeltas.addCounted), so those rows
// sum to the per-question counts, in some 300 small rows for a national
// pool instead of 30,000 (BENCHMARKS.md). A framework without attributes
// reads question_counts, a row per inspection.
func sumUnitCounts(ctx context.Context, tx *sql.Tx, fw *framework.Framework, in *framework.Sample, unitOf map[string]string, marks string, args []any) error {
	if len(fw.Attributes) == 0 {
		return sumQuestionCounts(ctx, tx, in, unitOf, marks, args)
	}
	sums, err := sumRows(ctx, tx, fw, "inspection_id", marks, append(args, fw.Attributes[0].Name))
	if err != nil {
		return err
	}
	// Summed as arrays first, into maps once: a map insert per count of
	// each of 150 inspections was most of this.
	total := &breakdownRow{dense: make([]int, 3*len(fw.Questions()))}
	for id, r := range sums {
		total.addRow(r)
		mine := in.ByCounts[framework.UnitAttribute][unitOf[id]]
		r.each(fw, func(q, v string, n int) {
			if n > 0 {
				addTo(mine, q, v, n)
			}
		})
	}
	total.each(fw, func(q, v string, n int) {
		if n > 0 {
			addTo(in.Counts, q, v, n)
		}
	})
	return nil
}

// sumQuestionCounts is sumUnitCounts for a framework without attributes.
func sumQuestionCounts(ctx context.Context, tx *sql.Tx, in *framework.Sample, unitOf map[string]string, marks string, args []any) error {
	rows, err := tx.QueryContext(ctx, `SELECT inspection_id, group_concat(question_id || char(31) || value || char(31) || n, char(30))
		FROM question_counts WHERE inspection_id IN (`+marks+`) AND n > 0 GROUP BY inspection_id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, packed string
		if err := rows.Scan(&id, &packed); err != nil {
			return err
		}
		mine := in.ByCounts[framework.UnitAttribute][unitOf[id]]
		if err := eachPacked(packed, func(q, v string, n int) {
			addTo(in.Counts, q, v, n)
			addTo(mine, q, v, n)
		}); err != nil {
			return fmt.Errorf("inspection %s: %w", id, err)
		}
	}
	return rows.Err()
}

// sumBreakdowns adds the packed breakdown rows of one attribute of the
// inspections listed, all of fw, to byValue (attribute value → question →
// value → n): row by row as arrays (packed.go), into maps once at the end.
func sumBreakdowns(ctx context.Context, tx *sql.Tx, fw *framework.Framework, byValue map[string]map[string]map[string]int, marks string, args []any) error {
	sums, err := sumRows(ctx, tx, fw, "attr_value", marks, args)
	if err != nil {
		return err
	}
	for av, r := range sums {
		byQ := byValue[av]
		if byQ == nil {
			byQ = map[string]map[string]int{}
			byValue[av] = byQ
		}
		r.each(fw, func(q, v string, n int) {
			if n > 0 {
				addTo(byQ, q, v, n)
			}
		})
	}
	return nil
}

// sumRows sums the packed breakdown rows of one attribute (args' last) of
// the inspections listed, all of fw, as arrays (packed.go), by the column
// named: inspection_id (each inspection's per-question counts) or
// attr_value (the attribute's breakdown).
func sumRows(ctx context.Context, tx *sql.Tx, fw *framework.Framework, by string, marks string, args []any) (map[string]*breakdownRow, error) {
	rows, err := tx.QueryContext(ctx, `SELECT inspection_id, `+by+`, counts FROM breakdown_counts WHERE inspection_id IN (`+marks+`) AND attribute = ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	nq := len(fw.Questions())
	sums := map[string]*breakdownRow{}
	for rows.Next() {
		var key string
		var id, packed sql.RawBytes
		if err := rows.Scan(&id, &key, &packed); err != nil {
			return nil, err
		}
		r := sums[key]
		if r == nil {
			r = &breakdownRow{dense: make([]int, 3*nq)}
			sums[key] = r
		}
		if _, err := unpackInto(r, packed, nq); err != nil {
			// Not the attribute's value: the error is logged, and it is
			// case data.
			return nil, fmt.Errorf("inspection %s %s: %w", id, args[len(args)-1], err)
		}
	}
	return sums, rows.Err()
}

// eachCount calls fn with each row of a query of three texts and a count.
func eachCount(ctx context.Context, tx *sql.Tx, q string, args []any, fn func(a, b, c string, n int)) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a, b, c string
		var n int
		if err := rows.Scan(&a, &b, &c, &n); err != nil {
			return err
		}
		fn(a, b, c, n)
	}
	return rows.Err()
}

func addTo(m map[string]map[string]int, k1, k2 string, n int) {
	inner := m[k1]
	if inner == nil {
		inner = make(map[string]int, 3) // yes, no, na
		m[k1] = inner
	}
	inner[k2] += n
}

// pool checks the inspections pooled into one report: each once, all on
// one framework version that may be pooled (framework.CheckPoolable), each
// with a distinct unit label.
type pool struct {
	db     *DB
	fw     *framework.Framework
	ids    map[string]bool
	labels map[string]bool
	alone  bool // one inspection's own report: its cases are not given units
}

func (db *DB) newPool() *pool {
	return &pool{db: db, ids: map[string]bool{}, labels: map[string]bool{}}
}

// member adds an inspection and returns its name and unit label: its unit
// (else its name), told apart by its name, then its id, when another pooled
// inspection already has that label (the label prefixes pooled case
// references, so a shared one would merge two units' cases).
func (p *pool) member(ctx context.Context, tx *sql.Tx, id string) (name, label string, err error) {
	if p.ids[id] {
		return "", "", framework.Errorf(framework.CodeInvalid, "inspection %s is listed twice", id)
	}
	p.ids[id] = true
	f, _, err := p.db.inspectionFramework(ctx, tx, id)
	if err != nil {
		return "", "", err
	}
	if p.fw != nil && (f.ID != p.fw.ID || f.Version != p.fw.Version) {
		return "", "", framework.Errorf(framework.CodeInvalid, "cannot pool inspection %s (%s v%d) with %s v%d: pooled inspections share one framework version",
			id, f.ID, f.Version, p.fw.ID, p.fw.Version)
	}
	if !p.alone {
		if err := f.CheckPoolable(); err != nil {
			return "", "", err
		}
	}
	p.fw = f
	var unit string
	if err := tx.QueryRowContext(ctx, `SELECT name, unit FROM inspections WHERE id = ?`, id).Scan(&name, &unit); err != nil {
		return "", "", err
	}
	if unit == "" {
		unit = name
	}
	for _, l := range []string{unit, unit + " (" + name + ")", unit + " (" + id + ")"} {
		if !p.labels[l] {
			p.labels[l] = true
			return name, l, nil
		}
	}
	return "", "", fmt.Errorf("pool: no distinct label for inspection %s", id) // ids are unique: unreachable
}
