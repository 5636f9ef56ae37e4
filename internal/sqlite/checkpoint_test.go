package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// inFile counts t's rows in the database file alone, as the writer's
// checkpoints have left it: immutable=1 reads the file and ignores the
// write-ahead log. An error (no table yet) counts as -1.
func inFile(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
		return -1
	}
	return n
}

func insertRows(t *testing.T, c *Conn, from, n int, pad string) {
	t.Helper()
	err := c.Write(context.Background(), func(tx *sql.Tx) error {
		for i := from; i < from+n; i++ {
			if _, err := tx.Exec(`INSERT INTO t (n, pad) VALUES (?, ?)`, i, pad); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitInFile waits until the database file holds want rows of t.
func waitInFile(t *testing.T, path string, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for got := inFile(t, path); got != want; got = inFile(t, path) {
		if time.Now().After(deadline) {
			t.Fatalf("the database file holds %d rows after 20 s, want %d: commits are left in the write-ahead log", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A commit far below the writer's own checkpoint limit reaches the
// database file soon after: the checkpointer copied it there, beside the
// writer.
func TestCheckpoint_CopiesACommitIntoTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	c := openTestDB(t, path)
	insertRows(t, c, 1, 3, "x")
	waitInFile(t, path, 3)
	insertRows(t, c, 4, 1, "y")
	waitInFile(t, path, 4)
}

// Every connection the writer pool opens has SQLite's automatic
// checkpoints off (the checkpointer runs them); the readers, which never
// write, keep SQLite's default.
func TestCheckpoint_WriterConnectionsLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	c := openTestDB(t, path)
	var n int
	if err := c.Writer.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("writer's wal_autocheckpoint = %d (%v), want 0", n, err)
	}
	other, err := sql.Open(writerDriver, dsn(path, true))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a new writer connection's wal_autocheckpoint = %d (%v), want 0", n, err)
	}
	if err := c.Writer.QueryRow(`PRAGMA journal_size_limit`).Scan(&n); err != nil || n != checkpointLimit {
		t.Fatalf("writer's journal_size_limit = %d (%v), want %d", n, err, checkpointLimit)
	}
	if err := c.Reader.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&n); err != nil || n != 1000 {
		t.Fatalf("reader's wal_autocheckpoint = %d (%v), want SQLite's 1000", n, err)
	}
}

// Under 40 MB of commits, back to back, the write-ahead log never grows
// much past checkpointLimit, though the goroutine's checkpoints cannot
// keep up, and every row is there at the end, in the file too.
func TestCheckpoint_LogStaysBoundedUnderWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	c := openTestDB(t, path)
	pad := strings.Repeat("p", 1000)
	const txs, per = 400, 100
	limit := int64(checkpointLimit + 200*4096)
	var most int64
	for i := range txs {
		insertRows(t, c, i*per, per, pad)
		if st, err := os.Stat(path + "-wal"); err == nil {
			most = max(most, st.Size())
		}
	}
	if most > limit {
		t.Errorf("the write-ahead log reached %d bytes, over the bound of %d", most, limit)
	}
	var n int
	if err := c.Reader.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != txs*per {
		t.Fatalf("%d rows (%v), want %d", n, err, txs*per)
	}
	waitInFile(t, path, txs*per)
	t.Logf("largest write-ahead log: %d KB", most/1024)
}

// A read transaction held open keeps checkpoints from passing its
// snapshot; writes go on meanwhile, and once it ends the next commit's
// checkpoint copies them all into the file.
func TestCheckpoint_LongReadHoldsItBackAndWritesGoOn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	c := openTestDB(t, path)
	insertRows(t, c, 0, 1, "a")
	waitInFile(t, path, 1)
	rtx, err := c.Reader.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var seen int
	if err := rtx.QueryRow(`SELECT count(*) FROM t`).Scan(&seen); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		insertRows(t, c, i, 1, "b")
	}
	time.Sleep(100 * time.Millisecond)
	if got := inFile(t, path); got != 1 {
		t.Errorf("with a read open at 1 row the file holds %d rows, want 1 (a checkpoint passed an open read)", got)
	}
	if err := rtx.QueryRow(`SELECT count(*) FROM t`).Scan(&seen); err != nil || seen != 1 {
		t.Errorf("the open read sees %d rows (%v), want its snapshot's 1", seen, err)
	}
	rtx.Rollback()
	insertRows(t, c, 51, 1, "c")
	waitInFile(t, path, 52)
}

// Close waits for the checkpointer, after which nothing touches the
// file; the last connection's close leaves no log behind.
func TestCheckpoint_CloseStopsIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	c := openTestDB(t, path)
	for i := range 20 {
		insertRows(t, c, i, 1, "z")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Errorf("a write-ahead log is left after Close")
	}
	if got := inFile(t, path); got != 20 {
		t.Errorf("the file holds %d rows after Close, want 20", got)
	}
}

// EmptyLog right after commits, while the goroutine may be checkpointing
// them, still empties the log: it waits for that checkpoint instead of
// finding the lock taken. (A purge's VACUUM relies on it to leave no
// deleted text in the log.)
func TestCheckpoint_EmptyLogWaitsForTheGoroutine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	c := openTestDB(t, path)
	pad := strings.Repeat("q", 2000)
	for round := range 60 {
		for i := range 5 {
			insertRows(t, c, round*500+i*100, 100, pad)
		}
		emptied, err := c.EmptyLog(context.Background())
		if err != nil || !emptied {
			t.Fatalf("round %d: EmptyLog = %v, %v; want the log emptied", round, emptied, err)
		}
		if st, err := os.Stat(path + "-wal"); err != nil || st.Size() != 0 {
			t.Fatalf("round %d: the log's file after EmptyLog: %v, %v; want 0 bytes", round, st, err)
		}
	}
}
