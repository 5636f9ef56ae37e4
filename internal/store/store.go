// Package store is the server's database: frameworks, users and tokens,
// inspections and teams, cases, answers and their history, conflicts, the
// pull log, kept counts and the audit trail, in one SQLite file on
// internal/sqlite. The sync decision is syncer's and the rules are
// framework's; this package gathers the facts they need, calls them, and
// stores the outcome with the measured statement shapes.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the server's database.
type DB struct {
	conn *sqlite.Conn
	// Now returns the current time; tests may fix it.
	Now func() time.Time

	mu    sync.Mutex
	fws   map[string]cachedFramework // by id@version
	fwGen uint64                     // PutFramework's replacements so far: see Framework

	applyCh       chan *applyRequest
	closed        chan struct{}
	committerDone chan struct{}
	closeOnce     sync.Once

	logger       atomic.Pointer[slog.Logger]
	replacedOnce sync.Once
}

// Open opens (creating and migrating) the server database at path.
func Open(ctx context.Context, path string) (*DB, error) {
	c, err := sqlite.Open(ctx, path, migrations, "migrations")
	if err != nil {
		return nil, err
	}
	db := &DB{conn: c, Now: time.Now, fws: map[string]cachedFramework{},
		applyCh: make(chan *applyRequest), closed: make(chan struct{}), committerDone: make(chan struct{})}
	go db.committer()
	if err := db.runPendingTasks(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// runPendingTasks does what a migration asked of Go, once, in one
// transaction: 0020 asks for the kept counts by attribute to be repacked
// by question position, which needs each inspection's framework; 0008
// and 0015 ask for the kept counts to be recounted, as they follow
// framework.NoLongerApplies, a rule SQL cannot judge.
func (db *DB) runPendingTasks(ctx context.Context) error {
	var n int
	if err := db.conn.Reader.QueryRowContext(ctx, `SELECT count(*) FROM pending_tasks`).Scan(&n); err != nil || n == 0 {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		take := func(name string) (bool, error) {
			res, err := tx.ExecContext(ctx, `DELETE FROM pending_tasks WHERE name = ?`, name)
			if err != nil {
				return false, fmt.Errorf("pending %s: %w", name, err)
			}
			done, _ := res.RowsAffected()
			return done > 0, nil
		}
		repack, err := take("repack_breakdowns")
		if err != nil {
			return err
		}
		recount := false
		if repack {
			if recount, err = db.repackBreakdowns(ctx, tx); err != nil {
				return fmt.Errorf("pending repack: %w", err)
			}
		}
		if asked, err := take("recount"); err != nil || !(asked || recount) {
			return err
		}
		if _, err := db.recount(ctx, tx, true); err != nil {
			return fmt.Errorf("pending recount: %w", err)
		}
		return nil
	})
}

// cachedFramework is a stored framework version parsed, with its file.
type cachedFramework struct {
	fw  *framework.Framework
	raw []byte
}

// Close stops the committer and closes the database.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { close(db.closed) })
	<-db.committerDone
	return db.conn.Close()
}

func (db *DB) now() string { return db.Now().UTC().Format(time.RFC3339Nano) }

// SetLogger sets where the store logs the few events an operator must
// act on (slog.Default until set).
func (db *DB) SetLogger(l *slog.Logger) { db.logger.Store(l) }

func (db *DB) log() *slog.Logger {
	if l := db.logger.Load(); l != nil {
		return l
	}
	return slog.Default()
}

// write runs fn in one write transaction. Every server write goes through
// here, so every commit is refused once the database file is no longer the
// one opened (sqlite.Conn.Write): the operator is told once, and each
// caller is told to restart.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	err := db.conn.Write(ctx, fn)
	if errors.Is(err, sqlite.ErrFileReplaced) {
		db.replacedOnce.Do(func() {
			db.log().Error("the database file was replaced or deleted while fieldworkd ran: refusing every write until restart", "path", db.conn.Path())
		})
		return framework.Errorf(framework.CodePrecondition, "the database file at %s was replaced or deleted; restart fieldworkd", db.conn.Path())
	}
	return err
}

// read runs fn in one read transaction, so everything it reads is from one
// snapshot.
func (db *DB) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.conn.Read(ctx, fn)
}

// ---- frameworks ----

// ---- users and tokens ----

// ---- inspections and team ----
