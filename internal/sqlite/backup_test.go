package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
)

// testMigrations are the test databases' schema, in folder "m".
var testMigrations = fstest.MapFS{"m/0001_t.sql": {Data: []byte(`CREATE TABLE t (n INTEGER PRIMARY KEY, pad TEXT NOT NULL);
CREATE TABLE sums (id INTEGER PRIMARY KEY, total INTEGER NOT NULL); INSERT INTO sums VALUES (1, 0);`)}}

func openTestDB(t *testing.T, path string) *Conn {
	t.Helper()
	c, err := Open(context.Background(), path, testMigrations, "m")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A backup taken while a writer commits is one commit's state: each
// transaction adds a row and its number to a running total, so a copy
// holding half of one would not add up. Every row committed before the
// backup began is in it.
func TestBackup_ConsistentUnderWrites(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "live.db")
	c := openTestDB(t, src)
	ctx := context.Background()
	pad := strings.Repeat("x", 2000) // enough pages that the copy takes a while
	var committed atomic.Int64
	write := func(n int64) error {
		return c.Write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (n, pad) VALUES (?, ?)`, n, pad); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE sums SET total = total + ? WHERE id = 1`, n)
			return err
		})
	}
	for n := int64(1); n <= 2000; n++ {
		if err := write(n); err != nil {
			t.Fatal(err)
		}
	}
	committed.Store(2000)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := int64(2001); ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := write(n); err != nil {
				t.Error(err)
				return
			}
			committed.Store(n)
		}
	}()
	before := committed.Load()
	dest := filepath.Join(dir, "copy.db")
	res, err := Backup(ctx, src, dest, false)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages == 0 || res.Bytes == 0 {
		t.Errorf("result %+v: no pages copied", res)
	}
	st, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("copy mode %v, want 0600", st.Mode().Perm())
	}
	db, err := sql.Open("sqlite3", "file:"+dest+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, maxN, sum, total int64
	if err := db.QueryRow(`SELECT count(*), max(n), sum(n), (SELECT total FROM sums) FROM t`).Scan(&rows, &maxN, &sum, &total); err != nil {
		t.Fatal(err)
	}
	if rows != maxN || sum != total || sum != maxN*(maxN+1)/2 {
		t.Errorf("copy is not one commit's state: %d rows, max %d, sum %d, kept total %d", rows, maxN, sum, total)
	}
	if maxN < before {
		t.Errorf("copy holds rows up to %d, but %d were committed before the backup began", maxN, before)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".copy.db.partial-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestBackup_RefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "live.db")
	openTestDB(t, src)
	ctx := context.Background()
	dest := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(dest, []byte("an older backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Backup(ctx, src, dest, false); err == nil || !strings.Contains(err.Error(), "already exists (give --force") {
		t.Fatalf("backup over an existing file: %v, want refused", err)
	}
	if b, _ := os.ReadFile(dest); string(b) != "an older backup" {
		t.Fatalf("the existing file was changed: %q", b)
	}
	if _, err := Backup(ctx, src, dest, true); err != nil {
		t.Fatalf("backup --force: %v", err)
	}
	if err := IntegrityCheck(ctx, dest); err != nil {
		t.Fatalf("forced copy: %v", err)
	}
	for _, to := range []string{src, src + "-wal", src + "-shm", filepath.Join(dir, ".", "live.db")} {
		if _, err := Backup(ctx, src, to, true); err == nil || !strings.Contains(err.Error(), "the database itself") {
			t.Errorf("backup --force to %s: %v, want refused", to, err)
		}
	}
	link := filepath.Join(dir, "link.db")
	if err := os.Link(src, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Backup(ctx, src, link, true); err == nil || !strings.Contains(err.Error(), "the database itself") {
		t.Errorf("backup --force to a hard link of the database: %v, want refused", err)
	}
	if _, err := Backup(ctx, filepath.Join(dir, "missing.db"), filepath.Join(dir, "x.db"), false); err == nil {
		t.Error("backup of a missing database succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !os.IsNotExist(err) {
		t.Error("backup of a missing database created it")
	}
}

// IntegrityCheck finds a damaged file: a page overwritten with junk.
func TestIntegrityCheck_FindsDamage(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "live.db")
	c := openTestDB(t, src)
	ctx := context.Background()
	for n := 1; n <= 200; n++ {
		if err := c.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO t (n, pad) VALUES (?, ?)`, n, strings.Repeat("y", 1000))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	dest := filepath.Join(dir, "copy.db")
	if _, err := Backup(ctx, src, dest, false); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(dest, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(strings.Repeat("\xff", 4096)), 3*4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := IntegrityCheck(ctx, dest); err == nil {
		t.Error("integrity check passed a damaged file")
	}
}
