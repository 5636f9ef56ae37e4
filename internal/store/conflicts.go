package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

const conflictCols = `k.id, k.inspection_id, c.case_ref, k.question_id, k.base_revision, k.server_revision, k.server_value, k.server_note,
	k.client_value, k.client_note, k.client_user, k.client_device, k.created_at, k.status, k.resolved_by, k.resolution`

func scanConflict(s interface{ Scan(...any) error }) (framework.Conflict, error) {
	var c framework.Conflict
	var at string
	err := s.Scan(&c.ID, &c.InspectionID, &c.CaseRef, &c.QuestionID, &c.BaseRevision, &c.ServerRevision, &c.ServerValue, &c.ServerNote,
		&c.ClientValue, &c.ClientNote, &c.ClientUser, &c.ClientDevice, &at, &c.Status, &c.ResolvedBy, &c.Resolution)
	c.CreatedAt = sqlite.ParseTime(at)
	return c, err
}

func conflictByID(ctx context.Context, tx *sql.Tx, id string) (framework.Conflict, error) {
	return scanConflict(tx.QueryRowContext(ctx, `SELECT `+conflictCols+` FROM conflicts k JOIN cases c ON c.id = k.case_id WHERE k.id = ?`, id))
}

// OpenConflicts lists an inspection's open conflicts, oldest first.
func (db *DB) OpenConflicts(ctx context.Context, inspectionID string) ([]framework.Conflict, error) {
	rows, err := db.conn.Reader.QueryContext(ctx, `SELECT `+conflictCols+` FROM conflicts k JOIN cases c ON c.id = k.case_id
		WHERE k.inspection_id = ? AND k.status = 'open' ORDER BY k.created_at`, inspectionID)
	if err != nil {
		return nil, fmt.Errorf("list conflicts: %w", err)
	}
	defer rows.Close()
	var out []framework.Conflict
	for rows.Next() {
		c, err := scanConflict(rows)
		if err != nil {
			return nil, fmt.Errorf("list conflicts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
