package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

func audit(ctx context.Context, tx *sql.Tx, at string, a framework.Actor, action, entity string, before, after any) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit (at, user_name, device_id, action, entity, before, after, inspection_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		auditRow(at, a, action, entity, before, after)...)
	return err
}

// auditRow is an audit row's values, before and after encoded as JSON.
func auditRow(at string, a framework.Actor, action, entity string, before, after any) []any {
	enc := func(v any) any {
		if v == nil {
			return nil
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	return []any{at, a.User, a.Device, action, entity, enc(before), enc(after), auditInspection(entity)}
}

// auditInspection is the inspection an audit entity belongs to: entities
// are named case/<inspection>/<ref>[/…] or inspection/<inspection>[/…].
func auditInspection(entity string) any {
	parts := strings.SplitN(entity, "/", 3)
	if len(parts) >= 2 && (parts[0] == "case" || parts[0] == "inspection") {
		return parts[1]
	}
	return nil
}

// Audit lists an inspection's audit entries after seq (one case's when
// caseRef is set), oldest first. With inspectionID empty it lists the
// entries of no inspection: users, tokens and framework loads.
func (db *DB) Audit(ctx context.Context, inspectionID, caseRef string, after int64, limit int) ([]framework.AuditEntry, error) {
	prefix := "case/" + inspectionID + "/" + caseRef
	of := `inspection_id = ?` // two forms, so that both use the index by inspection
	if inspectionID == "" {
		of = `inspection_id IS NULL AND ? = ''`
	}
	rows, err := db.conn.Reader.QueryContext(ctx, `SELECT seq, at, user_name, device_id, action, entity, coalesce(before, ''), coalesce(after, '')
		FROM audit_trail WHERE `+of+` AND seq > ? AND (? = '' OR entity = ? OR substr(entity, 1, ?) = ?)
		ORDER BY seq LIMIT ?`, inspectionID, after, caseRef, prefix, len(prefix)+1, prefix+"/", limit)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []framework.AuditEntry
	for rows.Next() {
		var e framework.AuditEntry
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.User, &e.Device, &e.Action, &e.Entity, &e.Before, &e.After); err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		e.At = sqlite.ParseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
