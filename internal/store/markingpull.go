package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// The pull's part of second marking: the blind asked of every case-level
// change (blindFilter), and the marking changes (markingChanges).

// markingSideOf is the marking a change kind carries the values of (0:
// none). A case's answers and their conflicts are its first marking.
func markingSideOf(kind string) framework.MarkingSide {
	switch kind {
	case "answer", "conflict":
		return framework.FirstMarking
	case "marking", "marking_conflict":
		return framework.SecondMarking
	}
	return 0
}

// blindFilter asks framework.CanSeeMarkingValues for the changes of one
// pull, reading each case's selection once (an inspection without any is
// read once).
type blindFilter struct {
	sels map[string]*framework.QASelection // case id → selection (nil: none)
	insp map[string]bool                   // inspection → has selections
}

func (b *blindFilter) selection(ctx context.Context, tx *sql.Tx, inspectionID, caseID string) (*framework.QASelection, error) {
	has, ok := b.insp[inspectionID]
	if !ok {
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM qa_selections WHERE inspection_id = ?)`, inspectionID).Scan(&has); err != nil {
			return nil, err
		}
		b.insp[inspectionID] = has
	}
	if !has {
		return nil, nil
	}
	if s, ok := b.sels[caseID]; ok {
		return s, nil
	}
	s, err := selectionOf(ctx, tx, caseID)
	if err != nil {
		return nil, err
	}
	b.sels[caseID] = s
	return s, nil
}

func (b *blindFilter) sees(ctx context.Context, tx *sql.Tx, u framework.User, role framework.Role, inspector, inspectionID, caseID string, side framework.MarkingSide) (bool, error) {
	sel, err := b.selection(ctx, tx, inspectionID, caseID)
	if err != nil {
		return false, err
	}
	if sel == nil && side == framework.FirstMarking {
		return true, nil // no second marking: the SQL's CanSeeCase stands
	}
	return framework.CanSeeMarkingValues(role, u.Name, inspector == u.Name, sel, side), nil
}

// markingChanges is what one marking change delivers to u: a selection; a
// second marking's answer or conflict (already let through by the
// blindFilter); or, at the blind's end (marking_lift), the selection and
// both markings of the case as they now stand, each as u may see it.
func markingChanges(ctx context.Context, tx *sql.Tx, u framework.User, role framework.Role, inspector, kind, caseID, entity string, b *blindFilter) ([]framework.Change, error) {
	var out []framework.Change
	switch kind {
	case "selection", "marking_lift":
		s, err := selectionOf(ctx, tx, caseID)
		if err != nil || s == nil {
			return nil, err
		}
		b.sels[caseID] = s
		mine := *s
		mine.FirstHidden = !framework.CanSeeMarkingValues(role, u.Name, inspector == u.Name, s, framework.FirstMarking)
		out = append(out, framework.Change{Selection: &mine})
		if kind == "selection" {
			return out, nil
		}
		if framework.CanSeeMarkingValues(role, u.Name, inspector == u.Name, s, framework.FirstMarking) {
			rows, err := tx.QueryContext(ctx, `SELECT c.case_ref, a.question_id, a.value, a.note, a.revision, a.updated_by, a.device_id, a.updated_at
				FROM answers a JOIN cases c ON c.id = a.case_id WHERE a.case_id = ?`, caseID)
			if err != nil {
				return nil, err
			}
			as, err := scanAnswers(rows)
			rows.Close()
			if err != nil {
				return nil, err
			}
			for i := range as {
				out = append(out, framework.Change{Answer: &as[i]})
			}
		}
		if framework.CanSeeMarkingValues(role, u.Name, inspector == u.Name, s, framework.SecondMarking) {
			ms, err := markingAnswers(ctx, tx, caseID)
			if err != nil {
				return nil, err
			}
			for i := range ms {
				out = append(out, framework.Change{Marking: &ms[i]})
			}
		}
	case "marking":
		var m framework.Answer
		var at string
		err := tx.QueryRowContext(ctx, `SELECT c.case_ref, m.question_id, m.value, m.note, m.revision, m.updated_by, m.device_id, m.updated_at
			FROM marking_answers m JOIN cases c ON c.id = m.case_id WHERE m.case_id = ? AND m.question_id = ?`, caseID, entity).
			Scan(&m.CaseRef, &m.QuestionID, &m.Value, &m.Note, &m.Revision, &m.UpdatedBy, &m.DeviceID, &at)
		if err == sql.ErrNoRows {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("second marking %s: %w", entity, err)
		}
		m.UpdatedAt = sqlite.ParseTime(at)
		out = append(out, framework.Change{Marking: &m})
	case "marking_conflict":
		c, err := markingConflictWhere(ctx, tx, "k.id = ?", entity)
		if err != nil || c == nil {
			return nil, err
		}
		out = append(out, framework.Change{MarkingConflict: c})
	}
	return out, nil
}
