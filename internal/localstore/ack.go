package localstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
	"github.com/fieldworkhq/fieldwork/internal/syncer"
)

// Acknowledge applies the server's acknowledgements of pushed ops in one
// transaction: acknowledged ops leave the outbox; once an answer has no
// local edit pending, it shows the server's current answer (the op's value
// if applied, the kept value after a conflict or a rejection); conflicts
// and rejections are kept for the user.
func (l *Store) Acknowledge(ctx context.Context, ops []framework.Op, acks []framework.Ack) error {
	byID := make(map[string]framework.Op, len(ops))
	for _, op := range ops {
		byID[op.ID] = op
	}
	var ids []any
	whole := len(acks) == len(ops) // every op of the batch acknowledged, in order
	for i, ack := range acks {
		if _, ok := byID[ack.OpID]; ok {
			ids = append(ids, ack.OpID)
		}
		whole = whole && ack.OpID == ops[i].ID
	}
	fast := whole && settleInOneStatement && commonApplied(ops, acks)
	var reusedDevice string
	for i, ack := range acks {
		if ack.DeviceReused && i < len(ops) {
			reusedDevice = ops[i].DeviceID
		}
	}
	return l.write(ctx, func(tx *sql.Tx) error {
		from, err := statusFrom(ctx, tx, ops)
		if err != nil {
			return fmt.Errorf("acknowledge: %w", err)
		}
		if reusedDevice != "" {
			// The server has seen this device's sequence numbers from another
			// copy of this store (restored from a backup, or copied): from now
			// on this store syncs as a new device, so the two cannot be taken
			// for one another. Queued ops keep the id they were made under.
			if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'device_id' AND value = ?`,
				uuid.Must(uuid.NewV7()).String(), reusedDevice); err != nil {
				return fmt.Errorf("acknowledge: new device id: %w", err)
			}
		}
		if fast {
			if err := settleApplied(ctx, tx, ops, acks); err != nil {
				return err
			}
			if consecutive(ops) {
				// Nothing but the batch lies in its range, and nothing else is
				// left to do with the ops still in the outbox.
				if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE device_seq BETWEEN ? AND ?`, ops[0].DeviceSeq, ops[len(ops)-1].DeviceSeq); err != nil {
					return fmt.Errorf("acknowledge: %w", err)
				}
				return nil
			}
		}
		// The ops still in the outbox leave it; the others were acknowledged
		// before (a re-sent batch) and change nothing.
		inOutbox := make(map[string]bool, len(ids))
		keep := func(rows *sql.Rows, id func(*sql.Rows) (string, error)) error {
			defer rows.Close()
			for rows.Next() {
				opID, err := id(rows)
				if err != nil {
					return err
				}
				inOutbox[opID] = true
			}
			return rows.Err()
		}
		if whole && len(ops) > 0 {
			// A batch is a run of consecutive outbox rows (OutboxAfter), and
			// device_seq only grows: the rows left in its range are its ops.
			bySeq := make(map[int64]string, len(ops))
			lo, hi := ops[0].DeviceSeq, ops[0].DeviceSeq
			for _, op := range ops {
				bySeq[op.DeviceSeq] = op.ID
				lo, hi = min(lo, op.DeviceSeq), max(hi, op.DeviceSeq)
			}
			rows, err := tx.QueryContext(ctx, `DELETE FROM outbox WHERE device_seq BETWEEN ? AND ? RETURNING device_seq`, lo, hi)
			if err != nil {
				return err
			}
			if err := keep(rows, func(rows *sql.Rows) (string, error) {
				var seq int64
				if err := rows.Scan(&seq); err != nil {
					return "", err
				}
				id, ok := bySeq[seq]
				if !ok { // not a batch read by OutboxAfter: undo rather than lose an op
					return "", fmt.Errorf("acknowledge: outbox op %d lies inside the batch but is not in it", seq)
				}
				return id, nil
			}); err != nil {
				return err
			}
		} else {
			for start := 0; start < len(ids); start += 500 {
				chunk := ids[start:min(start+500, len(ids))]
				marks, args := sqlite.InList(chunk)
				rows, err := tx.QueryContext(ctx, `DELETE FROM outbox WHERE op_id IN (`+marks+`) RETURNING op_id`, args...)
				if err != nil {
					return err
				}
				if err := keep(rows, func(rows *sql.Rows) (string, error) {
					var id string
					err := rows.Scan(&id)
					return id, err
				}); err != nil {
					return err
				}
			}
		}
		if err := l.settleWritten(ctx, tx, ops, acks, inOutbox); err != nil {
			return fmt.Errorf("acknowledge written: %w", err)
		}
		if err := l.settleStatus(ctx, tx, byID, acks, inOutbox, from); err != nil {
			return fmt.Errorf("acknowledge case status: %w", err)
		}
		if err := l.settleMarking(ctx, tx, byID, acks, inOutbox); err != nil {
			return fmt.Errorf("acknowledge second marking: %w", err)
		}
		for _, ack := range acks {
			op, ok := byID[ack.OpID]
			if !ok || !inOutbox[op.ID] || op.Written != nil || op.Status != nil || op.Marking != nil { // written ops: settleWritten; status ops: settleStatus; marking ops: settleMarking
				continue
			}
			switch ack.Result {
			case framework.OpConflict:
				// No conflict body: the case is no longer this user's to see.
				if ack.Conflict != nil {
					if err := putLocalConflict(ctx, tx, ack.Conflict); err != nil {
						return err
					}
				}
			case framework.OpRejected:
				// Kept whole, note included, until the inspector records it
				// again or dismisses it: the local answer shows the server's.
				if _, err := tx.ExecContext(ctx, `INSERT INTO rejected (op_id, inspection_id, case_ref, question_id, value, note, reason, code, at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (op_id) DO NOTHING`,
					op.ID, op.InspectionID, op.CaseRef, op.QuestionID, op.Value, op.Note, ack.Reason, string(framework.ErrorCode(ack.Err)),
					l.Now().UTC().Format(time.RFC3339Nano)); err != nil {
					return err
				}
			}
			if op.ConflictID != "" && ack.Result != framework.OpApplied {
				// The resolution did not take: the conflict is open again locally.
				if _, err := tx.ExecContext(ctx, `UPDATE conflicts SET status = 'open' WHERE id = ? AND status = 'resolving'`, op.ConflictID); err != nil {
					return err
				}
			}
		}
		if fast {
			return nil
		}
		settled := syncer.Settlements(ops, acks, func(id string) bool {
			return inOutbox[id] && byID[id].Written == nil && byID[id].Status == nil && byID[id].Marking == nil
		})
		if len(settled) == 0 {
			return nil
		}
		// Each answer as syncer.Settle says (TestAcknowledge_SettlesAsSyncerSays
		// holds the SQL to it): once it has no edit pending it shows the
		// server's answer, or goes if the server holds none. A prepared statement per answer: the
		// one-statement form that read the batch from a JSON array spent more
		// time extracting the JSON fields than updating the rows (BENCHMARKS.md).
		settle, err := tx.PrepareContext(ctx, `UPDATE answers SET pending = max(pending - ?4, 0),
			value = CASE WHEN pending - ?4 <= 0 THEN ?5 ELSE value END,
			note = CASE WHEN pending - ?4 <= 0 THEN ?6 ELSE note END,
			revision = CASE WHEN pending - ?4 <= 0 THEN ?7 ELSE revision END,
			updated_by = CASE WHEN pending - ?4 <= 0 THEN ?8 ELSE updated_by END,
			updated_at = CASE WHEN pending - ?4 <= 0 THEN ?9 ELSE updated_at END
			WHERE inspection_id = ?1 AND case_ref = ?2 AND question_id = ?3`)
		if err != nil {
			return fmt.Errorf("settle answers: %w", err)
		}
		defer settle.Close()
		// Without cancellation: for a cancellable context the driver runs each
		// statement on a goroutine of its own, which costs more than the update.
		// The transaction is short, and an ack not stored is only re-sent.
		ctx := context.WithoutCancel(ctx)
		for _, st := range settled {
			k := [3]string{st.Key.InspectionID, st.Key.CaseRef, st.Key.QuestionID}
			if a := st.Last; a != nil {
				_, err = settle.ExecContext(ctx, k[0], k[1], k[2], st.Acked, a.Value, a.Note, a.Revision, a.UpdatedBy, a.UpdatedAt.UTC().Format(time.RFC3339Nano))
			} else {
				// The server holds no answer (a rejected first write): the local
				// one goes with its last pending edit.
				_, err = tx.ExecContext(ctx, `UPDATE answers SET pending = max(pending - ?4, 0)
					WHERE inspection_id = ?1 AND case_ref = ?2 AND question_id = ?3`, k[0], k[1], k[2], st.Acked)
				if err == nil {
					_, err = tx.ExecContext(ctx, `DELETE FROM answers WHERE inspection_id = ? AND case_ref = ? AND question_id = ? AND pending = 0`, k[0], k[1], k[2])
				}
			}
			if err != nil {
				return fmt.Errorf("settle answers: %w", err)
			}
		}
		return nil
	})
}

// settleInOneStatement enables settleApplied; a test turns it off to compare
// the general path's results with it.
var settleInOneStatement = true

// consecutive reports whether ops have the device sequence numbers first,
// first+1, … in order.
func consecutive(ops []framework.Op) bool {
	for i, op := range ops {
		if op.DeviceSeq != ops[0].DeviceSeq+int64(i) {
			return false
		}
	}
	return len(ops) > 0
}

// commonApplied reports whether a batch was acknowledged in the common way:
// every op applied as sent (the server's answer has the op's value and note),
// all by one writer at one time (one group commit), each answer once. Such
// a batch needs from the server only each op's revision.
func commonApplied(ops []framework.Op, acks []framework.Ack) bool {
	if len(acks) == 0 || len(acks) != len(ops) || acks[0].Answer == nil {
		return false
	}
	who, at := acks[0].Answer.UpdatedBy, acks[0].Answer.UpdatedAt
	seen := make(map[[3]string]bool, len(ops))
	for i, ack := range acks {
		op, a := ops[i], ack.Answer
		if ack.Result != framework.OpApplied || ack.OpID != op.ID || a == nil || a.Value != op.Value || a.Note != op.Note ||
			a.UpdatedBy != who || !a.UpdatedAt.Equal(at) {
			return false
		}
		k := [3]string{op.InspectionID, op.CaseRef, op.QuestionID}
		if seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

// settleApplied settles a commonApplied batch with one statement, before
// its ops leave the outbox: the keys, values and notes come from the
// outbox rows, and only each op's revision is passed, as a JSON object
// keyed by device_seq whose members json_each yields as scalars. (Passing
// every field in a JSON array of rows cost more in extracting the fields
// than the update itself: BENCHMARKS.md.) Ops no longer in the outbox were
// acknowledged before and settle nothing.
func settleApplied(ctx context.Context, tx *sql.Tx, ops []framework.Op, acks []framework.Ack) error {
	revs := make([]byte, 0, 16*len(ops))
	revs = append(revs, '{')
	for i, op := range ops {
		if i > 0 {
			revs = append(revs, ',')
		}
		revs = append(revs, '"')
		revs = strconv.AppendInt(revs, op.DeviceSeq, 10)
		revs = append(revs, '"', ':')
		revs = strconv.AppendInt(revs, acks[i].Answer.Revision, 10)
	}
	revs = append(revs, '}')
	a := acks[0].Answer
	if _, err := tx.ExecContext(ctx, settleAppliedSQL,
		string(revs), a.UpdatedBy, a.UpdatedAt.UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("settle answers: %w", err)
	}
	return nil
}

// settleAppliedSQL: ?1 the revisions by device_seq, ?2 and ?3 the writer
// and time. The materialized CTE keeps the batch outermost (a join written
// inline made SQLite scan every answer), so each op costs three seeks by
// key; TestSettleAppliedPlan holds it to that.
const settleAppliedSQL = `WITH o AS MATERIALIZED (SELECT o.inspection_id, o.case_ref, o.question_id, o.value, o.note, j.value AS rev
		FROM json_each(?1) AS j CROSS JOIN outbox AS o ON o.device_seq = CAST(j.key AS INTEGER))
	UPDATE answers SET pending = max(pending - 1, 0),
		value = CASE WHEN pending <= 1 THEN o.value ELSE answers.value END,
		note = CASE WHEN pending <= 1 THEN o.note ELSE answers.note END,
		revision = CASE WHEN pending <= 1 THEN o.rev ELSE answers.revision END,
		updated_by = CASE WHEN pending <= 1 THEN ?2 ELSE answers.updated_by END,
		updated_at = CASE WHEN pending <= 1 THEN ?3 ELSE answers.updated_at END
	FROM o WHERE answers.inspection_id = o.inspection_id AND answers.case_ref = o.case_ref AND answers.question_id = o.question_id`
