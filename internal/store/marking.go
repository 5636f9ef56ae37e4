package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// Second marking on the server (docs/qa.md): QA selections, the second
// marking's answers and their reads. Who may select is
// framework.CheckQASelect; who may write a marking CheckMarkingWrite (in
// markingpush.go); who may see which marking's values
// framework.CanSeeMarkingValues, asked by every read here, by the pull
// (changes.go) and by the server's case-level reads.

const selectionCols = `s.case_id, s.inspection_id, c.case_ref, s.qa_user, s.selected_by, s.selected_at, s.status, s.submitted_by, s.submitted_at, s.lifted,
	(SELECT count(*) FROM marking_answers m WHERE m.case_id = s.case_id)`

func scanSelection(row interface{ Scan(...any) error }) (string, framework.QASelection, error) {
	var s framework.QASelection
	var caseID, selAt, subAt string
	err := row.Scan(&caseID, &s.InspectionID, &s.CaseRef, &s.QA, &s.SelectedBy, &selAt, &s.Status, &s.SubmittedBy, &subAt, &s.Lifted, &s.Answered)
	s.SelectedAt = sqlite.ParseTime(selAt)
	if subAt != "" {
		s.SubmittedAt = sqlite.ParseTime(subAt)
	}
	return caseID, s, err
}

type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// selectionOf reads a case's selection (nil when it has none).
func selectionOf(ctx context.Context, q querier, caseID string) (*framework.QASelection, error) {
	_, s, err := scanSelection(q.QueryRowContext(ctx, `SELECT `+selectionCols+` FROM qa_selections s JOIN cases c ON c.id = s.case_id WHERE s.case_id = ?`, caseID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("qa selection: %w", err)
	}
	return &s, nil
}

// selectionsOf reads an inspection's selections by case reference.
func selectionsOf(ctx context.Context, q querier, inspectionID string) (map[string]*framework.QASelection, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+selectionCols+` FROM qa_selections s JOIN cases c ON c.id = s.case_id WHERE s.inspection_id = ?`, inspectionID)
	if err != nil {
		return nil, fmt.Errorf("qa selections: %w", err)
	}
	defer rows.Close()
	out := map[string]*framework.QASelection{}
	for rows.Next() {
		_, s, err := scanSelection(rows)
		if err != nil {
			return nil, fmt.Errorf("qa selections: %w", err)
		}
		out[s.CaseRef] = &s
	}
	return out, rows.Err()
}

// SelectionsByRef is an inspection's QA selections by case reference, for
// the server's case-level reads to ask framework.CanSeeMarkingValues.
func (db *DB) SelectionsByRef(ctx context.Context, inspectionID string) (map[string]*framework.QASelection, error) {
	return selectionsOf(ctx, db.conn.Reader, inspectionID)
}

// Selections lists an inspection's selections in case order.
func (db *DB) Selections(ctx context.Context, inspectionID string) ([]framework.QASelection, error) {
	m, err := db.SelectionsByRef(ctx, inspectionID)
	if err != nil {
		return nil, err
	}
	out := make([]framework.QASelection, 0, len(m))
	for _, s := range m {
		out = append(out, *s)
	}
	framework.SortSelections(out)
	return out, nil
}

// SelectForQA selects the cases refs of an inspection for second marking
// by qa, after framework.CheckQASelect, all or none: every unknown
// reference is named at once. A case already selected for the same marker
// is left as it is (selecting twice is idempotent); one selected for
// another marker is refused, naming both. It returns the selections of
// refs as they stand and how many were new; each new one is audited
// (qa.select) and reaches the laptops that may see the case by the pull.
func (db *DB) SelectForQA(ctx context.Context, a framework.Actor, inspectionID, qa string, refs []string) ([]framework.QASelection, int, error) {
	var out []framework.QASelection
	added := 0
	err := db.write(ctx, func(tx *sql.Tx) error {
		role, err := roleOn(ctx, tx, framework.User{Name: a.User, Admin: a.Admin}, inspectionID)
		if err != nil {
			return err
		}
		if role == "" {
			return framework.NotOnTeamError(inspectionID)
		}
		qaRole, err := teamRole(ctx, tx, inspectionID, qa)
		if err != nil {
			return err
		}
		if err := framework.CheckQASelect(role, inspectionID, qa, qaRole); err != nil {
			return err
		}
		if len(refs) == 0 {
			return framework.Errorf(framework.CodeInvalid, "no case to select: name one (--case) or a share of each inspector's cases (--share)")
		}
		var missing, taken []string
		ids := make([]string, len(refs))
		for i, ref := range refs {
			cr, err := loadCase(ctx, tx, inspectionID, ref)
			if err != nil {
				if framework.ErrorCode(err) == "" {
					return err
				}
				missing = append(missing, fmt.Sprintf("%q", ref))
				continue
			}
			ids[i] = cr.id
			if s, err := selectionOf(ctx, tx, cr.id); err != nil {
				return err
			} else if s != nil && s.QA != qa {
				taken = append(taken, fmt.Sprintf("%s (by %s)", ref, s.QA))
			}
		}
		if len(missing) > 0 {
			return framework.Errorf(framework.CodeNotFound, "inspection %s has no case %s", inspectionID, strings.Join(missing, ", "))
		}
		if len(taken) > 0 {
			return framework.Errorf(framework.CodePrecondition, "already selected for second marking by another marker: %s", strings.Join(taken, ", "))
		}
		at := db.now()
		for i, ref := range refs {
			res, err := tx.ExecContext(ctx, `INSERT INTO qa_selections (case_id, inspection_id, qa_user, selected_by, selected_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (case_id) DO NOTHING`, ids[i], inspectionID, qa, a.User, at)
			if err != nil {
				return fmt.Errorf("select case %s: %w", ref, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				added++
				if err := addChange(ctx, tx, inspectionID, "selection", ids[i], ids[i]); err != nil {
					return err
				}
				if err := audit(ctx, tx, at, a, "qa.select", framework.MarkingEntity(inspectionID, ref), nil, map[string]any{"qa": qa}); err != nil {
					return err
				}
			}
			s, err := selectionOf(ctx, tx, ids[i])
			if err != nil {
				return err
			}
			out = append(out, *s)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("select for QA: %w", err)
	}
	framework.SortSelections(out)
	return out, added, nil
}

// markingAnswers reads the second marking of a case.
func markingAnswers(ctx context.Context, q querier, caseID string) ([]framework.Answer, error) {
	rows, err := q.QueryContext(ctx, `SELECT c.case_ref, m.question_id, m.value, m.note, m.revision, m.updated_by, m.device_id, m.updated_at
		FROM marking_answers m JOIN cases c ON c.id = m.case_id WHERE m.case_id = ? ORDER BY m.question_id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("second marking: %w", err)
	}
	defer rows.Close()
	return scanAnswers(rows)
}

// MarkingAnswers returns the second marking of a case to a caller who may
// see it (framework.CanSeeMarkingValues); to anyone else, as CanSeeCase's
// errors or MarkingHiddenError say, naming no value.
func (db *DB) MarkingAnswers(ctx context.Context, u framework.User, inspectionID, caseRef string) ([]framework.Answer, *framework.QASelection, error) {
	var out []framework.Answer
	var sel *framework.QASelection
	err := db.read(ctx, func(tx *sql.Tx) error {
		cr, role, err := visibleCase(ctx, tx, u, inspectionID, caseRef)
		if err != nil {
			return err
		}
		if sel, err = selectionOf(ctx, tx, cr.id); err != nil {
			return err
		}
		if sel == nil {
			return framework.Errorf(framework.CodeNotFound, "case %s of inspection %s is not selected for second marking", caseRef, inspectionID)
		}
		if !framework.CanSeeMarkingValues(role, u.Name, cr.c.Inspector == u.Name, sel, framework.SecondMarking) {
			return framework.Errorf(framework.CodePermission, "the second marking of case %s is hidden until both markings are submitted", caseRef)
		}
		out, err = markingAnswers(ctx, tx, cr.id)
		return err
	})
	return out, sel, err
}

// BlindCases lists the cases of an inspection whose first marking u may
// not see (the blind of second marking), by reference: the server's
// case-level reads (answers, evidence, dataset, report case sections, the
// live view) leave their values out.
func (db *DB) BlindCases(ctx context.Context, u framework.User, role framework.Role, inspectionID string) (map[string]bool, error) {
	if framework.CanLead(role) {
		return nil, nil // the lead sees both markings throughout
	}
	sels, err := db.SelectionsByRef(ctx, inspectionID)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for ref, s := range sels {
		if !framework.CanSeeMarkingValues(role, u.Name, false, s, framework.FirstMarking) && framework.CanSeeCase(role, false) {
			out[ref] = true
		}
	}
	return out, nil
}
