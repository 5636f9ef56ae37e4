package localstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// Record validates an answer against the inspection's framework and the
// case's attributes and, in one transaction, stores it locally and appends
// its op to the outbox. It needs no network.
func (l *Store) Record(ctx context.Context, user, inspectionID, caseRef, questionID, value, note string) (framework.Op, error) {
	return l.record(ctx, user, framework.Op{InspectionID: inspectionID, CaseRef: caseRef, QuestionID: questionID, Value: value, Note: note})
}

// Resolve queues the resolution of an open conflict: choice is mine (the
// refused edit), theirs (the value the server kept) or value (a new value
// given in value and note). Like Record it works offline.
func (l *Store) Resolve(ctx context.Context, user, conflictID string, choice framework.Resolution, value, note string) (framework.Op, error) {
	op, err := l.resolution(ctx, "conflicts", "conflict", conflictID, choice, value, note)
	if err != nil {
		return framework.Op{}, err
	}
	return l.record(ctx, user, op)
}

// resolution is the op that resolves an open conflict of table (conflicts
// or marking_conflicts; what names it in errors): its value and note those
// of the refused edit (mine), of the server (theirs) or given (value).
// Recording it is the caller's: as an answer or as a marking answer.
func (l *Store) resolution(ctx context.Context, table, what, conflictID string, choice framework.Resolution, value, note string) (framework.Op, error) {
	var body, status string
	err := l.conn.Writer.QueryRowContext(ctx, `SELECT body, status FROM `+table+` WHERE id = ?`, conflictID).Scan(&body, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return framework.Op{}, framework.Errorf(framework.CodeNotFound, "%s %q is not on this device (run fieldwork sync)", what, conflictID)
	}
	if err != nil {
		return framework.Op{}, err
	}
	if status != "open" {
		return framework.Op{}, framework.Errorf(framework.CodePrecondition, "%s %s is %s", what, conflictID, status)
	}
	var c framework.Conflict
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		return framework.Op{}, err
	}
	switch choice {
	case framework.ResolveMine:
		value, note = c.ClientValue, c.ClientNote
	case framework.ResolveTheirs:
		value, note = c.ServerValue, c.ServerNote
	case framework.ResolveValue:
	default:
		return framework.Op{}, framework.Errorf(framework.CodeInvalid, "resolution %q is not mine, theirs or value", choice)
	}
	return framework.Op{InspectionID: c.InspectionID, CaseRef: c.CaseRef, QuestionID: c.QuestionID,
		Value: value, Note: note, ConflictID: c.ID, Resolution: choice}, nil
}

func (l *Store) record(ctx context.Context, user string, want framework.Op) (framework.Op, error) {
	inspectionID, caseRef, questionID, value, note := want.InspectionID, want.CaseRef, want.QuestionID, want.Value, want.Note
	in, err := l.Inspection(ctx, inspectionID)
	if err != nil {
		return framework.Op{}, err
	}
	fw, err := l.Framework(ctx, in.FrameworkID, in.FrameworkVersion)
	if err != nil {
		return framework.Op{}, err
	}
	var op framework.Op
	err = l.write(ctx, func(tx *sql.Tx) error {
		var attrs string
		c := framework.Case{Ref: caseRef}
		err := tx.QueryRowContext(ctx, `SELECT attributes, status, inspector FROM cases WHERE inspection_id = ? AND case_ref = ?`,
			inspectionID, caseRef).Scan(&attrs, &c.Status, &c.Inspector)
		if errors.Is(err, sql.ErrNoRows) {
			return framework.Errorf(framework.CodeNotFound, "case %q is not in inspection %s on this device", caseRef, inspectionID)
		}
		if err != nil {
			return err
		}
		// The same rule the server applies, so the inspector learns at once.
		if err := framework.CheckAnswerWrite(in.Role, c.Inspector == user, inspectionID, in.Status, c); err != nil {
			return err
		}
		// The blind of second marking: its QA marker does not write the
		// first marking (the server refuses it the same way).
		if sel, err := localSelection(ctx, tx, inspectionID, caseRef); err != nil {
			return err
		} else if sel != nil && !framework.CanSeeMarkingValues(in.Role, user, c.Inspector == user, sel, framework.FirstMarking) {
			return framework.MarkingHiddenError(inspectionID, caseRef)
		}
		var a map[string]string
		if err := json.Unmarshal([]byte(attrs), &a); err != nil {
			return fmt.Errorf("case %s attributes: %w", caseRef, err)
		}
		facts := framework.Facts{Attributes: a}
		if fw.AnswerConditions() {
			answers, err := caseAnswers(ctx, tx, inspectionID, caseRef)
			if err != nil {
				return err
			}
			facts = framework.CaseFacts(a, answers)
		}
		v, err := fw.CheckAnswer(caseRef, facts, questionID, value)
		if err != nil {
			return err
		}
		// The server's limit, so that nothing queued here is refused there.
		if err := framework.CheckAnswerNote(caseRef, questionID, note); err != nil {
			return err
		}
		var base int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(revision), 0) FROM answers WHERE inspection_id = ? AND case_ref = ? AND question_id = ?`,
			inspectionID, caseRef, questionID).Scan(&base); err != nil {
			return err
		}
		device, err := l.deviceID(ctx, tx)
		if err != nil {
			return err
		}
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(CAST(value AS INTEGER)), 0) + 1 FROM meta WHERE key = 'device_seq'`).Scan(&seq); err != nil {
			return err
		}
		if err := setMeta(ctx, tx, "device_seq", strconv.FormatInt(seq, 10)); err != nil {
			return err
		}
		// The earlier edits of this answer still unsent are superseded by
		// this one once it is applied, should they reach the server after it.
		supersedes, err := pendingEdits(ctx, tx, inspectionID, caseRef, questionID)
		if err != nil {
			return err
		}
		now := l.Now().UTC()
		op = framework.Op{ID: uuid.Must(uuid.NewV7()).String(), InspectionID: inspectionID, CaseRef: caseRef, QuestionID: questionID,
			Value: v.String(), Note: note, BaseRevision: base, DeviceID: device, DeviceSeq: seq, ClientTime: now,
			ConflictID: want.ConflictID, Resolution: want.Resolution, Supersedes: supersedes}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (device_seq, op_id, inspection_id, case_ref, question_id, value, note, base_revision, client_time, conflict_id, resolution, supersedes, device_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, seq, op.ID, inspectionID, caseRef, questionID, op.Value, note, base, now.Format(time.RFC3339Nano),
			op.ConflictID, op.Resolution, strings.Join(supersedes, ","), device); err != nil {
			return err
		}
		if op.ConflictID != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE conflicts SET status = 'resolving' WHERE id = ?`, op.ConflictID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO answers (inspection_id, case_ref, question_id, value, note, revision, updated_by, updated_at, pending)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT DO UPDATE SET value = excluded.value, note = excluded.note,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at, pending = pending + 1`,
			inspectionID, caseRef, questionID, op.Value, note, base, user, now.Format(time.RFC3339Nano))
		return err
	})
	if err != nil {
		return framework.Op{}, fmt.Errorf("record answer: %w", err)
	}
	return op, nil
}

// pendingEdits lists the op_ids of an answer's edits still in the outbox,
// oldest first (the most recent framework.MaxSupersedes of them).
func pendingEdits(ctx context.Context, tx *sql.Tx, inspectionID, caseRef, questionID string) ([]string, error) {
	return queryStrings(tx.QueryContext(ctx, `SELECT op_id FROM (SELECT op_id, device_seq FROM outbox WHERE inspection_id = ? AND case_ref = ? AND question_id = ?
		AND marking = '' ORDER BY device_seq DESC LIMIT ?) ORDER BY device_seq`, inspectionID, caseRef, questionID, framework.MaxSupersedes))
}

// queryStrings reads a one-column query's rows.
func queryStrings(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (l *Store) deviceID(ctx context.Context, tx *sql.Tx) (string, error) {
	var id string
	err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'device_id'`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		id = uuid.Must(uuid.NewV7()).String()
		return id, setMeta(ctx, tx, "device_id", id)
	}
	return id, err
}

// OutboxAfter returns up to limit unacknowledged ops after device_seq
// after, in device order.
func (l *Store) OutboxAfter(ctx context.Context, after int64, limit int) ([]framework.Op, error) {
	device, err := l.DeviceID(ctx)
	if err != nil {
		return nil, err
	}
	// The reader pool: the push stream reads its next batch while the
	// acknowledgement of an earlier one holds the writer.
	rows, err := l.conn.Reader.QueryContext(ctx, `SELECT device_seq, op_id, inspection_id, case_ref, question_id, value, note, base_revision, client_time,
		conflict_id, resolution, supersedes, device_id, written, case_status, marking FROM outbox WHERE device_seq > ? ORDER BY device_seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.Op
	for rows.Next() {
		op := framework.Op{DeviceID: device}
		var at, supersedes, opDevice, written, status, marking string
		if err := rows.Scan(&op.DeviceSeq, &op.ID, &op.InspectionID, &op.CaseRef, &op.QuestionID, &op.Value, &op.Note, &op.BaseRevision, &at, &op.ConflictID, &op.Resolution, &supersedes, &opDevice, &written, &status, &marking); err != nil {
			return nil, err
		}
		if marking != "" { // a second marking (marking.go)
			op.Marking = &framework.MarkingOp{Submit: marking == "submit"}
		}
		if status != "" { // a case status change (casestatus.go): it names no question
			var q queuedStatus
			if err := json.Unmarshal([]byte(status), &q); err != nil {
				return nil, fmt.Errorf("outbox op %s: %w", op.ID, err)
			}
			op.Status = &framework.CaseStatusOp{Status: q.Status, Reason: q.Reason}
		}
		if written != "" { // a written judgement (written.go): it names no case or question
			op.Written = &framework.WrittenOp{}
			if err := json.Unmarshal([]byte(written), op.Written); err != nil {
				return nil, fmt.Errorf("outbox op %s: %w", op.ID, err)
			}
			op.QuestionID = ""
		}
		if opDevice != "" { // "": queued before device ids were kept per op
			op.DeviceID = opDevice
		}
		if supersedes != "" {
			op.Supersedes = strings.Split(supersedes, ",")
		}
		op.ClientTime = sqlite.ParseTime(at)
		out = append(out, op)
	}
	return out, rows.Err()
}

// PendingCount is the number of ops waiting in the outbox.
func (l *Store) PendingCount(ctx context.Context) (int, error) {
	var n int
	err := l.conn.Writer.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&n)
	return n, err
}

// caseAnswers reads a case's answers on this device (sent or not):
// question → value.
func caseAnswers(ctx context.Context, tx *sql.Tx, inspectionID, caseRef string) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT question_id, value FROM answers WHERE inspection_id = ? AND case_ref = ?`, inspectionID, caseRef)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var q, v string
		if err := rows.Scan(&q, &v); err != nil {
			return nil, err
		}
		out[q] = v
	}
	return out, rows.Err()
}
