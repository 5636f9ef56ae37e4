package localstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// PurgeNotice says that an inspection was purged on the server and dropped
// from this laptop, with the edits made here that went with it (unsynced,
// or refused and kept): it was published, so locked, and the server would
// have refused them all.
type PurgeNotice struct {
	InspectionID, Name string
	DroppedEdits       int
}

// keepOnPurge are the tables that keep a purged inspection's rows: its own
// row (status purged, so commands say so) and the notice. Every other
// table with an inspection_id column is emptied of it, read from the
// schema, so a table added later is dropped with the rest unless named here.
var keepOnPurge = map[string]bool{"inspections": true, "purge_notices": true}

// dropPurged removes everything of a purged inspection from the laptop in
// tx, with SQLite's secure_delete on, and records the notice. Vacuum
// follows the commit (ApplyChanges), for what earlier updates left in
// free pages.
func dropPurged(ctx context.Context, tx *sql.Tx, in *framework.Inspection, at time.Time) error {
	var already int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM purge_notices WHERE inspection_id = ?`, in.ID).Scan(&already); err != nil || already > 0 {
		return err
	}
	var edits int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM outbox WHERE inspection_id = ?1)
		+ (SELECT count(*) FROM rejected WHERE inspection_id = ?1 AND status = 'open')
		+ (SELECT count(*) FROM written_refused WHERE inspection_id = ?1 AND status = 'open')`, in.ID).Scan(&edits); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c
		WHERE m.type = 'table' AND c.name = 'inspection_id' ORDER BY m.name`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return err
	}
	defer tx.ExecContext(context.WithoutCancel(ctx), `PRAGMA secure_delete = OFF`)
	for _, t := range tables {
		if keepOnPurge[t] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM "`+t+`" WHERE inspection_id = ?`, in.ID); err != nil {
			return fmt.Errorf("drop purged inspection %s from %s: %w", in.ID, t, err)
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO purge_notices (inspection_id, name, dropped_edits, dropped_at) VALUES (?, ?, ?, ?)`,
		in.ID, in.Name, edits, at.UTC().Format(time.RFC3339))
	return err
}

// PurgeNotices returns the purges not told yet, and marks them told.
func (l *Store) PurgeNotices(ctx context.Context) ([]PurgeNotice, error) {
	var out []PurgeNotice
	err := l.write(ctx, func(tx *sql.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, `SELECT inspection_id, name, dropped_edits FROM purge_notices WHERE told = 0 ORDER BY dropped_at, inspection_id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var n PurgeNotice
			if err := rows.Scan(&n.InspectionID, &n.Name, &n.DroppedEdits); err != nil {
				rows.Close()
				return err
			}
			out = append(out, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE purge_notices SET told = 1 WHERE told = 0`)
		return err
	})
	return out, err
}

// vacuum rewrites the store without free space and empties its log, after
// a purge dropped an inspection: no freed page keeps its notes.
func (l *Store) vacuum(ctx context.Context) error {
	if _, err := l.conn.Writer.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	_, err := l.conn.EmptyLog(ctx)
	return err
}
