package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-sqlite3"
)

// BackupResult describes a finished backup.
type BackupResult struct {
	Pages int   // pages copied
	Bytes int64 // size of the copy
}

// Backup copies the live database at src into a new file at dest with
// SQLite's online backup API, while other connections (another process
// serving it) go on reading and writing.
//
// The copy is taken in one step: one read transaction on src, so it is the
// database exactly as one commit left it — everything committed before the
// backup began is in it, and no half of a later transaction. In WAL mode a
// reader does not hold writers back, so one step costs them nothing but a
// WAL that cannot be checkpointed past the copy's snapshot until it ends.
// A backup in several steps would release its read lock between them and
// restart whenever another connection committed, which under steady pushes
// may never finish.
//
// The copy is written to an owner-only (0600) temporary file beside dest,
// checked with PRAGMA integrity_check, synced, and only then moved to dest:
// dest never holds a partial or unchecked copy. An existing dest is refused
// unless overwrite is set; dest may never be src or one of its side files.
func Backup(ctx context.Context, src, dest string, overwrite bool) (BackupResult, error) {
	if err := checkBackupPaths(src, dest, overwrite); err != nil {
		return BackupResult{}, err
	}
	tmpf, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".partial-*")
	if err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	tmp := tmpf.Name()
	// CreateTemp makes the file 0600; say so rather than rely on it.
	err = errors.Join(tmpf.Chmod(0o600), tmpf.Close())
	defer removeDB(tmp) // a no-op once tmp was moved to dest
	if err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	pages, err := copyOnline(ctx, src, tmp)
	if err != nil {
		return BackupResult{}, fmt.Errorf("backup %s: %w", src, err)
	}
	if err := IntegrityCheck(ctx, tmp); err != nil {
		return BackupResult{}, fmt.Errorf("backup %s: the copy failed its check: %w", src, err)
	}
	if err := syncFile(tmp); err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	if err := place(tmp, dest, overwrite); err != nil {
		return BackupResult{}, err
	}
	if err := syncFile(filepath.Dir(dest)); err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	st, err := os.Stat(dest)
	if err != nil {
		return BackupResult{}, fmt.Errorf("backup: %w", err)
	}
	return BackupResult{Pages: pages, Bytes: st.Size()}, nil
}

// checkBackupPaths refuses a missing source, a dest that exists (unless
// overwrite), and a dest that is the source or one of its side files,
// which even overwrite may not replace.
func checkBackupPaths(src, dest string, overwrite bool) error {
	sst, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("backup: the database %s: %w", src, err)
	}
	if !sst.Mode().IsRegular() {
		return fmt.Errorf("backup: the database %s is not a regular file", src)
	}
	as, _ := filepath.Abs(src)
	ad, _ := filepath.Abs(dest)
	for _, side := range []string{"", "-wal", "-shm", "-journal"} {
		if ad == as+side {
			return fmt.Errorf("backup: %s is the database itself or one of its files; back up to another file", dest)
		}
	}
	dst, err := os.Stat(dest)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("backup: %w", err)
	case os.SameFile(sst, dst):
		return fmt.Errorf("backup: %s is the database itself; back up to another file", dest)
	case !overwrite:
		return fmt.Errorf("backup: %s already exists (give --force to replace it)", dest)
	case !dst.Mode().IsRegular():
		return fmt.Errorf("backup: %s is not a regular file", dest)
	}
	return nil
}

// copyOnline copies src into the empty database file tmp in one backup
// step, waiting out a busy source until ctx ends. It returns the pages
// copied.
func copyOnline(ctx context.Context, src, tmp string) (int, error) {
	// mode=rw: a missing source is an error, never a new empty database.
	sdb, err := sql.Open("sqlite3", "file:"+src+"?mode=rw&_busy_timeout=10000")
	if err != nil {
		return 0, err
	}
	defer sdb.Close()
	ddb, err := sql.Open("sqlite3", "file:"+tmp+"?_busy_timeout=10000")
	if err != nil {
		return 0, err
	}
	defer ddb.Close()
	sc, err := sdb.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer sc.Close()
	dc, err := ddb.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer dc.Close()
	pages := 0
	err = dc.Raw(func(d any) error {
		return sc.Raw(func(s any) error {
			b, err := d.(*sqlite3.SQLiteConn).Backup("main", s.(*sqlite3.SQLiteConn), "main")
			if err != nil {
				return err
			}
			for {
				done, err := b.Step(-1)
				if err != nil {
					b.Finish()
					return err
				}
				if done {
					pages = b.PageCount()
					return b.Finish()
				}
				// Busy or locked (a writer in rollback mode, a checkpoint
				// resetting the WAL): wait and try again.
				select {
				case <-ctx.Done():
					b.Finish()
					return ctx.Err()
				case <-time.After(50 * time.Millisecond):
				}
			}
		})
	})
	return pages, err
}

// IntegrityCheck runs PRAGMA integrity_check on the database file at
// path and returns an error listing what it found unless it says ok.
func IntegrityCheck(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=rw&_busy_timeout=10000")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var found []error
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" {
			found = append(found, errors.New(line))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return errors.Join(found...)
}

// place moves the checked copy tmp to dest. Without overwrite a hard link
// makes dest appear atomically only if nothing is there (a file created
// since the first check is not replaced); on a file system without hard
// links it checks again and renames.
func place(tmp, dest string, overwrite bool) error {
	if !overwrite {
		err := os.Link(tmp, dest)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("backup: %s already exists (give --force to replace it)", dest)
		}
		if err == nil {
			return nil
		}
		if _, serr := os.Lstat(dest); !errors.Is(serr, fs.ErrNotExist) {
			return fmt.Errorf("backup: %s already exists (give --force to replace it)", dest)
		}
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// removeDB removes a database file and the side files SQLite may leave.
func removeDB(path string) {
	for _, side := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + side)
	}
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
