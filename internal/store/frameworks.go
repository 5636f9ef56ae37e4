package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// PutFramework stores a framework version. Storing the same definition
// again does nothing. A different definition under an existing id and
// version is refused (CodeExists) once an inspection uses it, because
// frameworks are immutable once used; an unused built-in is replaced.
func (db *DB) PutFramework(ctx context.Context, fw *framework.Framework, raw []byte, builtin bool) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		at := db.now()
		// Every load that stores something is audited: the server loads
		// frameworks itself, at start, from its binary or --framework files.
		loaded := func(before any) error {
			return audit(ctx, tx, at, framework.Actor{User: "fieldworkd", Device: "framework-load"}, "framework.load",
				fmt.Sprintf("framework/%s@%d", fw.ID, fw.Version), before,
				map[string]any{"id": fw.ID, "version": fw.Version, "checksum": fw.Checksum(), "title": fw.Title, "builtin": builtin})
		}
		var sum string
		err := tx.QueryRowContext(ctx, `SELECT checksum FROM frameworks WHERE id = ? AND version = ?`, fw.ID, fw.Version).Scan(&sum)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err = tx.ExecContext(ctx, `INSERT INTO frameworks (id, version, title, definition, checksum, builtin, loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				fw.ID, fw.Version, fw.Title, raw, fw.Checksum(), builtin, at); err != nil {
				return err
			}
			return loaded(nil)
		case err != nil:
			return err
		case sum == fw.Checksum():
			return nil
		}
		var used int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM inspections WHERE framework_id = ? AND framework_version = ?`, fw.ID, fw.Version).Scan(&used); err != nil {
			return err
		}
		if used > 0 {
			return framework.Errorf(framework.CodeExists, "framework %s version %d is used by %d inspection(s) and cannot change; give the new definition a new version", fw.ID, fw.Version, used)
		}
		if _, err = tx.ExecContext(ctx, `UPDATE frameworks SET title = ?, definition = ?, checksum = ?, builtin = ?, loaded_at = ? WHERE id = ? AND version = ?`,
			fw.Title, raw, fw.Checksum(), builtin, at, fw.ID, fw.Version); err != nil {
			return err
		}
		return loaded(map[string]any{"checksum": sum})
	})
	if err != nil {
		return fmt.Errorf("store framework %s@%d: %w", fw.ID, fw.Version, err)
	}
	db.mu.Lock()
	delete(db.fws, fmt.Sprintf("%s@%d", fw.ID, fw.Version))
	db.fwGen++
	db.mu.Unlock()
	return nil
}

// Frameworks lists every stored framework version.
func (db *DB) Frameworks(ctx context.Context) ([]framework.Summary, error) {
	rows, err := db.conn.Reader.QueryContext(ctx, `SELECT id, version FROM frameworks ORDER BY id, version`)
	if err != nil {
		return nil, fmt.Errorf("list frameworks: %w", err)
	}
	type key struct {
		id string
		v  int
	}
	var keys []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.id, &k.v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list frameworks: %w", err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list frameworks: %w", err)
	}
	var out []framework.Summary
	for _, k := range keys {
		fw, _, err := db.Framework(ctx, k.id, k.v)
		if err != nil {
			return nil, err
		}
		out = append(out, framework.Summary{ID: fw.ID, Version: fw.Version, Title: fw.Title, Checksum: fw.Checksum(), Rated: fw.Rated(), Questions: len(fw.Questions())})
	}
	return out, nil
}

// Framework returns a framework version (version 0: the latest) and its
// file. Parsed frameworks are cached: a version is immutable once an
// inspection uses it; PutFramework may replace an unused one.
func (db *DB) Framework(ctx context.Context, id string, version int) (*framework.Framework, []byte, error) {
	// A version named is served from the cache without reading its
	// definition (tens of kilobytes; a pooled report asks once per
	// inspection): PutFramework drops a version it replaces. A definition
	// read before a PutFramework replaced it, cached after it dropped the
	// old one, would be served for good: it is cached only if no
	// PutFramework finished since before it was read (gen).
	db.mu.Lock()
	gen := db.fwGen
	c, ok := db.fws[fmt.Sprintf("%s@%d", id, version)]
	db.mu.Unlock()
	if ok && version != 0 {
		return c.fw, c.raw, nil
	}
	q := `SELECT version, definition FROM frameworks WHERE id = ? AND version = ?`
	args := []any{id, version}
	if version == 0 {
		q = `SELECT version, definition FROM frameworks WHERE id = ? ORDER BY version DESC LIMIT 1`
		args = args[:1]
	}
	var raw []byte
	err := db.conn.Reader.QueryRowContext(ctx, q, args...).Scan(&version, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		if version != 0 {
			return nil, nil, framework.Errorf(framework.CodeNotFound, "framework %q has no version %d", id, version)
		}
		return nil, nil, framework.Errorf(framework.CodeNotFound, "framework %q not found", id)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get framework %s: %w", id, err)
	}
	k := fmt.Sprintf("%s@%d", id, version)
	db.mu.Lock()
	c, ok = db.fws[k]
	db.mu.Unlock()
	if ok && bytes.Equal(c.raw, raw) { // the latest, as read
		return c.fw, c.raw, nil
	}
	fw, err := framework.Load(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("stored framework %s: %w", k, err)
	}
	c = cachedFramework{fw, raw}
	db.mu.Lock()
	if db.fwGen == gen {
		db.fws[k] = c
	}
	db.mu.Unlock()
	return c.fw, c.raw, nil
}
