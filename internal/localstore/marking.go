package localstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// Second marking on the laptop (docs/qa.md): the QA marker records the
// marking offline, with an outbox op like an answer (framework.
// CheckMarkingWrite and the answer checks on the marking's own facts, the
// server's rules), submits it (CheckMarkingSubmit), and the acks and
// pulls settle it. The marking is kept apart from the case's answers.

// localSelection is a case's selection as this laptop holds it (nil: none).
func localSelection(ctx context.Context, tx interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, inspectionID, caseRef string) (*framework.QASelection, error) {
	var body, status string
	err := tx.QueryRowContext(ctx, `SELECT body, status FROM qa_selections WHERE inspection_id = ? AND case_ref = ?`, inspectionID, caseRef).Scan(&body, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s framework.QASelection
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		return nil, fmt.Errorf("qa selection of case %s: %w", caseRef, err)
	}
	s.Status = framework.MarkingStatus(status)
	return &s, nil
}

// Selections lists the QA selections of an inspection this laptop holds.
func (l *Store) Selections(ctx context.Context, inspectionID string) ([]framework.QASelection, error) {
	rows, err := l.conn.Reader.QueryContext(ctx, `SELECT body, status FROM qa_selections WHERE inspection_id = ? ORDER BY case_ref`, inspectionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.QASelection
	for rows.Next() {
		var body, status string
		if err := rows.Scan(&body, &status); err != nil {
			return nil, err
		}
		var s framework.QASelection
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			return nil, err
		}
		s.Status = framework.MarkingStatus(status)
		out = append(out, s)
	}
	return out, rows.Err()
}

// MarkingAnswers reads the second marking of a case on this laptop.
func (l *Store) MarkingAnswers(ctx context.Context, inspectionID, caseRef string) ([]framework.Answer, error) {
	rows, err := l.conn.Reader.QueryContext(ctx, `SELECT case_ref, question_id, value, note, revision, updated_by, updated_at FROM marking_answers
		WHERE inspection_id = ? AND case_ref = ? ORDER BY question_id`, inspectionID, caseRef)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.Answer
	for rows.Next() {
		var a framework.Answer
		var at string
		if err := rows.Scan(&a.CaseRef, &a.QuestionID, &a.Value, &a.Note, &a.Revision, &a.UpdatedBy, &at); err != nil {
			return nil, err
		}
		a.UpdatedAt = sqlite.ParseTime(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// markingContext is what recording a marking op needs of a case.
type markingContext struct {
	in    framework.Inspection
	fw    *framework.Framework
	c     framework.Case
	sel   *framework.QASelection
	facts framework.Facts
}

// inspectionFramework reads an inspection and its framework, before a
// write transaction (they read through the store's own connections).
func (l *Store) inspectionFramework(ctx context.Context, inspectionID string) (framework.Inspection, *framework.Framework, error) {
	in, err := l.Inspection(ctx, inspectionID)
	if err != nil {
		return in, nil, err
	}
	fw, err := l.Framework(ctx, in.FrameworkID, in.FrameworkVersion)
	return in, fw, err
}

func (l *Store) markingContext(ctx context.Context, tx *sql.Tx, in framework.Inspection, fw *framework.Framework, user, caseRef string) (markingContext, error) {
	var m markingContext
	inspectionID := in.ID
	var attrs string
	c := framework.Case{Ref: caseRef}
	err := tx.QueryRowContext(ctx, `SELECT attributes, status, inspector FROM cases WHERE inspection_id = ? AND case_ref = ?`, inspectionID, caseRef).
		Scan(&attrs, &c.Status, &c.Inspector)
	if errors.Is(err, sql.ErrNoRows) {
		return m, framework.Errorf(framework.CodeNotFound, "case %q is not in inspection %s on this device", caseRef, inspectionID)
	}
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal([]byte(attrs), &c.Attributes); err != nil {
		return m, fmt.Errorf("case %s attributes: %w", caseRef, err)
	}
	sel, err := localSelection(ctx, tx, inspectionID, caseRef)
	if err != nil {
		return m, err
	}
	if err := framework.CheckMarkingWrite(user, inspectionID, caseRef, in.Status, sel); err != nil {
		return m, err
	}
	vals := map[string]string{}
	rows, err := tx.QueryContext(ctx, `SELECT question_id, value FROM marking_answers WHERE inspection_id = ? AND case_ref = ?`, inspectionID, caseRef)
	if err != nil {
		return m, err
	}
	for rows.Next() {
		var q, v string
		if err := rows.Scan(&q, &v); err != nil {
			rows.Close()
			return m, err
		}
		vals[q] = v
	}
	rows.Close()
	return markingContext{in: in, fw: fw, c: c, sel: sel, facts: framework.CaseFacts(c.Attributes, vals)}, rows.Err()
}

// RecordMarking records one answer of a case's second marking, checked as
// the server checks it, with its outbox op, in one transaction.
func (l *Store) RecordMarking(ctx context.Context, user, inspectionID, caseRef, questionID, value, note string) (framework.Op, error) {
	return l.recordMarking(ctx, user, framework.Op{InspectionID: inspectionID, CaseRef: caseRef, QuestionID: questionID, Value: value, Note: note})
}

// recordMarking records a marking answer; want's ConflictID and Resolution
// make it the resolution of that marking conflict (ResolveMarking).
func (l *Store) recordMarking(ctx context.Context, user string, want framework.Op) (framework.Op, error) {
	inspectionID, caseRef, questionID, value, note := want.InspectionID, want.CaseRef, want.QuestionID, want.Value, want.Note
	in, fw, err := l.inspectionFramework(ctx, inspectionID)
	if err != nil {
		return framework.Op{}, err
	}
	var op framework.Op
	err = l.write(ctx, func(tx *sql.Tx) error {
		m, err := l.markingContext(ctx, tx, in, fw, user, caseRef)
		if err != nil {
			return err
		}
		v, err := m.fw.CheckAnswer(caseRef, m.facts, questionID, value)
		if err != nil {
			return err
		}
		if err := framework.CheckAnswerNote(caseRef, questionID, note); err != nil {
			return err
		}
		var base int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(revision), 0) FROM marking_answers WHERE inspection_id = ? AND case_ref = ? AND question_id = ?`,
			inspectionID, caseRef, questionID).Scan(&base); err != nil {
			return err
		}
		supersedes, err := queryStrings(tx.QueryContext(ctx, `SELECT op_id FROM (SELECT op_id, device_seq FROM outbox WHERE inspection_id = ? AND case_ref = ?
			AND question_id = ? AND marking = 'answer' ORDER BY device_seq DESC LIMIT ?) ORDER BY device_seq`, inspectionID, caseRef, questionID, framework.MaxSupersedes))
		if err != nil {
			return err
		}
		op, err = l.queueMarking(ctx, tx, framework.Op{InspectionID: inspectionID, CaseRef: caseRef, QuestionID: questionID, Value: v.String(), Note: note,
			BaseRevision: base, Supersedes: supersedes, ConflictID: want.ConflictID, Resolution: want.Resolution, Marking: &framework.MarkingOp{}})
		if err != nil {
			return err
		}
		if err := markingQueued(ctx, tx, op); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO marking_answers (inspection_id, case_ref, question_id, value, note, revision, updated_by, updated_at, pending)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT DO UPDATE SET value = excluded.value, note = excluded.note,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at, pending = pending + 1`,
			inspectionID, caseRef, questionID, op.Value, note, base, user, op.ClientTime.Format(time.RFC3339Nano))
		return err
	})
	if err != nil {
		return framework.Op{}, fmt.Errorf("record second marking: %w", err)
	}
	return op, nil
}

// SubmitMarking queues the submission of a case's second marking, after
// the server's rule on this laptop's copy (CheckMarkingSubmit: every
// applicable question of the marking answered); the selection reads
// submitted here meanwhile.
func (l *Store) SubmitMarking(ctx context.Context, user, inspectionID, caseRef string) (framework.Op, error) {
	in, fw, err := l.inspectionFramework(ctx, inspectionID)
	if err != nil {
		return framework.Op{}, err
	}
	var op framework.Op
	err = l.write(ctx, func(tx *sql.Tx) error {
		m, err := l.markingContext(ctx, tx, in, fw, user, caseRef)
		if err != nil {
			return err
		}
		if err := m.fw.CheckMarkingSubmit(caseRef, m.facts); err != nil {
			return err
		}
		if op, err = l.queueMarking(ctx, tx, framework.Op{InspectionID: inspectionID, CaseRef: caseRef, Marking: &framework.MarkingOp{Submit: true}}); err != nil {
			return err
		}
		if err := markingQueued(ctx, tx, op); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE qa_selections SET status = 'submitted' WHERE inspection_id = ? AND case_ref = ?`, inspectionID, caseRef)
		return err
	})
	if err != nil {
		return framework.Op{}, fmt.Errorf("submit second marking: %w", err)
	}
	return op, nil
}

// MarkingMissing lists the applicable questions the second marking of a
// case has not answered yet, on this laptop.
func (l *Store) MarkingMissing(ctx context.Context, user, inspectionID, caseRef string) ([]string, error) {
	in, fw, err := l.inspectionFramework(ctx, inspectionID)
	if err != nil {
		return nil, err
	}
	var out []string
	err = l.write(ctx, func(tx *sql.Tx) error {
		m, err := l.markingContext(ctx, tx, in, fw, user, caseRef)
		if err != nil {
			return err
		}
		out = m.fw.Missing(m.facts)
		return nil
	})
	return out, err
}

func (l *Store) queueMarking(ctx context.Context, tx *sql.Tx, op framework.Op) (framework.Op, error) {
	device, err := l.deviceID(ctx, tx)
	if err != nil {
		return op, err
	}
	seq, err := nextDeviceSeq(ctx, tx)
	if err != nil {
		return op, err
	}
	now := l.Now().UTC()
	op.ID, op.DeviceID, op.DeviceSeq, op.ClientTime = uuid.Must(uuid.NewV7()).String(), device, seq, now
	kind := "answer"
	if op.Marking.Submit {
		kind = "submit"
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox (device_seq, op_id, inspection_id, case_ref, question_id, value, note, base_revision, client_time,
		conflict_id, resolution, supersedes, device_id, marking) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		seq, op.ID, op.InspectionID, op.CaseRef, op.QuestionID, op.Value, op.Note, op.BaseRevision, now.Format(time.RFC3339Nano),
		op.ConflictID, op.Resolution, strings.Join(op.Supersedes, ","), device, kind)
	return op, err
}

// settleMarking settles the marking ops of an acknowledged batch still
// queued: the answer shows the server's once no edit of it is pending, a
// conflict is kept with both values, a refusal kept whole, and a refused
// submission leaves the marking open here again.
func (l *Store) settleMarking(ctx context.Context, tx *sql.Tx, ops map[string]framework.Op, acks []framework.Ack, queued map[string]bool) error {
	for _, ack := range acks {
		op, ok := ops[ack.OpID]
		if !ok || op.Marking == nil || !queued[op.ID] {
			continue
		}
		if ack.Selection != nil {
			if err := putPulledSelection(ctx, tx, ack.Selection); err != nil {
				return err
			}
		}
		if ack.MarkingConflict != nil {
			if err := putLocalMarkingConflict(ctx, tx, ack.MarkingConflict); err != nil {
				return err
			}
		}
		if ack.Result == framework.OpRejected {
			if _, err := tx.ExecContext(ctx, `INSERT INTO marking_refused (op_id, inspection_id, case_ref, question_id, value, note, reason, code, at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (op_id) DO NOTHING`, op.ID, op.InspectionID, op.CaseRef, op.QuestionID, op.Value, op.Note,
				ack.Reason, string(framework.ErrorCode(ack.Err)), l.Now().UTC().Format(time.RFC3339Nano)); err != nil {
				return err
			}
			if op.Marking.Submit && ack.Selection == nil {
				if _, err := tx.ExecContext(ctx, `UPDATE qa_selections SET status = ? WHERE inspection_id = ? AND case_ref = ?`,
					framework.MarkingOpen, op.InspectionID, op.CaseRef); err != nil {
					return err
				}
			}
		}
		if op.ConflictID != "" && ack.Result != framework.OpApplied {
			// The resolution did not take: the conflict is open again here.
			if _, err := tx.ExecContext(ctx, `UPDATE marking_conflicts SET status = 'open' WHERE id = ? AND status = 'resolving'`, op.ConflictID); err != nil {
				return err
			}
		}
		if op.Marking.Submit {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE marking_answers SET pending = max(pending - 1, 0) WHERE inspection_id = ? AND case_ref = ? AND question_id = ?`,
			op.InspectionID, op.CaseRef, op.QuestionID); err != nil {
			return err
		}
		if a := ack.Marking; a != nil {
			if err := putPulledMarking(ctx, tx, op.InspectionID, a); err != nil {
				return err
			}
		} else if ack.Result != framework.OpApplied {
			// The server holds no marking answer this laptop may see: a
			// first write refused goes with its last pending edit (kept in
			// marking_refused).
			if _, err := tx.ExecContext(ctx, `DELETE FROM marking_answers WHERE inspection_id = ? AND case_ref = ? AND question_id = ? AND pending = 0 AND revision = 0`,
				op.InspectionID, op.CaseRef, op.QuestionID); err != nil {
				return err
			}
		}
	}
	return nil
}

// putPulledMarking stores the server's second-marking answer, unless an
// edit of it is pending here.
func putPulledMarking(ctx context.Context, tx *sql.Tx, inspectionID string, a *framework.Answer) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO marking_answers (inspection_id, case_ref, question_id, value, note, revision, updated_by, updated_at, pending)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT DO UPDATE SET
		value = CASE WHEN pending > 0 THEN value ELSE excluded.value END,
		note = CASE WHEN pending > 0 THEN note ELSE excluded.note END,
		updated_by = CASE WHEN pending > 0 THEN updated_by ELSE excluded.updated_by END,
		updated_at = CASE WHEN pending > 0 THEN updated_at ELSE excluded.updated_at END,
		revision = CASE WHEN pending > 0 THEN revision ELSE excluded.revision END`,
		inspectionID, a.CaseRef, a.QuestionID, a.Value, a.Note, a.Revision, a.UpdatedBy, a.UpdatedAt.UTC().Format(time.RFC3339Nano))
	return err
}

// putPulledSelection stores a selection. One that says its user may not
// see the case's first marking (FirstHidden: they are its QA marker, and
// the blind holds) drops what this laptop holds of that marking — answers
// and conflicts pulled before the case was selected — keeping unsent edits,
// which the server then refuses and this laptop lists.
func putPulledSelection(ctx context.Context, tx *sql.Tx, s *framework.QASelection) error {
	body, _ := json.Marshal(s)
	// A submission queued here still reads submitted until it is settled.
	if _, err := tx.ExecContext(ctx, `INSERT INTO qa_selections (inspection_id, case_ref, qa_user, status, body) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO UPDATE SET qa_user = excluded.qa_user, body = excluded.body,
		status = CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.inspection_id = excluded.inspection_id AND o.case_ref = excluded.case_ref AND o.marking = 'submit')
			THEN status ELSE excluded.status END`, s.InspectionID, s.CaseRef, s.QA, s.Status, string(body)); err != nil {
		return err
	}
	if !s.FirstHidden {
		return nil
	}
	for _, q := range []string{
		`DELETE FROM answers WHERE inspection_id = ? AND case_ref = ? AND pending = 0`,
		`DELETE FROM conflicts WHERE inspection_id = ? AND case_ref = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, s.InspectionID, s.CaseRef); err != nil {
			return err
		}
	}
	return nil
}
