package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// ImportSample imports a drawn sample's cases.csv rows as ImportCases
// does and, in the same transaction, keeps how the sample was drawn with
// the inspection: the cases and their method are stored together or not
// at all. The caller has checked info against the file
// (framework.CheckSampleInfo). The same sample imported again is kept
// once.
func (db *DB) ImportSample(ctx context.Context, a framework.Actor, inspectionID string, rows []framework.CaseRow, info framework.SampleInfo) (created, updated int, err error) {
	return db.importCases(ctx, a, inspectionID, rows, &info)
}

// keepSample stores a sample's description and audits it (sample.import).
func keepSample(ctx context.Context, tx *sql.Tx, at string, a framework.Actor, inspectionID string, info framework.SampleInfo) error {
	doc, err := json.Marshal(info)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO samples (inspection_id, sample_sha256, info, imported_by, device_id, imported_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, inspectionID, info.SampleSHA256, string(doc), a.User, a.Device, at)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // this sample file is already kept
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	return audit(ctx, tx, at, a, "sample.import", fmt.Sprintf("inspection/%s/sample/%d", inspectionID, id), nil, json.RawMessage(doc))
}

// Samples lists how an inspection's imported samples were drawn, oldest
// first. The caller decides who may read them.
func (db *DB) Samples(ctx context.Context, inspectionID string) ([]framework.SampleInfo, error) {
	rows, err := db.conn.Reader.QueryContext(ctx, `SELECT info, imported_by, device_id, imported_at FROM samples WHERE inspection_id = ? ORDER BY id`, inspectionID)
	if err != nil {
		return nil, fmt.Errorf("list samples: %w", err)
	}
	defer rows.Close()
	var out []framework.SampleInfo
	for rows.Next() {
		var doc, at string
		var s framework.SampleInfo
		if err := rows.Scan(&doc, &s.ImportedBy, &s.DeviceID, &at); err != nil {
			return nil, fmt.Errorf("list samples: %w", err)
		}
		if err := json.Unmarshal([]byte(doc), &s); err != nil {
			return nil, fmt.Errorf("list samples: %w", err)
		}
		if s.ImportedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("list samples: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
