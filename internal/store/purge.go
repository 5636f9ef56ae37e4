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

// Removed counts, per kind, what a purge removed (never what it held).
type Removed struct {
	Cases            int64 `json:"cases"`
	Answers          int64 `json:"answers"`
	AnswerVersions   int64 `json:"answer_versions"`
	Conflicts        int64 `json:"conflicts"`
	OpRecords        int64 `json:"op_records"`
	Judgements       int64 `json:"judgements"`
	WrittenItems     int64 `json:"written_items"`
	WrittenVersions  int64 `json:"written_versions"`
	WrittenConflicts int64 `json:"written_conflicts"`
	Samples          int64 `json:"samples"`
	Markings         int64 `json:"second_markings"` // second-marking answers, their versions, conflicts, moderations and QA selections
	Counts           int64 `json:"kept_counts"`
	Changes          int64 `json:"pull_changes"`
	AuditRedacted    int64 `json:"audit_rows_redacted"`
}

// purgeSteps are the statements of a purge, in an order the foreign keys
// allow, each counted into Removed. ?1 is the inspection. Every table with
// a row of the inspection is named here or kept on purpose (inspections:
// the row itself, now purged; team: who may read the frozen report;
// audit: redacted below): TestPurgeLeavesNoCaseData enumerates the schema
// and fails on a table that is neither.
var purgeSteps = []struct {
	sql   string
	count func(*Removed) *int64
}{
	// The dismissals and supersessions of the inspection's ops, before the
	// op records that name them.
	{`DELETE FROM dismissals WHERE op_id IN (SELECT op_id FROM op_records WHERE case_id IN (SELECT id FROM cases WHERE inspection_id = ?1))`, nil},
	{`DELETE FROM supersessions WHERE case_id IN (SELECT id FROM cases WHERE inspection_id = ?1)`, nil},
	{`DELETE FROM ops_applied WHERE case_id IN (SELECT id FROM cases WHERE inspection_id = ?1)`, func(r *Removed) *int64 { return &r.OpRecords }},
	{`DELETE FROM conflicts WHERE inspection_id = ?1`, func(r *Removed) *int64 { return &r.Conflicts }},
	{`DELETE FROM answers WHERE case_id IN (SELECT id FROM cases WHERE inspection_id = ?1)`, func(r *Removed) *int64 { return &r.Answers }},
	// Who wrote each answer version, and when, stays in its audit row,
	// which pointed at the version (audit_trail) and now holds them itself.
	{`UPDATE audit SET at = h.updated_at, user_name = h.updated_by, device_id = h.device_id, history_id = NULL
		FROM answer_history h WHERE h.id = audit.history_id AND audit.inspection_id = ?1`, nil},
	{`DELETE FROM answer_history WHERE case_id IN (SELECT id FROM cases WHERE inspection_id = ?1)`, func(r *Removed) *int64 { return &r.AnswerVersions }},
	{`DELETE FROM question_counts WHERE inspection_id = ?1`, func(r *Removed) *int64 { return &r.Counts }},
	{`DELETE FROM breakdown_counts WHERE inspection_id = ?1`, func(r *Removed) *int64 { return &r.Counts }},
	{`DELETE FROM attribute_counts WHERE inspection_id = ?1`, func(r *Removed) *int64 { return &r.Counts }},
	{`DELETE FROM judgements WHERE inspection_id = ?1`, func(r *Removed) *int64 { return &r.Judgements }},
	{`DELETE FROM written_conflicts WHERE inspection_id = ?1`, func(r *Removed) *int64 { return &r.WrittenConflicts }},
	{`DELETE FROM written_history WHERE inspection_id = ?1`, func(r *Removed) *int64 { return &r.WrittenVersions }},
	{`DELETE FROM written_items WHERE inspection_id = ?1`, func(r *Removed) *int64 { return &r.WrittenItems }},
	{`DELETE FROM samples WHERE inspection_id = ?1`, func(r *Removed) *int64 { return &r.Samples }},
	// Second marking, before the cases its rows name.
	{`DELETE FROM moderations WHERE case_id IN (SELECT id FROM cases WHERE inspection_id = ?1)`, func(r *Removed) *int64 { return &r.Markings }},
	{`DELETE FROM marking_conflicts WHERE inspection_id = ?1`, func(r *Removed) *int64 { return &r.Markings }},
	{`DELETE FROM marking_history WHERE case_id IN (SELECT id FROM cases WHERE inspection_id = ?1)`, func(r *Removed) *int64 { return &r.Markings }},
	{`DELETE FROM marking_answers WHERE case_id IN (SELECT id FROM cases WHERE inspection_id = ?1)`, func(r *Removed) *int64 { return &r.Markings }},
	{`DELETE FROM qa_selections WHERE inspection_id = ?1`, func(r *Removed) *int64 { return &r.Markings }},
	{`DELETE FROM changes WHERE inspection_id = ?1`, func(r *Removed) *int64 { return &r.Changes }},
	{`DELETE FROM cases WHERE inspection_id = ?1`, func(r *Removed) *int64 { return &r.Cases }},
	// The audit trail keeps who did what and when; what was written
	// (values, notes, attributes, reasons) and which case goes.
	{`UPDATE audit SET before = NULL, after = NULL,
		entity = CASE WHEN entity LIKE 'case/%' THEN 'case/' || inspection_id || '/(purged)' ELSE entity END
		WHERE inspection_id = ?1`, func(r *Removed) *int64 { return &r.AuditRedacted }},
}

// Purge removes the case-level data of a published inspection for good
// (docs/retention.md) and keeps frozen, its report as computed at asOfSeq
// (the encoded report; the store does not read it). In one transaction:
// the inspection must be locked and unchanged since asOfSeq; every row
// purgeSteps names goes; the inspection becomes purged, with one pull
// change (devices drop it) and one audit entry holding the counts removed.
// SQLite's secure_delete is on for the transaction, so the freed pages are
// zeroed, not left holding notes; the caller vacuums after (Vacuum), for
// what earlier updates left in free space.
func (db *DB) Purge(ctx context.Context, a framework.Actor, inspectionID string, frozen []byte, asOfSeq int64) (Removed, error) {
	var r Removed
	err := db.write(ctx, func(tx *sql.Tx) error {
		r = Removed{}
		var status framework.InspectionStatus
		err := tx.QueryRowContext(ctx, `SELECT status FROM inspections WHERE id = ?`, inspectionID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return framework.Errorf(framework.CodeNotFound, "inspection %q not found", inspectionID)
		}
		if err != nil {
			return err
		}
		if err := framework.CheckPurge(inspectionID, status); err != nil {
			return err
		}
		var later int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM changes WHERE inspection_id = ? AND seq > ?`, inspectionID, asOfSeq).Scan(&later); err != nil {
			return err
		}
		if later > 0 {
			return framework.Errorf(framework.CodeConflict, "inspection %s changed while its report was being frozen: nothing was purged; run purge again", inspectionID)
		}
		if _, err := tx.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
			return err
		}
		defer tx.ExecContext(context.WithoutCancel(ctx), `PRAGMA secure_delete = OFF`)
		if _, err := tx.ExecContext(ctx, `INSERT INTO purging (inspection_id) VALUES (?)`, inspectionID); err != nil {
			return err
		}
		for _, st := range purgeSteps {
			res, err := tx.ExecContext(ctx, st.sql, inspectionID)
			if err != nil {
				return fmt.Errorf("purge: %w", err)
			}
			if st.count != nil {
				n, err := res.RowsAffected()
				if err != nil {
					return err
				}
				*st.count(&r) += n
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM purging WHERE inspection_id = ?`, inspectionID); err != nil {
			return err
		}
		at := db.now()
		if _, err := tx.ExecContext(ctx, `UPDATE inspections SET status = ? WHERE id = ?`, framework.InspectionPurged, inspectionID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO frozen_reports (inspection_id, report, as_of_seq, purged_at, purged_by) VALUES (?, ?, ?, ?, ?)`,
			inspectionID, frozen, asOfSeq, at, a.User); err != nil {
			return err
		}
		// Every device of the team hears of it as the inspection's change:
		// the status tells a device to drop what it holds of it.
		if err := addChange(ctx, tx, inspectionID, "inspection", nil, inspectionID); err != nil {
			return err
		}
		return audit(ctx, tx, at, a, "inspection.purge", "inspection/"+inspectionID,
			map[string]any{"status": status}, map[string]any{"status": framework.InspectionPurged, "removed": r})
	})
	if err != nil {
		return Removed{}, fmt.Errorf("purge inspection %s: %w", inspectionID, err)
	}
	return r, nil
}

// Frozen is a purged inspection's report as kept (nil if it was not purged).
type Frozen struct {
	Report   []byte
	AsOfSeq  int64
	PurgedAt time.Time
}

// FirstPurged returns the first of ids (in their order) that was purged,
// or "" if none was: one read for a pooled report's 150.
func (db *DB) FirstPurged(ctx context.Context, ids []string) (string, error) {
	purged := map[string]bool{}
	err := sqlite.InChunks(ids, func(marks string, args []any) error {
		rows, err := db.conn.Reader.QueryContext(ctx, `SELECT inspection_id FROM frozen_reports WHERE inspection_id IN (`+marks+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			purged[id] = true
		}
		return rows.Err()
	})
	if err != nil {
		return "", fmt.Errorf("frozen reports: %w", err)
	}
	for _, id := range ids {
		if purged[id] {
			return id, nil
		}
	}
	return "", nil
}

// FrozenReport returns the frozen report of a purged inspection, or nil.
func (db *DB) FrozenReport(ctx context.Context, inspectionID string) (*Frozen, error) {
	var f Frozen
	var at string
	err := db.conn.Reader.QueryRowContext(ctx, `SELECT report, as_of_seq, purged_at FROM frozen_reports WHERE inspection_id = ?`, inspectionID).Scan(&f.Report, &f.AsOfSeq, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("frozen report of %s: %w", inspectionID, err)
	}
	f.PurgedAt, _ = time.Parse(time.RFC3339Nano, at)
	return &f, nil
}

// Vacuum rewrites the database file without its free space (VACUUM), then
// empties the write-ahead log (a TRUNCATE checkpoint), so that no page a
// purge or an earlier update freed still holds deleted text. It reports
// whether the log was emptied: a long-running reader can keep it.
func (db *DB) Vacuum(ctx context.Context) (walEmptied bool, err error) {
	if _, err := db.conn.Writer.ExecContext(ctx, `VACUUM`); err != nil {
		return false, fmt.Errorf("vacuum: %w", err)
	}
	return db.conn.EmptyLog(ctx)
}
