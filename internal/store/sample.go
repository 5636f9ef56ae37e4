package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
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
			// A pooled case is named "unit:ref". A case reference never
			// holds ':' (framework.FieldCaseRef), so the last ':' splits the
			// two and no two units' cases share a name, whatever the units
			// are called ("North" + "East/1" and "North/East" + "1" did).
			for _, c := range cs {
				c.Ref = unit + ":" + c.Ref
				c.Attributes[framework.UnitAttribute] = unit
				in.Cases = append(in.Cases, c)
			}
			for _, a := range as {
				a.CaseRef = unit + ":" + a.CaseRef
				in.Answers = append(in.Answers, a)
			}
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
// what keeps a 60-case report under 10 ms.
func reportAnswers(ctx context.Context, tx *sql.Tx, inspectionID string) ([]framework.Answer, error) {
	rows, err := tx.QueryContext(ctx, `SELECT c.case_ref, group_concat(a.question_id || char(31) || a.value, char(30))
		FROM cases c JOIN answers a ON a.case_id = c.id WHERE c.inspection_id = ? GROUP BY c.id`, inspectionID)
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

// PooledCounts is the fast input of a pooled report: the kept counts of the
// inspections, their case count and units, at one change sequence. The
// inspections must share a framework version.
func (db *DB) PooledCounts(ctx context.Context, inspectionIDs ...string) (*framework.Framework, framework.Sample, error) {
	var fw *framework.Framework
	in := framework.Sample{Counts: map[string]map[string]int{}}
	err := db.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&in.AsOfSeq); err != nil {
			return err
		}
		p := db.newPool()
		for _, id := range inspectionIDs {
			_, unit, err := p.member(ctx, tx, id)
			if err != nil {
				return err
			}
			fw = p.fw
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM cases WHERE inspection_id = ?`, id).Scan(&n); err != nil {
				return err
			}
			in.Units = append(in.Units, unit)
			in.CaseCount += n
			rows, err := tx.QueryContext(ctx, `SELECT question_id, value, n FROM question_counts WHERE inspection_id = ? AND n > 0`, id)
			if err != nil {
				return err
			}
			mine := map[string]map[string]int{}
			for rows.Next() {
				var q, v string
				var k int
				if err := rows.Scan(&q, &v, &k); err != nil {
					rows.Close()
					return err
				}
				if in.Counts[q] == nil {
					in.Counts[q] = map[string]int{}
				}
				if mine[q] == nil {
					mine[q] = map[string]int{}
				}
				in.Counts[q][v] += k
				mine[q][v] += k
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			in.UnitCounts = append(in.UnitCounts, mine)
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

// pool checks the inspections pooled into one report: each once, all on
// one framework version, each with a distinct unit label.
type pool struct {
	db     *DB
	fw     *framework.Framework
	ids    map[string]bool
	labels map[string]bool
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
