package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// Moderation of a double-marked case (docs/qa.md): once both markings are
// submitted, the lead or QA lists the disagreements and records the agreed
// answer of each; the answer is written by the push path (the server's
// Moderate), the decision here, beside both markings, which stay.

// Moderated is a double-marked case's markings and decisions, as
// Moderation reads them.
type Moderated struct {
	Selection framework.QASelection
	Case      framework.Case
	Framework *framework.Framework
	// Disagreements are every question on which the markings differ (by
	// value), each with its latest decision if one was recorded.
	Disagreements []framework.Disagreement
}

// checkModerator is who may moderate: the lead (or an administrator) and
// QA, on a case whose two markings are both submitted.
func checkModerator(role framework.Role, inspectionID string) error {
	if !framework.CanLead(role) && role != framework.RoleQA {
		return framework.Errorf(framework.CodePermission, "only QA or the lead inspector of inspection %s moderate second markings", inspectionID)
	}
	return nil
}

// Moderation reads a double-marked case for moderation.
func (db *DB) Moderation(ctx context.Context, u framework.User, inspectionID, caseRef string) (Moderated, error) {
	var out Moderated
	err := db.read(ctx, func(tx *sql.Tx) error {
		cr, role, err := visibleCase(ctx, tx, u, inspectionID, caseRef)
		if err != nil {
			return err
		}
		if err := checkModerator(role, inspectionID); err != nil {
			return err
		}
		sel, err := selectionOf(ctx, tx, cr.id)
		if err != nil {
			return err
		}
		if sel == nil {
			return framework.Errorf(framework.CodeNotFound, "case %s of inspection %s is not selected for second marking", caseRef, inspectionID)
		}
		if !sel.Lifted {
			return framework.Errorf(framework.CodePrecondition, "case %s is not ready for moderation: both markings must be submitted (case: %s; second marking: %s)",
				caseRef, cr.c.Status, sel.Status)
		}
		fw, _, err := db.inspectionFramework(ctx, tx, inspectionID)
		if err != nil {
			return err
		}
		first, err := caseAnswerMap(ctx, tx, cr.id)
		if err != nil {
			return err
		}
		ms, err := markingAnswers(ctx, tx, cr.id)
		if err != nil {
			return err
		}
		second := map[string]framework.Answer{}
		for _, a := range ms {
			second[a.QuestionID] = a
		}
		decided, err := decisions(ctx, tx, cr.id, caseRef)
		if err != nil {
			return err
		}
		// A decided question keeps its place in the list even where the
		// agreed answer now equals the second marking: it is listed with the
		// first marking as it was when decided.
		ds := fw.Disagreements(cr.c.Attributes, first, second)
		listed := map[string]bool{}
		for i := range ds {
			listed[ds[i].QuestionID] = true
			if d, ok := decided[ds[i].QuestionID]; ok {
				ds[i].Decided = &d
			}
		}
		for _, q := range fw.Questions() {
			d, ok := decided[q.ID]
			if !ok || listed[q.ID] {
				continue
			}
			x := framework.Disagreement{QuestionID: q.ID, Decided: &d}
			if a, ok := second[q.ID]; ok {
				x.Second = &a
			}
			if a, ok := first[q.ID]; ok {
				a.Value = d.First
				x.First = &a
			}
			ds = append(ds, x)
		}
		out = Moderated{Selection: *sel, Case: cr.c, Framework: fw, Disagreements: ds}
		return nil
	})
	return out, err
}

// caseAnswerMap reads a case's answers by question.
func caseAnswerMap(ctx context.Context, tx *sql.Tx, caseID string) (map[string]framework.Answer, error) {
	rows, err := tx.QueryContext(ctx, `SELECT c.case_ref, a.question_id, a.value, a.note, a.revision, a.updated_by, a.device_id, a.updated_at
		FROM answers a JOIN cases c ON c.id = a.case_id WHERE a.case_id = ?`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	as, err := scanAnswers(rows)
	if err != nil {
		return nil, err
	}
	out := map[string]framework.Answer{}
	for _, a := range as {
		out[a.QuestionID] = a
	}
	return out, nil
}

// decisions reads a case's latest decision per question.
func decisions(ctx context.Context, tx *sql.Tx, caseID, caseRef string) (map[string]framework.Moderation, error) {
	rows, err := tx.QueryContext(ctx, `SELECT question_id, take, value, note, first_value, second_value, decided_by, decided_at, revision
		FROM moderations WHERE case_id = ? ORDER BY id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]framework.Moderation{}
	for rows.Next() {
		d := framework.Moderation{CaseRef: caseRef}
		var at string
		if err := rows.Scan(&d.QuestionID, &d.Take, &d.Value, &d.Note, &d.First, &d.Second, &d.DecidedBy, &at, &d.Revision); err != nil {
			return nil, err
		}
		d.DecidedAt = sqlite.ParseTime(at)
		out[d.QuestionID] = d
	}
	return out, rows.Err()
}

// RecordModeration keeps the decision d (its answer already written to
// the case's answers at d.Revision by the push path), audited as
// marking.moderate.
func (db *DB) RecordModeration(ctx context.Context, a framework.Actor, inspectionID string, d framework.Moderation) (framework.Moderation, error) {
	err := db.write(ctx, func(tx *sql.Tx) error {
		cr, role, err := visibleCase(ctx, tx, framework.User{Name: a.User, Admin: a.Admin}, inspectionID, d.CaseRef)
		if err != nil {
			return err
		}
		if err := checkModerator(role, inspectionID); err != nil {
			return err
		}
		at := db.now()
		d.DecidedBy, d.DecidedAt = a.User, sqlite.ParseTime(at)
		if _, err := tx.ExecContext(ctx, `INSERT INTO moderations (case_id, question_id, take, value, note, first_value, second_value, decided_by, device_id, decided_at, revision)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, cr.id, d.QuestionID, d.Take, d.Value, d.Note, d.First, d.Second, a.User, a.Device, at, d.Revision); err != nil {
			return fmt.Errorf("record moderation: %w", err)
		}
		return audit(ctx, tx, at, a, "marking.moderate", framework.MarkingEntity(inspectionID, d.CaseRef)+"/"+d.QuestionID,
			map[string]any{"first": d.First, "second": d.Second},
			map[string]any{"take": d.Take, "value": d.Value, "note": d.Note, "revision": d.Revision})
	})
	return d, err
}
