package localstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// Conflicts and refusals of second markings on the laptop (docs/qa.md):
// listed beside the answers' (fieldwork status, conflicts), resolved by the
// same choices. The server sends a laptop only the marking conflicts its
// user may see (framework.CanSeeMarkingValues), and a marking conflict's
// both values are second-marking values: nothing here reads the first
// marking.

// putLocalMarkingConflict stores (or refreshes) a marking conflict the
// server reported; one whose resolution is queued here stays resolving
// until the server says it is resolved or the resolution is refused.
func putLocalMarkingConflict(ctx context.Context, tx *sql.Tx, c *framework.Conflict) error {
	body, _ := json.Marshal(c)
	_, err := tx.ExecContext(ctx, `INSERT INTO marking_conflicts (id, inspection_id, case_ref, question_id, status, body) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET body = excluded.body, status = CASE WHEN excluded.status = 'resolved' THEN 'resolved'
			WHEN marking_conflicts.status = 'resolving' THEN 'resolving' ELSE excluded.status END`,
		c.ID, c.InspectionID, c.CaseRef, c.QuestionID, c.Status, string(body))
	return err
}

// MarkingConflicts lists the conflicts on second markings this laptop holds
// (both values kept), of one inspection ("" for all), only the open ones
// unless all.
func (l *Store) MarkingConflicts(ctx context.Context, inspectionID string, all bool) ([]framework.Conflict, error) {
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT body, status FROM marking_conflicts WHERE (? = '' OR inspection_id = ?) AND (? OR status = 'open')
		ORDER BY case_ref, question_id, id`, inspectionID, inspectionID, all)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.Conflict
	for rows.Next() {
		var body, status string
		if err := rows.Scan(&body, &status); err != nil {
			return nil, err
		}
		var c framework.Conflict
		if err := json.Unmarshal([]byte(body), &c); err != nil {
			return nil, err
		}
		c.Status = status // resolving while the resolution is queued here
		out = append(out, c)
	}
	return out, rows.Err()
}

// ResolveMarking queues the resolution of an open marking conflict, as
// Resolve does an answer's: choice mine (the refused edit), theirs (the
// value the server kept) or value (value and note). It is recorded as a
// marking answer, checked as one (only the case's QA marker, marking not
// submitted), and works offline.
func (l *Store) ResolveMarking(ctx context.Context, user, conflictID string, choice framework.Resolution, value, note string) (framework.Op, error) {
	op, err := l.resolution(ctx, "marking_conflicts", "second-marking conflict", conflictID, choice, value, note)
	if err != nil {
		return framework.Op{}, err
	}
	return l.recordMarking(ctx, user, op)
}

// markingQueued is what queueing a marking op settles here: the conflict it
// resolves is resolving, and the refused marking edits of the same answer
// (or the refused submission, for a submission) are recorded again by it.
func markingQueued(ctx context.Context, tx *sql.Tx, op framework.Op) error {
	if op.ConflictID != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE marking_conflicts SET status = 'resolving' WHERE id = ?`, op.ConflictID); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE marking_refused SET status = ? WHERE status = ? AND inspection_id = ? AND case_ref = ? AND question_id = ?`,
		RefusalRerecorded, RefusalOpen, op.InspectionID, op.CaseRef, op.QuestionID)
	return err
}

// MarkingRefusal is a second-marking edit (or submission, QuestionID "")
// the server refused, kept whole until the marker records that answer (or
// submits) again.
type MarkingRefusal struct {
	OpID         string    `json:"op_id"`
	InspectionID string    `json:"inspection_id"`
	CaseRef      string    `json:"case_ref"`
	QuestionID   string    `json:"question_id"`
	Value        string    `json:"value"`
	Note         string    `json:"note"`
	Reason       string    `json:"reason"`
	Code         string    `json:"code"`
	At           time.Time `json:"refused_at"`
}

// MarkingRefusals lists the open refused second-marking edits, oldest
// first.
func (l *Store) MarkingRefusals(ctx context.Context) ([]MarkingRefusal, error) {
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT op_id, inspection_id, case_ref, question_id, value, note, reason, code, at FROM marking_refused
		WHERE status = ? ORDER BY at, op_id`, RefusalOpen)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MarkingRefusal
	for rows.Next() {
		var r MarkingRefusal
		var at string
		if err := rows.Scan(&r.OpID, &r.InspectionID, &r.CaseRef, &r.QuestionID, &r.Value, &r.Note, &r.Reason, &r.Code, &at); err != nil {
			return nil, err
		}
		r.At = sqlite.ParseTime(at)
		out = append(out, r)
	}
	return out, rows.Err()
}
