// Package localstore is the client's offline store: one SQLite file on
// the inspector's laptop (on internal/sqlite, with its own migrations)
// holding the inspections, cases, answers and frameworks its user may see,
// the outbox of ops not yet acknowledged, conflicts and refused edits.
package localstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

//go:embed migrations/*.sql
var localMigrations embed.FS

// Store is a client's offline store: the inspections, cases, answers and
// frameworks its user may see, and the outbox of ops not yet acknowledged.
type Store struct {
	conn *sqlite.Conn
	Now  func() time.Time

	// fws caches loaded frameworks by id@version. The store is shared by
	// concurrent callers (the web form's handlers), so the cache has a lock.
	fwMu sync.Mutex
	fws  map[string]*framework.Framework
}

// Open opens (creating and migrating) a client store, readable and
// writable by its owner only.
func Open(ctx context.Context, path string) (*Store, error) {
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600); err == nil {
		f.Close()
	}
	c, err := sqlite.Open(ctx, path, localMigrations, "migrations")
	if err != nil {
		return nil, err
	}
	os.Chmod(path, 0o600)
	return &Store{conn: c, Now: time.Now, fws: map[string]*framework.Framework{}}, nil
}

// Close closes the store.
func (l *Store) Close() error { return l.conn.Close() }

// write runs fn in one write transaction, refused (like the server's)
// once the file at the store's path is not the one opened: answers
// committed to a file renamed over or deleted would be lost.
func (l *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return l.conn.Write(ctx, fn)
}

// Meta returns a stored setting ("" if unset).
func (l *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := l.conn.Writer.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetMeta stores a setting.
func (l *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := l.conn.Writer.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

func setMeta(ctx context.Context, tx *sql.Tx, key, value string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// DeviceID returns this store's device id, creating it on first use.
func (l *Store) DeviceID(ctx context.Context) (string, error) {
	id, err := l.Meta(ctx, "device_id")
	if err != nil || id != "" {
		return id, err
	}
	id = uuid.Must(uuid.NewV7()).String()
	return id, l.SetMeta(ctx, "device_id", id)
}

// PutFramework caches a framework file.
func (l *Store) PutFramework(ctx context.Context, id string, version int, raw []byte) error {
	_, err := l.conn.Writer.ExecContext(ctx, `INSERT INTO frameworks (id, version, definition) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET definition = excluded.definition`, id, version, raw)
	return err
}

// HasFramework reports whether a framework version is cached.
func (l *Store) HasFramework(ctx context.Context, id string, version int) (bool, error) {
	var n int
	err := l.conn.Writer.QueryRowContext(ctx, `SELECT count(*) FROM frameworks WHERE id = ? AND version = ?`, id, version).Scan(&n)
	return n > 0, err
}

// Framework returns a cached framework.
func (l *Store) Framework(ctx context.Context, id string, version int) (*framework.Framework, error) {
	k := fmt.Sprintf("%s@%d", id, version)
	l.fwMu.Lock()
	fw := l.fws[k]
	l.fwMu.Unlock()
	if fw != nil {
		return fw, nil
	}
	var raw []byte
	err := l.conn.Writer.QueryRowContext(ctx, `SELECT definition FROM frameworks WHERE id = ? AND version = ?`, id, version).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, framework.Errorf(framework.CodeNotFound, "framework %s is not in the local store: run fieldwork sync", k)
	}
	if err != nil {
		return nil, err
	}
	// Two callers missing at once both load it; either result will do.
	fw, err = framework.Load(raw)
	if err != nil {
		return nil, err
	}
	l.fwMu.Lock()
	l.fws[k] = fw
	l.fwMu.Unlock()
	return fw, nil
}

// Inspections lists the locally known inspections.
func (l *Store) Inspections(ctx context.Context) ([]framework.Inspection, error) {
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT id, name, unit, framework_id, framework_version, status, role FROM inspections ORDER BY name, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.Inspection
	for rows.Next() {
		var in framework.Inspection
		if err := rows.Scan(&in.ID, &in.Name, &in.Unit, &in.FrameworkID, &in.FrameworkVersion, &in.Status, &in.Role); err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// Inspection returns one locally known inspection.
func (l *Store) Inspection(ctx context.Context, id string) (framework.Inspection, error) {
	var in framework.Inspection
	err := l.conn.Writer.QueryRowContext(ctx, `SELECT id, name, unit, framework_id, framework_version, status, role FROM inspections WHERE id = ?`, id).
		Scan(&in.ID, &in.Name, &in.Unit, &in.FrameworkID, &in.FrameworkVersion, &in.Status, &in.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return in, framework.Errorf(framework.CodeNotFound, "inspection %q is not in the local store (run fieldwork sync while online)", id)
	}
	return in, err
}

// Cases lists the local cases of an inspection.
func (l *Store) Cases(ctx context.Context, inspectionID string) ([]framework.Case, error) {
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT case_ref, attributes, inspector, status, status_rev FROM cases WHERE inspection_id = ? ORDER BY case_ref`, inspectionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.Case
	for rows.Next() {
		var c framework.Case
		var attrs string
		if err := rows.Scan(&c.Ref, &attrs, &c.Inspector, &c.Status, &c.StatusRevision); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(attrs), &c.Attributes); err != nil {
			return nil, fmt.Errorf("case %s attributes: %w", c.Ref, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Answers lists the local answers of an inspection (one case if caseRef is set).
func (l *Store) Answers(ctx context.Context, inspectionID, caseRef string) ([]framework.Answer, error) {
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT case_ref, question_id, value, note, revision, updated_by, updated_at FROM answers
		WHERE inspection_id = ? AND (? = '' OR case_ref = ?) ORDER BY case_ref, question_id`, inspectionID, caseRef, caseRef)
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

// LatestFramework returns the latest cached version of a framework.
func (l *Store) LatestFramework(ctx context.Context, id string) (*framework.Framework, error) {
	var version int
	err := l.conn.Writer.QueryRowContext(ctx, `SELECT version FROM frameworks WHERE id = ? ORDER BY version DESC LIMIT 1`, id).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, framework.Errorf(framework.CodeNotFound, "framework %s is not in the local store", id)
	}
	if err != nil {
		return nil, err
	}
	return l.Framework(ctx, id, version)
}
