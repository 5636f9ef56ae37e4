// Package sqlite is the plumbing both of fieldwork's databases stand on —
// the server's (internal/store) and the client's offline store
// (internal/localstore): connection settings, embedded migrations, owner-only
// files, transactions, and the statement-shaping helpers the measured write
// paths use. It is the only package that imports the SQLite driver, and it
// knows nothing of fieldwork's tables.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Conn is a pair of connection pools on one SQLite file: one writer (so
// writers queue in Go instead of failing with SQLITE_BUSY) and a pool of
// readers that WAL mode lets run beside it.
type Conn struct {
	Writer *sql.DB
	Reader *sql.DB

	checkpoints checkpointer

	path   string
	opened os.FileInfo // the file at path when it was opened
}

func dsn(file string, immediate bool) string {
	q := url.Values{}
	q.Set("_foreign_keys", "on")
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_synchronous", "NORMAL")
	// Reuse prepared statements per connection: preparing dominated the
	// push profile (BENCHMARKS.md).
	q.Set("_stmt_cache_size", "256")
	// 64 MiB of page cache (the default is 2 MiB): a push group touches the
	// right-hand pages of several tables and indexes at once.
	q.Set("_cache_size", "-65536")
	if immediate {
		// Write transactions take the write lock at BEGIN, so they wait on
		// the busy timeout instead of failing on lock upgrade.
		q.Set("_txlock", "immediate")
	}
	return "file:" + file + "?" + q.Encode()
}

// Open opens (creating if needed) the SQLite file and applies the
// numbered *.sql migrations found in dir of migrations that it has not
// applied yet, each in its own transaction. The file, its -wal and -shm
// and a folder it creates are its owner's only (see private).
func Open(ctx context.Context, file string, migrations fs.FS, dir string) (*Conn, error) {
	if file == "" || file == ":memory:" {
		return nil, fmt.Errorf("open database: a file path is required")
	}
	before, err := private(file)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", file, err)
	}
	w, err := sql.Open(writerDriver, dsn(file, true))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", file, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite3", dsn(file, false))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", file, err)
	}
	r.SetMaxOpenConns(8)
	k, err := sql.Open("sqlite3", dsn(file, false))
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open database %s: %w", file, err)
	}
	k.SetMaxOpenConns(1)
	c := &Conn{Writer: w, Reader: r, path: file, opened: before}
	c.checkpoints.start(k)
	if err := c.migrate(ctx, migrations, dir); err != nil {
		c.Close()
		return nil, fmt.Errorf("open database %s: %w", file, err)
	}
	// The driver opened the file lazily, during migrate: it is the one
	// private created only if nothing replaced it in between.
	if err := c.CheckFile(); err != nil {
		c.Close()
		return nil, fmt.Errorf("open database %s: %w", file, err)
	}
	for _, side := range []string{"-wal", "-shm"} {
		if err := os.Chmod(file+side, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.Close()
			return nil, fmt.Errorf("open database %s: %w", file, err)
		}
	}
	return c, nil
}

// private makes file a private database file before the driver opens it:
// its folder is created 0700 if missing, the file is created 0600 (an
// empty file is a new SQLite database), and an existing file is made 0600.
// SQLite creates -wal and -shm with the database file's mode, so they
// follow; Open still sets them after opening, not relying on the
// umask or on SQLite's choice. It returns the file's identity.
func private(file string) (os.FileInfo, error) {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return nil, fmt.Errorf("make the database file owner-only: %w", err)
	}
	return f.Stat()
}

// ErrFileReplaced is returned by CheckFile when the file at the database's
// path is no longer the file that was opened.
var ErrFileReplaced = errors.New("the database file was replaced or deleted")

// CheckFile reports whether the file at the database's path is still the
// one opened: a file renamed over it, or its deletion, leaves this process
// writing to a file nobody will open again, so writes must stop.
func (c *Conn) CheckFile() error {
	now, err := os.Stat(c.path)
	if err != nil || !os.SameFile(now, c.opened) {
		return fmt.Errorf("%w: %s", ErrFileReplaced, c.path)
	}
	return nil
}

// Path is the database file's path.
func (c *Conn) Path() string { return c.path }

// Close stops the checkpointer and closes its connection and both pools.
func (c *Conn) Close() error {
	return errors.Join(c.checkpoints.stop(), c.Reader.Close(), c.Writer.Close())
}

func (c *Conn) migrate(ctx context.Context, migrations fs.FS, dir string) error {
	if _, err := c.Writer.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, path.Join(dir, "*.sql"))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	// A file migrated by a newer build has steps this one does not know:
	// writing to it with older code could lose what they added.
	known := 0
	if len(names) > 0 {
		known, _ = strconv.Atoi(strings.SplitN(path.Base(names[len(names)-1]), "_", 2)[0])
	}
	var newest int
	if err := c.Writer.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if newest > known {
		return fmt.Errorf("update fieldwork: this database was written by a newer fieldwork (schema %d; this build knows schemas up to %d); nothing was changed", newest, known)
	}
	for _, name := range names {
		base := path.Base(name)
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: %s is not named NNNN_name.sql", base)
		}
		var done int
		if err := c.Writer.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, n).Scan(&done); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if done > 0 {
			continue
		}
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		tx, err := c.Writer.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, n, base); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", base, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s: %w", base, err)
		}
	}
	return nil
}

// InList returns the placeholders and arguments of an IN list of values (at
// least one), padded with repeats of the last to a multiple of 20: the
// driver caches a prepared statement per SQL text, and IN lists of every
// length up to 500 held 58 MiB (BENCHMARKS.md). Repeats change no result.
func InList(values []any) (string, []any) {
	const granule = 20
	n := (len(values) + granule - 1) / granule * granule
	args := make([]any, n)
	copy(args, values)
	for i := len(values); i < n; i++ {
		args[i] = values[len(values)-1]
	}
	return strings.TrimSuffix(strings.Repeat("?,", n), ","), args
}

// InChunks calls fn with the IN list (InList) of each run of at most 500
// of values in turn, none if there are none: a list of thousands would
// pass SQLite's bound on a statement's variables.
func InChunks[T any](values []T, fn func(marks string, args []any) error) error {
	for lo := 0; lo < len(values); lo += 500 {
		chunk := make([]any, 0, min(500, len(values)-lo))
		for _, v := range values[lo:min(lo+500, len(values))] {
			chunk = append(chunk, v)
		}
		if err := fn(InList(chunk)); err != nil {
			return err
		}
	}
	return nil
}

// IsUnique reports whether err is a primary-key or unique violation. Both
// codes are checked: a duplicate TEXT PRIMARY KEY reports the former.
func IsUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey || se.ExtendedCode == sqlite3.ErrConstraintUnique)
}

// Write runs fn in one write transaction and commits it if fn succeeds and
// the file at the database's path is still the one opened (CheckFile): a
// write committed to a file renamed over or deleted would be acknowledged
// and then lost at the next start. The error then wraps ErrFileReplaced.
func (c *Conn) Write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := c.Writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := c.CheckFile(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	c.checkpoints.committed(c.Writer, c.path)
	return nil
}

// Read runs fn in one read-only transaction on the reader pool, so
// everything it reads is from one snapshot.
func (c *Conn) Read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := c.Reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// InsertMany writes rows with multi-row INSERTs (head, rowSQL once per
// row joined by commas, tail) of up to 400 rows each, whose lengths are
// multiples of 20 or under 20 (a group's rows take at most two statements
// beyond the full ones). The driver caches a prepared statement per SQL
// text, and a statement's size grows with its rows: with every length from
// 1 to 400 in use, as under mixed load, the cache held about 100 MiB of
// INSERTs; these 39 lengths per table bound it to a few.
func InsertMany(ctx context.Context, tx *sql.Tx, head, rowSQL, tail string, rows [][]any) error {
	for start := 0; start < len(rows); {
		n := chunkLen(len(rows) - start)
		chunk := rows[start : start+n]
		start += n
		var args []any
		for _, r := range chunk {
			args = append(args, r...)
		}
		q := head + strings.TrimSuffix(strings.Repeat(rowSQL+",", len(chunk)), ",") + tail
		if err := ExecBound(ctx, tx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// chunkLen is InsertMany's next statement's row count for n rows left.
func chunkLen(n int) int {
	const per, granule = 400, 20
	if n >= per {
		return per
	}
	if n >= granule {
		return n - n%granule
	}
	return n
}

// ExecBound runs a statement with many arguments as a query: go-sqlite3
// binds a query's arguments in one cgo crossing and an exec's one call per
// value, which was a third of writing a history row (BENCHMARKS.md).
func ExecBound(ctx context.Context, tx *sql.Tx, q string, args ...any) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	for rows.Next() { // an INSERT without RETURNING has no rows
	}
	if err := rows.Close(); err != nil {
		return err
	}
	return rows.Err()
}

// ParseTime reads a time as both databases store it (UTC, RFC 3339 with
// nanoseconds); a column that is not one reads as the zero time.
func ParseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// FileSizes returns the sizes in bytes of the database file and of its
// write-ahead log (0 when there is none), from the file system: cheap
// enough for every metrics scrape.
func (c *Conn) FileSizes() (db, wal int64, err error) {
	st, err := os.Stat(c.path)
	if err != nil {
		return 0, 0, err
	}
	if w, werr := os.Stat(c.path + "-wal"); werr == nil {
		wal = w.Size()
	} else if !errors.Is(werr, fs.ErrNotExist) {
		return 0, 0, werr
	}
	return st.Size(), wal, nil
}
