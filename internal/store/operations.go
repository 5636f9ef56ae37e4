package store

import (
	"context"
	"fmt"

	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// Backup copies the server database at path to a new file at to while a
// server may be running on it (sqlite.Backup: one commit's state, owner
// only, integrity-checked before it is in place). It opens nothing else
// and migrates nothing: the copy is the database as it is.
func Backup(ctx context.Context, path, to string, overwrite bool) (sqlite.BackupResult, error) {
	return sqlite.Backup(ctx, path, to, overwrite)
}

// Health is what an operator watches of the database, read cheaply enough
// for every metrics scrape: no personal data, only sizes and counts.
type Health struct {
	DBBytes, WALBytes int64
	// OpenConflicts and OpenWrittenConflicts count the conflicts nobody
	// has resolved yet, across every inspection.
	OpenConflicts, OpenWrittenConflicts int64
}

// Health reads the database's sizes and its open conflicts.
func (db *DB) Health(ctx context.Context) (Health, error) {
	var h Health
	var err error
	if h.DBBytes, h.WALBytes, err = db.conn.FileSizes(); err != nil {
		return Health{}, fmt.Errorf("database size: %w", err)
	}
	err = db.conn.Reader.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM conflicts WHERE status = 'open'),
		(SELECT count(*) FROM written_conflicts WHERE status = 'open')`).Scan(&h.OpenConflicts, &h.OpenWrittenConflicts)
	if err != nil {
		return Health{}, fmt.Errorf("open conflicts: %w", err)
	}
	return h, nil
}
