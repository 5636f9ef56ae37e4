package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// The case-level dataset is read a page of cases at a time, each page in a
// read transaction of its own and by keyset (case_ref after the last one
// read, on the (inspection_id, case_ref) index; never OFFSET), so an export
// of millions of answers holds neither a reader nor its answers for longer
// than one page. Each case comes whole from one snapshot; a case changed
// during an export is exported as its page found it.

// DatasetSource checks the inspections of a dataset export as a pooled
// report does (each once, one framework version) and reads, in one
// snapshot, its header: the unit labels, the case count and the change
// sequence.
func (db *DB) DatasetSource(ctx context.Context, notes bool, inspectionIDs ...string) (*framework.Framework, framework.DatasetHeader, error) {
	h := framework.DatasetHeader{InspectionIDs: inspectionIDs, Notes: notes}
	var fw *framework.Framework
	err := db.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&h.AsOfSeq); err != nil {
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
			h.Units = append(h.Units, unit)
			h.Cases += n
		}
		return nil
	})
	if err != nil {
		return nil, h, fmt.Errorf("read dataset source: %w", err)
	}
	h.FrameworkID, h.FrameworkVersion = fw.ID, fw.Version
	return fw, h, nil
}

// AuditDatasetExport records a dataset export: who, from which device,
// when, of which inspections and whether with notes (personal data), one
// row per inspection so that each inspection's trail shows it. What was
// exported is never copied into the audit.
func (db *DB) AuditDatasetExport(ctx context.Context, a framework.Actor, inspectionIDs []string, notes bool) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		at := db.now()
		for _, id := range inspectionIDs {
			if err := audit(ctx, tx, at, a, "dataset.export", "inspection/"+id, nil,
				map[string]any{"inspections": inspectionIDs, "notes": notes}); err != nil {
				return fmt.Errorf("audit dataset export: %w", err)
			}
		}
		return nil
	})
}

// DatasetPage reads up to limit cases of an inspection after the case
// reference after ("" from the start), in case_ref order, each with its
// current answers (and their notes when notes is set). Only the cases u may
// see (framework.CanSeeCase) are returned; last is the last reference read,
// seen or not, to pass as after for the next page, and more says a next
// page may hold cases.
//
// Each case's answers come packed in one column, as reportAnswers packs
// them: crossing cgo once per case rather than per answer column is what
// keeps the server's share of a 10-million-answer export in seconds
// (BENCHMARKS.md). Ids and values never hold the separators; notes may hold
// anything, so with notes the answers are packed as JSON.
func (db *DB) DatasetPage(ctx context.Context, u framework.User, inspectionID, after string, limit int, notes bool) (cases []framework.DatasetCase, last string, more bool, err error) {
	packed := `(SELECT group_concat(a.question_id || char(31) || a.value, char(30)) FROM answers a WHERE a.case_id = c.id)`
	if notes {
		packed = `(SELECT json_group_array(json_array(a.question_id, a.value, a.note)) FROM answers a WHERE a.case_id = c.id)`
	}
	err = db.read(ctx, func(tx *sql.Tx) error {
		role, err := roleOn(ctx, tx, u, inspectionID)
		if err != nil {
			return err
		}
		// The blind of second marking: a case whose first marking u may
		// not see yet is left out of their dataset.
		sels, err := selectionsOf(ctx, tx, inspectionID)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT c.case_ref, c.attributes, c.inspector, c.status, coalesce(`+packed+`, '')
			FROM cases c WHERE c.inspection_id = ? AND c.case_ref > ? ORDER BY c.case_ref LIMIT ?`, inspectionID, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		read := 0
		for rows.Next() {
			var c framework.DatasetCase
			var attrs, inspector, answers string
			if err := rows.Scan(&c.Ref, &attrs, &inspector, &c.Status, &answers); err != nil {
				return err
			}
			read++
			last = c.Ref
			if !framework.CanSeeCase(role, inspector == u.Name) {
				continue
			}
			if sel := sels[c.Ref]; sel != nil && !framework.CanSeeMarkingValues(role, u.Name, inspector == u.Name, sel, framework.FirstMarking) {
				continue
			}
			if err := json.Unmarshal([]byte(attrs), &c.Attributes); err != nil {
				return fmt.Errorf("case %s attributes: %w", c.Ref, err)
			}
			if c.Answers, err = unpackAnswers(answers, notes); err != nil {
				return fmt.Errorf("case %s answers: %w", c.Ref, err)
			}
			c.InspectionID = inspectionID
			cases = append(cases, c)
		}
		more = read == limit
		return rows.Err()
	})
	if err != nil {
		return nil, "", false, fmt.Errorf("read dataset page of inspection %s: %w", inspectionID, err)
	}
	return cases, last, more, nil
}

// unpackAnswers reads a case's packed answers (DatasetPage).
func unpackAnswers(packed string, notes bool) ([]framework.DatasetAnswer, error) {
	if packed == "" {
		return nil, nil
	}
	if notes {
		var items [][3]string
		if err := json.Unmarshal([]byte(packed), &items); err != nil {
			return nil, err
		}
		out := make([]framework.DatasetAnswer, len(items))
		for i, it := range items {
			out[i] = framework.DatasetAnswer{QuestionID: it[0], Value: it[1], Note: it[2]}
		}
		return out, nil
	}
	items := strings.Split(packed, "\x1e")
	out := make([]framework.DatasetAnswer, len(items))
	for i, it := range items {
		q, v, ok := strings.Cut(it, "\x1f")
		if !ok {
			return nil, fmt.Errorf("malformed packed answer %q", it)
		}
		out[i] = framework.DatasetAnswer{QuestionID: q, Value: v}
	}
	return out, nil
}
