package localstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Case status ops on the laptop: a submission made offline is checked here
// by the server's rule (Framework.CheckStatusChange, on the case and its
// answers as this laptop holds them), queued in the outbox, and shown at
// once (the case reads as submitted, so no answer is changed under it);
// its ack settles it, and a refusal puts the case back as it was and is
// kept for its author like a refused answer.

// queuedStatus is an outbox row's case_status column.
type queuedStatus struct {
	Status framework.CaseStatus
	Reason string
	From   framework.CaseStatus // the case's status here when queued
}

// Rejection kinds.
const (
	RejectedAnswer     = "answer"
	RejectedCaseStatus = "case_status"
)

// QueueCaseStatus checks a move of a case to status to and, in one
// transaction, sets the case's status here and appends the op to the
// outbox. It needs no network; the server decides it on the next sync.
func (l *Store) QueueCaseStatus(ctx context.Context, user, inspectionID, caseRef string, to framework.CaseStatus, reason string) (framework.Op, error) {
	in, err := l.Inspection(ctx, inspectionID)
	if err != nil {
		return framework.Op{}, err
	}
	fw, err := l.Framework(ctx, in.FrameworkID, in.FrameworkVersion)
	if err != nil {
		return framework.Op{}, err
	}
	if err := framework.FieldReason.CheckAs("reason", reason); err != nil {
		return framework.Op{}, err
	}
	var op framework.Op
	err = l.write(ctx, func(tx *sql.Tx) error {
		var attrs string
		c := framework.Case{Ref: caseRef}
		err := tx.QueryRowContext(ctx, `SELECT attributes, status, inspector, status_rev FROM cases WHERE inspection_id = ? AND case_ref = ?`,
			inspectionID, caseRef).Scan(&attrs, &c.Status, &c.Inspector, &c.StatusRevision)
		if errors.Is(err, sql.ErrNoRows) {
			return framework.Errorf(framework.CodeNotFound, "case %q is not in inspection %s on this device", caseRef, inspectionID)
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(attrs), &c.Attributes); err != nil {
			return fmt.Errorf("case %s attributes: %w", caseRef, err)
		}
		answers, err := caseAnswers(ctx, tx, inspectionID, caseRef)
		if err != nil {
			return err
		}
		// The server's rule, so the inspector learns at once what it would say.
		if err := fw.CheckStatusChange(in.Role, c.Inspector == user, inspectionID, in.Status, c, framework.CaseFacts(c.Attributes, answers), to, reason); err != nil {
			return err
		}
		device, err := l.deviceID(ctx, tx)
		if err != nil {
			return err
		}
		seq, err := nextDeviceSeq(ctx, tx)
		if err != nil {
			return err
		}
		now := l.Now().UTC()
		// Its base is the status revision last pulled: a change made
		// elsewhere since (QA returned the case) makes the server refuse it.
		op = framework.Op{ID: uuid.Must(uuid.NewV7()).String(), InspectionID: inspectionID, CaseRef: caseRef, DeviceID: device, DeviceSeq: seq,
			ClientTime: now, Status: &framework.CaseStatusOp{Status: to, Reason: reason}, BaseRevision: c.StatusRevision}
		body, _ := json.Marshal(queuedStatus{Status: to, Reason: reason, From: c.Status})
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (device_seq, op_id, inspection_id, case_ref, question_id, value, note, base_revision, client_time,
			conflict_id, resolution, supersedes, device_id, case_status) VALUES (?, ?, ?, ?, '', '', '', ?, ?, '', '', '', ?, ?)`,
			seq, op.ID, inspectionID, caseRef, op.BaseRevision, now.Format(time.RFC3339Nano), device, string(body)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE cases SET status = ? WHERE inspection_id = ? AND case_ref = ?`, to, inspectionID, caseRef)
		return err
	})
	if err != nil {
		return framework.Op{}, fmt.Errorf("queue case status: %w", err)
	}
	return op, nil
}

// QueuedCaseStatus is the status change of a case waiting in the outbox
// ("" if none): the case shows it already, and the server has not yet
// decided it.
func (l *Store) QueuedCaseStatus(ctx context.Context, inspectionID, caseRef string) (framework.CaseStatus, error) {
	var body string
	err := l.conn.Writer.QueryRowContext(ctx, `SELECT case_status FROM outbox WHERE inspection_id = ? AND case_ref = ? AND case_status != ''
		ORDER BY device_seq DESC LIMIT 1`, inspectionID, caseRef).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var q queuedStatus
	if err := json.Unmarshal([]byte(body), &q); err != nil {
		return "", err
	}
	return q.Status, nil
}

// settleStatus settles the acks of status ops still in the outbox (queued
// says which): the case shows the status the server holds, as the ack
// tells it, or, refused without one, the status it had before; a refusal
// is kept whole for its author.
// from holds, by op id, the status each case had before its op was queued
// (statusFrom, read before the ops leave the outbox).
func (l *Store) settleStatus(ctx context.Context, tx *sql.Tx, ops map[string]framework.Op, acks []framework.Ack, queued map[string]bool,
	from map[string]framework.CaseStatus) error {
	for _, ack := range acks {
		op, ok := ops[ack.OpID]
		if !ok || op.Status == nil || !queued[op.ID] {
			continue
		}
		status := framework.CaseStatus("")
		if ack.Case != nil {
			status = ack.Case.Status
		}
		if ack.Result == framework.OpRejected {
			if _, err := tx.ExecContext(ctx, `INSERT INTO rejected (op_id, inspection_id, case_ref, question_id, value, note, reason, code, at, kind)
				VALUES (?, ?, ?, '', ?, ?, ?, ?, ?, ?) ON CONFLICT (op_id) DO NOTHING`,
				op.ID, op.InspectionID, op.CaseRef, string(op.Status.Status), op.Status.Reason, ack.Reason, string(framework.ErrorCode(ack.Err)),
				l.Now().UTC().Format(time.RFC3339Nano), RejectedCaseStatus); err != nil {
				return err
			}
			if status == "" {
				status = from[op.ID]
			}
		}
		if status != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET status = ? WHERE inspection_id = ? AND case_ref = ?`, status, op.InspectionID, op.CaseRef); err != nil {
				return err
			}
		}
		if ack.Case != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET status_rev = ? WHERE inspection_id = ? AND case_ref = ?`, ack.Case.StatusRevision, op.InspectionID, op.CaseRef); err != nil {
				return err
			}
		}
	}
	return nil
}

// statusFrom reads, for the status ops among ops, the status their case
// had when each was queued (nil when there are none: answers pay nothing).
func statusFrom(ctx context.Context, tx *sql.Tx, ops []framework.Op) (map[string]framework.CaseStatus, error) {
	var out map[string]framework.CaseStatus
	for _, op := range ops {
		if op.Status == nil {
			continue
		}
		var body string
		err := tx.QueryRowContext(ctx, `SELECT case_status FROM outbox WHERE op_id = ?`, op.ID).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			continue // acknowledged before
		}
		if err != nil {
			return nil, err
		}
		var q queuedStatus
		if err := json.Unmarshal([]byte(body), &q); err != nil {
			return nil, fmt.Errorf("outbox op %s: %w", op.ID, err)
		}
		if out == nil {
			out = map[string]framework.CaseStatus{}
		}
		out[op.ID] = q.From
	}
	return out, nil
}
