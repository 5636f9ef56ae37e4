package localstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// Rejection is an edit the server refused, kept for its author.
type Rejection struct {
	OpID         string    `json:"op_id"`
	InspectionID string    `json:"inspection_id"`
	CaseRef      string    `json:"case_ref"`
	QuestionID   string    `json:"question_id"`
	Value        string    `json:"value"`
	Note         string    `json:"note"`
	Reason       string    `json:"reason"`
	Code         string    `json:"code"` // framework.Code: who or what refused it (permission, precondition, invalid …)
	At           time.Time `json:"refused_at"`
	// Status is open until the inspector acts: rerecorded (as the op
	// RerecordedAs) or dismissed.
	Status       string `json:"status"`
	RerecordedAs string `json:"rerecorded_as,omitempty"`
	// Kind is what was refused: an answer, or a case status change
	// (RejectedCaseStatus: QuestionID is "", Value the status asked for,
	// Note its reason).
	Kind string `json:"kind"`
}

// Refusal states.
const (
	RefusalOpen       = "open"
	RefusalRerecorded = "rerecorded"
	RefusalDismissed  = "dismissed"
)

// Rejections lists the refused edits still waiting for their author.
func (l *Store) Rejections(ctx context.Context) ([]Rejection, error) {
	return l.rejections(ctx, `WHERE status = 'open'`)
}

// AllRejections lists every refused edit this device has kept, settled ones
// too.
func (l *Store) AllRejections(ctx context.Context) ([]Rejection, error) {
	return l.rejections(ctx, ``)
}

func (l *Store) rejections(ctx context.Context, where string, args ...any) ([]Rejection, error) {
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT op_id, inspection_id, case_ref, question_id, value, note, reason, code, at, status, rerecorded_as, kind
		FROM rejected `+where+` ORDER BY at, op_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Rejection
	for rows.Next() {
		var r Rejection
		var at string
		if err := rows.Scan(&r.OpID, &r.InspectionID, &r.CaseRef, &r.QuestionID, &r.Value, &r.Note, &r.Reason, &r.Code, &at, &r.Status, &r.RerecordedAs, &r.Kind); err != nil {
			return nil, err
		}
		r.At = sqlite.ParseTime(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// RefusalSelector picks open refused edits: by op_id (or a unique prefix of
// at least 8 characters), or by case and question (every open refusal of
// that answer).
type RefusalSelector struct {
	OpID, InspectionID, CaseRef, QuestionID string
}

func (l *Store) selectRefusals(ctx context.Context, sel RefusalSelector) ([]Rejection, error) {
	var rs []Rejection
	var err error
	switch {
	case sel.OpID != "":
		if len(sel.OpID) < 8 {
			return nil, framework.Errorf(framework.CodeInvalid, "give at least 8 characters of the op id (%q)", sel.OpID)
		}
		rs, err = l.rejections(ctx, `WHERE status = 'open' AND substr(op_id, 1, ?) = ?`, len(sel.OpID), sel.OpID)
		if err == nil && len(rs) > 1 {
			return nil, framework.Errorf(framework.CodeInvalid, "%d refused edits have ids starting %q: give more of the id", len(rs), sel.OpID)
		}
	case sel.CaseRef != "" && sel.QuestionID != "":
		rs, err = l.rejections(ctx, `WHERE status = 'open' AND (? = '' OR inspection_id = ?) AND case_ref = ? AND question_id = ?`,
			sel.InspectionID, sel.InspectionID, sel.CaseRef, sel.QuestionID)
	default:
		return nil, framework.Errorf(framework.CodeInvalid, "name the refused edit by --op ID, or by --case and --question")
	}
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, framework.Errorf(framework.CodeNotFound, "no open refused edit matches (see fieldwork status)")
	}
	return rs, nil
}

// RecordAgain records the latest selected refused edit again, as a new
// edit with the same value and note on top of the answer as it now stands,
// and marks every selected refusal settled by it. It is validated like any
// edit, so a refusal whose cause remains is refused here, at once.
func (l *Store) RecordAgain(ctx context.Context, user string, sel RefusalSelector) (framework.Op, error) {
	rs, err := l.selectRefusals(ctx, sel)
	if err != nil {
		return framework.Op{}, err
	}
	r := rs[len(rs)-1]
	var op framework.Op
	if r.Kind == RejectedCaseStatus {
		op, err = l.QueueCaseStatus(ctx, user, r.InspectionID, r.CaseRef, framework.CaseStatus(r.Value), r.Note)
	} else {
		op, err = l.record(ctx, user, framework.Op{InspectionID: r.InspectionID, CaseRef: r.CaseRef, QuestionID: r.QuestionID, Value: r.Value, Note: r.Note})
	}
	if err != nil {
		return framework.Op{}, err
	}
	err = l.write(ctx, func(tx *sql.Tx) error {
		for _, r := range rs {
			if _, err := tx.ExecContext(ctx, `UPDATE rejected SET status = ?, rerecorded_as = ?, settled_at = ? WHERE op_id = ?`,
				RefusalRerecorded, op.ID, l.Now().UTC().Format(time.RFC3339Nano), r.OpID); err != nil {
				return err
			}
		}
		return nil
	})
	return op, err
}

// Dismiss marks the selected refused edits dismissed by their author. The
// row stays; the dismissal is sent to the server's audit trail at the next
// sync (PendingDismissals).
func (l *Store) Dismiss(ctx context.Context, sel RefusalSelector) ([]Rejection, error) {
	rs, err := l.selectRefusals(ctx, sel)
	if err != nil {
		return nil, err
	}
	err = l.write(ctx, func(tx *sql.Tx) error {
		for _, r := range rs {
			if _, err := tx.ExecContext(ctx, `UPDATE rejected SET status = ?, settled_at = ? WHERE op_id = ?`,
				RefusalDismissed, l.Now().UTC().Format(time.RFC3339Nano), r.OpID); err != nil {
				return err
			}
		}
		return nil
	})
	return rs, err
}

// PendingDismissals lists the op ids of dismissals not yet sent to the
// server.
func (l *Store) PendingDismissals(ctx context.Context) ([]string, error) {
	return queryStrings(l.conn.Writer.QueryContext(ctx, `SELECT op_id FROM rejected WHERE status = ? AND dismissal_sent = 0 ORDER BY op_id`, RefusalDismissed))
}

// DismissalsSent records that the server has audited these dismissals.
func (l *Store) DismissalsSent(ctx context.Context, ids []string) error {
	return l.write(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE rejected SET dismissal_sent = 1 WHERE op_id = ?`, id); err != nil {
				return err
			}
		}
		return nil
	})
}
