package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Close while four goroutines write (each commit waking the checkpointer,
// the later rounds past the writer's own limit) neither hangs nor loses a
// commit: every Write that returned nil is in the file afterwards, which
// is intact; Writes after Close fail; a second Close is harmless.
func TestCheckpoint_CloseWhileWritesAndCheckpointsRun(t *testing.T) {
	ctx := context.Background()
	pad := strings.Repeat("c", 1000)
	for round := range 4 {
		path := filepath.Join(t.TempDir(), "c.db")
		c, err := Open(ctx, path, testMigrations, "m")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		acked := make([][]int, 4)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					lo := (w*1_000_000 + i) * 20
					err := c.Write(ctx, func(tx *sql.Tx) error { return insertPadded(tx, lo, 20, pad) })
					if err != nil {
						if !strings.Contains(err.Error(), "closed") {
							t.Errorf("a Write beside Close: %v, want the database closed", err)
						}
						return
					}
					acked[w] = append(acked[w], lo)
				}
			}()
		}
		time.Sleep(time.Duration(50+round*400) * time.Millisecond)
		closed := make(chan error, 1)
		go func() { closed <- c.Close() }()
		select {
		case err := <-closed:
			if err != nil {
				t.Fatalf("round %d: Close: %v", round, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: Close beside writes and checkpoints did not return in 30 s", round)
		}
		wg.Wait()
		if err := c.Close(); err != nil {
			t.Errorf("a second Close: %v", err)
		}
		if err := c.Write(ctx, func(tx *sql.Tx) error { return nil }); err == nil {
			t.Errorf("a Write after Close succeeded")
		}
		var all []int
		for w := range 4 {
			all = append(all, acked[w]...)
		}
		checkCommits(t, path, all, 20)
		t.Logf("round %d: %d acknowledged commits, all in the file", round, len(all))
	}
}

// checkCommits opens the file as the next start would and requires it
// intact, with each commit of per rows from each of los there.
func checkCommits(t *testing.T, path string, los []int, per int) {
	t.Helper()
	db := openIntact(t, path)
	defer db.Close()
	for _, lo := range los {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM t WHERE n >= ? AND n < ?`, lo, lo+per).Scan(&n); err != nil || n != per {
			t.Fatalf("the acknowledged commit of rows %d to %d: %d rows in the file (%v)", lo, lo+per-1, n, err)
		}
	}
}

// Opening and closing a database many times, and Opens that fail after
// the checkpointer started (a file of a newer schema), leave no goroutine
// behind.
func TestCheckpoint_OpenCloseLeavesNoGoroutine(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "c.db")
	c, err := Open(ctx, path, testMigrations, "m")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Writer.Exec(`INSERT INTO schema_migrations (version, name) VALUES (99, '0099_newer.sql')`); err != nil {
		t.Fatal(err)
	}
	c.Close()
	good := filepath.Join(dir, "good.db")
	before := runtime.NumGoroutine()
	for range 40 {
		if c, err := Open(ctx, path, testMigrations, "m"); err == nil || !strings.Contains(err.Error(), "newer") {
			if c != nil {
				c.Close()
			}
			t.Fatalf("Open of a newer file: %v, want refused", err)
		}
		c, err := Open(ctx, good, testMigrations, "m")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Write(ctx, func(tx *sql.Tx) error { return insertPadded(tx, 0, 1, "g") }); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Writer.Exec(`DELETE FROM t`); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after 80 Opens and Closes, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
