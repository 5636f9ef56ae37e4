package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// MaxDismissals bounds one DismissRefusals call.
const MaxDismissals = 5000

// DismissRefusals audits that u dismissed refused ops of theirs, and
// returns how many of opIDs those were. Other ids (unknown, not refused, or
// another user's) are skipped alike.
func (db *DB) DismissRefusals(ctx context.Context, u framework.User, device string, opIDs []string) (int, error) {
	if len(opIDs) > MaxDismissals {
		return 0, framework.Errorf(framework.CodeInvalid, "%d op ids are over the limit of %d", len(opIDs), MaxDismissals)
	}
	n := 0
	err := db.write(ctx, func(tx *sql.Tx) error {
		n = 0
		at := db.now()
		for _, id := range opIDs {
			var reason, question string
			var inspection, ref sql.NullString
			err := tx.QueryRowContext(ctx, `SELECT r.reason, coalesce(r.question_id, ''), c.inspection_id, c.case_ref FROM op_records r
				LEFT JOIN cases c ON c.id = r.case_id WHERE r.op_id = ? AND r.result = ? AND r.user_name = ?`,
				id, int(framework.OpRejected), u.Name).Scan(&reason, &question, &inspection, &ref)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO dismissals (op_id) VALUES (?) ON CONFLICT DO NOTHING`, id)
			if err != nil {
				return err
			}
			if first, err := res.RowsAffected(); err != nil || first == 0 {
				n++ // dismissed before: counted, not audited again
				continue
			}
			entity := "op/" + id
			if inspection.Valid {
				entity = "case/" + inspection.String + "/" + ref.String + "/" + question
			}
			if err := audit(ctx, tx, at, framework.Actor{User: u.Name, Device: device, Admin: u.Admin}, "refusal.dismiss", entity,
				map[string]string{"op_id": id, "reason": reason}, map[string]string{"status": "dismissed"}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("dismiss refusals: %w", err)
	}
	return n, nil
}

// RefusedEdit is an edit the server refused that still waits on its
// author: neither dismissed nor followed by an edit of the same answer
// from the same device that was applied.
type RefusedEdit struct {
	OpID       string
	CaseRef    string
	Inspector  string // the case's inspector, for framework.CanSeeCase
	QuestionID string // "" for a case status op
	User       string
	Device     string
	Reason     string
	At         time.Time
}

// waitingRefusals are the refused edits of an inspection that wait on
// their authors; its parameters are the inspection's id and OpRejected.
const waitingRefusals = `FROM cases c JOIN ops_applied o ON o.case_id = c.id
	WHERE c.inspection_id = ? AND o.result = ?
	AND NOT EXISTS (SELECT 1 FROM dismissals d WHERE d.op_id = o.op_id)
	AND NOT EXISTS (SELECT 1 FROM answer_history h WHERE h.case_id = o.case_id AND h.question_id = o.question_id
		AND h.updated_by = o.user_name AND h.device_id = o.device_id AND h.device_seq > o.device_seq)`

// RefusedEdits lists up to limit of an inspection's refused edits that wait
// on their authors, newest first, and how many there are in all. Refusals
// of an op naming no case of the inspection are not among them: there is
// no case of it to show (and none are kept for callers not on its team).
func (db *DB) RefusedEdits(ctx context.Context, inspectionID string, limit int) ([]RefusedEdit, int, error) {
	var out []RefusedEdit
	total := 0
	err := db.read(ctx, func(tx *sql.Tx) error {
		out, total = nil, 0
		if err := tx.QueryRowContext(ctx, `SELECT count(*) `+waitingRefusals, inspectionID, int(framework.OpRejected)).Scan(&total); err != nil || total == 0 || limit <= 0 {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT o.op_id, c.case_ref, c.inspector, coalesce(o.question_id, ''), o.user_name, o.device_id, o.reason, o.applied_at `+
			waitingRefusals+` ORDER BY o.applied_at DESC, o.op_id LIMIT ?`, inspectionID, int(framework.OpRejected), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r RefusedEdit
			var at string
			if err := rows.Scan(&r.OpID, &r.CaseRef, &r.Inspector, &r.QuestionID, &r.User, &r.Device, &r.Reason, &at); err != nil {
				return err
			}
			r.At = sqlite.ParseTime(at)
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list refused edits: %w", err)
	}
	return out, total, nil
}
