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

// Cursor is the pull cursor and the token of the change there (0, 0 for a
// store that never pulled).
func (l *Store) Cursor(ctx context.Context) (cursor, token int64, err error) {
	for key, v := range map[string]*int64{"cursor": &cursor, "cursor_token": &token} {
		s, err := l.Meta(ctx, key)
		if err != nil {
			return 0, 0, err
		}
		*v, _ = strconv.ParseInt(s, 10, 64)
	}
	return cursor, token, nil
}

// BeginRestoreRecovery is the first step after the server said this
// laptop's cursor is not in its history (it was restored from an earlier
// copy). In one transaction it keeps the answers user had settled, as the
// server acknowledged them (restore_resend; a recovery already begun keeps
// what it kept), drops every answer with no edit pending, and sets the
// cursor back to the start: the next pull then shows exactly what the
// server holds, and FinishRestoreRecovery sends again what it lacks.
// Answers with edits pending keep them: those go out as they are.
func (l *Store) BeginRestoreRecovery(ctx context.Context, user string) error {
	return l.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO restore_resend (inspection_id, case_ref, question_id, value, note, revision, updated_by, updated_at)
			SELECT inspection_id, case_ref, question_id, value, note, revision, updated_by, updated_at FROM answers
			WHERE pending = 0 AND updated_by = ? ON CONFLICT DO NOTHING`, user); err != nil {
			return fmt.Errorf("restored server: keep settled answers: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM answers WHERE pending = 0`); err != nil {
			return fmt.Errorf("restored server: %w", err)
		}
		for key, v := range map[string]string{"cursor": "0", "cursor_token": "0", "restore_recovery": "1"} {
			if err := setMeta(ctx, tx, key, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// RestoreRecovering reports whether a recovery from a restored server was
// begun and is not finished (its re-pull was cut short).
func (l *Store) RestoreRecovering(ctx context.Context) (bool, error) {
	var n int
	err := l.conn.Reader.QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE key = 'restore_recovery' AND value = '1'`).Scan(&n)
	return n > 0, err
}

// restoreRecovering reports whether a recovery is under way (begun, its
// re-pull not yet whole).
func restoreRecovering(ctx context.Context, tx *sql.Tx) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE key = 'restore_recovery' AND value = '1'`).Scan(&n)
	return n > 0, err
}

// keepServerRevision notes, during a recovery's re-pull, the revision the
// server holds of an answer with edits queued here (FinishRestoreRecovery
// rebases them on it).
func keepServerRevision(ctx context.Context, tx *sql.Tx, inspectionID string, a *framework.Answer) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO restore_server (inspection_id, case_ref, question_id, revision)
		SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM answers WHERE inspection_id = ?1 AND case_ref = ?2 AND question_id = ?3 AND pending > 0)
		ON CONFLICT DO UPDATE SET revision = excluded.revision`, inspectionID, a.CaseRef, a.QuestionID, a.Revision)
	return err
}

// FinishRestoreRecovery, once a whole pull since BeginRestoreRecovery has
// stored what the server holds, queues again each kept answer the server
// lacks, as syncer.Resend says (a fresh op, on the server's current
// revision, or on a stale one where the server's answer was written after
// it, so that the server records a conflict rather than replace it), and
// shows it as pending. It returns how many it queued; 0 with nothing kept.
func (l *Store) FinishRestoreRecovery(ctx context.Context) (int, error) {
	if under, err := l.RestoreRecovering(ctx); err != nil || !under {
		return 0, err // the common case: no recovery under way, and no write
	}
	n := 0
	err := l.write(ctx, func(tx *sql.Tx) error {
		if err := rebaseQueued(ctx, tx); err != nil {
			return fmt.Errorf("restored server: rebase queued edits: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT r.inspection_id, r.case_ref, r.question_id, r.value, r.note, r.revision, r.updated_by, r.updated_at,
			a.value, a.note, a.revision, a.updated_at, coalesce(a.pending, -1), c.case_ref IS NOT NULL
			FROM restore_resend r
			LEFT JOIN answers a ON a.inspection_id = r.inspection_id AND a.case_ref = r.case_ref AND a.question_id = r.question_id
			LEFT JOIN cases c ON c.inspection_id = r.inspection_id AND c.case_ref = r.case_ref
			ORDER BY r.inspection_id, r.case_ref, r.question_id`)
		if err != nil {
			return err
		}
		type resend struct {
			inspection string
			mine       framework.Answer
			base       int64
			hasCase    bool
		}
		var todo []resend
		for rows.Next() {
			var r resend
			var at string
			var sv, sn, sat sql.NullString
			var srev sql.NullInt64
			var pending int
			if err := rows.Scan(&r.inspection, &r.mine.CaseRef, &r.mine.QuestionID, &r.mine.Value, &r.mine.Note, &r.mine.Revision,
				&r.mine.UpdatedBy, &at, &sv, &sn, &srev, &sat, &pending, &r.hasCase); err != nil {
				rows.Close()
				return err
			}
			r.mine.UpdatedAt = sqlite.ParseTime(at)
			if pending > 0 {
				continue // edited again here meanwhile: that edit goes out as it is
			}
			var server *framework.Answer
			if pending == 0 {
				server = &framework.Answer{Value: sv.String, Note: sn.String, Revision: srev.Int64, UpdatedAt: sqlite.ParseTime(sat.String)}
			}
			base, send := syncer.Resend(r.mine, server)
			if !send {
				continue
			}
			r.base = base
			todo = append(todo, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		device, err := l.deviceID(ctx, tx)
		if err != nil {
			return err
		}
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(CAST(value AS INTEGER)), 0) FROM meta WHERE key = 'device_seq'`).Scan(&seq); err != nil {
			return err
		}
		now := l.Now().UTC().Format(time.RFC3339Nano)
		for _, r := range todo {
			seq++
			a := r.mine
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (device_seq, op_id, inspection_id, case_ref, question_id, value, note, base_revision, client_time, conflict_id, resolution, supersedes, device_id)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', '', ?)`, seq, uuid.Must(uuid.NewV7()).String(), r.inspection, a.CaseRef, a.QuestionID,
				a.Value, a.Note, r.base, now, device); err != nil {
				return fmt.Errorf("restored server: send again %s %s: %w", a.CaseRef, a.QuestionID, err)
			}
			// A case no longer on this laptop (no longer the user's, or not on
			// the restored server) shows nothing: the op goes anyway, and a
			// refusal is kept with its value like any other. The answer's
			// revision is the op's base, so that an edit made before it is
			// sent is based alike (a conflict too, where this one is meant
			// to be one).
			if r.hasCase {
				if _, err := tx.ExecContext(ctx, `INSERT INTO answers (inspection_id, case_ref, question_id, value, note, revision, updated_by, updated_at, pending)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT DO UPDATE SET value = excluded.value, note = excluded.note, revision = excluded.revision,
					updated_by = excluded.updated_by, updated_at = excluded.updated_at, pending = pending + 1`,
					r.inspection, a.CaseRef, a.QuestionID, a.Value, a.Note, r.base, a.UpdatedBy, now); err != nil {
					return fmt.Errorf("restored server: send again %s %s: %w", a.CaseRef, a.QuestionID, err)
				}
			}
		}
		if len(todo) > 0 {
			if err := setMeta(ctx, tx, "device_seq", strconv.FormatInt(seq, 10)); err != nil {
				return err
			}
		}
		for _, q := range []string{`DELETE FROM restore_resend`, `DELETE FROM restore_server`, `DELETE FROM meta WHERE key = 'restore_recovery'`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		n = len(todo)
		return nil
	})
	return n, err
}

// rebaseQueued puts each answer edit queued here when the restored server
// was found on the revision syncer.Rebase gives for the answer the server
// holds (restore_server; none there: the server holds none), and the
// local answer on it too, so that edits made next are based alike.
func rebaseQueued(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT o.inspection_id, o.case_ref, o.question_id, coalesce(s.revision, 0) FROM outbox o
		LEFT JOIN restore_server s ON s.inspection_id = o.inspection_id AND s.case_ref = o.case_ref AND s.question_id = o.question_id
		WHERE o.written = '' AND o.case_status = ''`)
	if err != nil {
		return err
	}
	type queued struct {
		key [3]string
		rev int64
	}
	var qs []queued
	for rows.Next() {
		var q queued
		if err := rows.Scan(&q.key[0], &q.key[1], &q.key[2], &q.rev); err != nil {
			rows.Close()
			return err
		}
		qs = append(qs, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, q := range qs {
		base := syncer.Rebase(q.rev)
		for _, stmt := range []string{
			`UPDATE outbox SET base_revision = ?4 WHERE inspection_id = ?1 AND case_ref = ?2 AND question_id = ?3 AND written = '' AND case_status = ''`,
			`UPDATE answers SET revision = ?4 WHERE inspection_id = ?1 AND case_ref = ?2 AND question_id = ?3 AND pending > 0`,
		} {
			if _, err := tx.ExecContext(ctx, stmt, q.key[0], q.key[1], q.key[2], base); err != nil {
				return err
			}
		}
	}
	return nil
}
