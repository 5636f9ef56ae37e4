package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

const conflictCols = `k.id, k.inspection_id, c.case_ref, k.question_id, k.base_revision, k.server_revision, k.server_value, k.server_note,
	k.client_value, k.client_note, k.client_user, k.client_device, k.created_at, k.status, k.resolved_by, k.resolution,
	coalesce(h.updated_by, ''), coalesce(h.device_id, ''), coalesce(h.updated_at, '')`

// conflictFrom joins a conflict to its case and to the history row of the
// server's side (who wrote the value the server kept, from which device,
// when): the conflicts table names the revision, the history its author.
const conflictFrom = ` FROM conflicts k JOIN cases c ON c.id = k.case_id
	LEFT JOIN answer_history h ON h.id = (SELECT max(id) FROM answer_history
		WHERE case_id = k.case_id AND question_id = k.question_id AND revision = k.server_revision)`

func scanConflict(s interface{ Scan(...any) error }) (framework.Conflict, error) {
	var c framework.Conflict
	var at, serverAt string
	err := s.Scan(&c.ID, &c.InspectionID, &c.CaseRef, &c.QuestionID, &c.BaseRevision, &c.ServerRevision, &c.ServerValue, &c.ServerNote,
		&c.ClientValue, &c.ClientNote, &c.ClientUser, &c.ClientDevice, &at, &c.Status, &c.ResolvedBy, &c.Resolution,
		&c.ServerUser, &c.ServerDevice, &serverAt)
	c.CreatedAt = sqlite.ParseTime(at)
	if serverAt != "" {
		c.ServerAt = sqlite.ParseTime(serverAt)
	}
	return c, err
}

func conflictByID(ctx context.Context, tx *sql.Tx, id string) (framework.Conflict, error) {
	return scanConflict(tx.QueryRowContext(ctx, `SELECT `+conflictCols+conflictFrom+` WHERE k.id = ?`, id))
}

// OpenConflicts lists an inspection's open conflicts, oldest first.
func (db *DB) OpenConflicts(ctx context.Context, inspectionID string) ([]framework.Conflict, error) {
	rows, err := db.conn.Reader.QueryContext(ctx, `SELECT `+conflictCols+conflictFrom+`
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

// serverSide fills in who wrote the server's side of a new conflict, for
// its ack (conflictByID reads the same from the history afterwards): the
// version written earlier in this group, else the stored one.
func (gc *groupCache) serverSide(ctx context.Context, tx *sql.Tx, c *framework.Conflict, caseID string) error {
	if i, ok := gc.rows.latest[[2]string{caseID, c.QuestionID}]; ok {
		if h := gc.rows.history[i]; h.revision == c.ServerRevision {
			c.ServerUser, c.ServerDevice, c.ServerAt = h.user, h.device, sqlite.ParseTime(h.at)
			return nil
		}
	}
	var at string
	err := tx.QueryRowContext(ctx, `SELECT updated_by, device_id, updated_at FROM answer_history
		WHERE case_id = ? AND question_id = ? AND revision = ? ORDER BY id DESC LIMIT 1`, caseID, c.QuestionID, c.ServerRevision).
		Scan(&c.ServerUser, &c.ServerDevice, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	c.ServerAt = sqlite.ParseTime(at)
	return err
}
