package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The tests in this file run this test binary again as a child process
// (childEnv names what it does) to write to, or hold, a database another
// process has open, and to be killed while it does.
const childEnv = "FIELDWORK_SQLITE_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode, os.Getenv("FIELDWORK_SQLITE_DB")))
	}
	os.Exit(m.Run())
}

// childRows are the rows of each child commit, childPad each row's text:
// 50 KB a commit, so a few hundred pass the writer's own checkpoint limit.
const childRows = 50

var childPad = strings.Repeat("k", 1000)

// runChild is the child process. "write" commits rows from
// FIELDWORK_SQLITE_FROM on with Open and Write, printing the last row of
// each commit once Write has returned (an acknowledgement), forever or,
// with FIELDWORK_SQLITE_STOP, that many commits and then Close. "hold"
// opens a plain connection, as Litestream does, begins a read and reads,
// prints the rows it sees, and holds the read until its input ends.
func runChild(mode, path string) int {
	ctx := context.Background()
	switch mode {
	case "write":
		from, _ := strconv.Atoi(os.Getenv("FIELDWORK_SQLITE_FROM"))
		stop, _ := strconv.Atoi(os.Getenv("FIELDWORK_SQLITE_STOP"))
		c, err := Open(ctx, path, testMigrations, "m")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		for i := 0; stop == 0 || i < stop; i++ {
			lo := from + i*childRows
			if err := c.Write(ctx, func(tx *sql.Tx) error { return insertRange(tx, lo, childRows) }); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
			fmt.Println(lo + childRows - 1)
		}
		if err := c.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Println("closed")
	case "hold":
		db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Println(n)
		io.Copy(io.Discard, os.Stdin)
		tx.Rollback()
		db.Close()
	default:
		return 3
	}
	return 0
}

func insertRange(tx *sql.Tx, from, n int) error { return insertPadded(tx, from, n, childPad) }

func insertPadded(tx *sql.Tx, from, n int, pad string) error {
	for i := from; i < from+n; i++ {
		if _, err := tx.Exec(`INSERT INTO t (n, pad) VALUES (?, ?)`, i, pad); err != nil {
			return err
		}
	}
	return nil
}

type child struct {
	cmd   *exec.Cmd
	lines chan string // its output, closed at its end
	in    io.WriteCloser
}

func startChild(t *testing.T, mode, path string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "FIELDWORK_SQLITE_DB="+path)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 1024), in: in}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		for range c.lines {
		}
		cmd.Wait()
	})
	return c
}

// line is the child's next line of output; the test fails if it ends
// first or takes more than 30 s.
func (c *child) line(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			t.Fatalf("the child process ended: %v", c.cmd.Wait())
		}
		return l
	case <-time.After(30 * time.Second):
		t.Fatal("no line from the child process in 30 s")
	}
	return ""
}

// kill kills the child (SIGKILL: no deferred function, no Close, no last
// checkpoint) and returns the last row it acknowledged, reading what it
// printed before it died: those commits were acknowledged too.
func (c *child) kill(t *testing.T, acked int) int {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for l := range c.lines {
		if n, err := strconv.Atoi(l); err == nil {
			acked = n
		}
	}
	c.cmd.Wait()
	return acked
}

// openIntact opens the file as the next start would (a plain connection,
// which recovers the log a killed process left) and requires it to pass
// PRAGMA integrity_check.
func openIntact(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		db.Close()
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
	return db
}

// checkRows opens the file as the next start would (a plain connection,
// which recovers the log a killed process left) and requires it intact,
// with every row of [from, to] there; it returns the highest row.
func checkRows(t *testing.T, path string, from, to int) int {
	t.Helper()
	db := openIntact(t, path)
	defer db.Close()
	var n, top int
	if err := db.QueryRow(`SELECT count(*), coalesce(max(n), -1) FROM t WHERE n >= ? AND n <= ?`, from, to).Scan(&n, &top); err != nil {
		t.Fatal(err)
	}
	if n != to-from+1 {
		t.Fatalf("rows %d to %d were acknowledged; %d of them are in the file", from, to, n)
	}
	if err := db.QueryRow(`SELECT coalesce(max(n), -1) FROM t`).Scan(&top); err != nil {
		t.Fatal(err)
	}
	return top
}

// A process killed (SIGKILL) right after Write acknowledged a commit,
// while its checkpointer copies the commit before, or the writer its long
// log, leaves a file that is intact and holds every acknowledged commit.
// Six processes in turn on one file; the later ones pass the writer's own
// checkpoint limit before they are killed.
func TestCheckpoint_AcknowledgedCommitsSurviveKill9(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	next := 0
	for round := range 6 {
		ch := startChild(t, "write", path, "FIELDWORK_SQLITE_FROM="+strconv.Itoa(next))
		acked := -1
		for range 40 + round*120 {
			n, err := strconv.Atoi(ch.line(t))
			if err != nil {
				t.Fatal(err)
			}
			acked = n
		}
		acked = ch.kill(t, acked)
		top := checkRows(t, path, next, acked)
		t.Logf("round %d: rows %d to %d acknowledged, %d in the file", round, next, acked, top-next+1)
		next = top + 1
	}
}

// A second process opens the file and writes while the first writes and
// checkpoints; a third writes and closes (its last checkpoint) while both
// go on; then the first is killed. Everything any of them acknowledged is
// in the file, intact.
func TestCheckpoint_ProcessesShareAFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	first := startChild(t, "write", path)
	ackedFirst, _ := strconv.Atoi(first.line(t))
	third := startChild(t, "write", path, "FIELDWORK_SQLITE_FROM=20000000", "FIELDWORK_SQLITE_STOP=300")
	base := 10_000_000
	for cycle := range 3 {
		c, err := Open(ctx, path, testMigrations, "m")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			lo := base + (cycle*100+i)*childRows
			if err := c.Write(ctx, func(tx *sql.Tx) error { return insertRange(tx, lo, childRows) }); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var last string
	for l := range third.lines {
		last = l
	}
	if err := third.cmd.Wait(); err != nil || last != "closed" {
		t.Fatalf("the third process: %v, last said %q", err, last)
	}
	for range 50 {
		ackedFirst, _ = strconv.Atoi(first.line(t))
	}
	ackedFirst = first.kill(t, ackedFirst)
	checkRows(t, path, 0, ackedFirst)
	checkRows(t, path, base, base+300*childRows-1)
	checkRows(t, path, 20_000_000, 20_000_000+300*childRows-1)
}
