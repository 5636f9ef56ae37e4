package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/mattn/go-sqlite3"
)

// Checkpoints copy the write-ahead log's pages back into the database
// file. By default SQLite runs one on the committing connection whenever
// the log reaches 1000 pages, so the one writer, which every push waits
// on, spent about a quarter of its time copying pages (BENCHMARKS.md,
// "Checkpoints beside the writer"). Instead, after each commit a goroutine
// checkpoints on a connection of its own while the writer goes on: a PASSIVE
// checkpoint takes no lock that writers or readers wait on.
//
// SQLite starts the log again from its beginning only when a commit finds
// it wholly copied. Under steady writes the goroutine, copying what was
// committed while the writer commits more, may never get there, and the
// log would grow without end. So once the log is longer than
// checkpointLimit the writer checkpoints itself after its commit, before
// the next one can add to it, as SQLite's default did at 1000 pages; the
// next commit then starts the log again. A read open since before the log
// was copied still holds it back, as before.
//
// The writer knows the log's length from its file's size: with
// journal_size_limit set to the limit, the first commit of a log started
// again cuts the file back to the limit, so the file is longer than the
// limit only while the log is.

// checkpointLimit is the log's length in bytes past which the writer
// checkpoints after its commit: 4000 pages of 4 KiB.
const checkpointLimit = 4000 * 4096

// writerDriver is the driver the writer pool opens connections with: the
// SQLite driver with its own automatic checkpoints off and the log's
// file cut back to checkpointLimit on each new connection (a DSN cannot
// set either).
const writerDriver = "sqlite3-fieldwork-writer"

func init() {
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(`PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = `+strconv.Itoa(checkpointLimit), nil)
		return err
	}})
}

// checkpointer runs PASSIVE checkpoints, one at a time, in the background
// when woken or on the writer when the log is long.
//
// The goroutine has a connection of its own (db), not one of the reader
// pool's: taken from the pool it waited, holding mu, whenever every reader
// was busy (eight long pulls or exports), and the writer, which takes mu
// once the log is long, waited with it for a read to end
// (TestCheckpoint_WritesGoOnWithEveryReaderHeld).
type checkpointer struct {
	mu sync.Mutex // one checkpoint at a time: a second would find the lock taken and do nothing

	db     *sql.DB // the goroutine's one connection
	wakeCh chan struct{}
	stopCh chan struct{}
	done   chan struct{}
	once   sync.Once
}

func (k *checkpointer) start(db *sql.DB) {
	k.db = db
	k.wakeCh, k.stopCh, k.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(k.done)
		for {
			select {
			case <-k.stopCh:
				return
			case <-k.wakeCh:
			}
			k.run(db)
		}
	}()
}

// run checkpoints on one of db's connections. An error, or another
// process's checkpoint running, leaves the pages for the next one.
func (k *checkpointer) run(db *sql.DB) {
	k.mu.Lock()
	defer k.mu.Unlock()
	db.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
}

// committed follows a commit on writer to the database at path: the
// writer checkpoints now if the log is long, else the goroutine is woken
// (wakes while it runs make one more run).
func (k *checkpointer) committed(writer *sql.DB, path string) {
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > checkpointLimit {
		k.run(writer)
		return
	}
	select {
	case k.wakeCh <- struct{}{}:
	default:
	}
}

// stop ends the goroutine, waiting for a checkpoint under way, and closes
// its connection.
func (k *checkpointer) stop() error {
	k.once.Do(func() { close(k.stopCh) })
	<-k.done
	return k.db.Close()
}

// EmptyLog copies the whole write-ahead log into the database file and
// cuts the log's file to nothing (a TRUNCATE checkpoint), once the
// checkpoint under way, if any, has ended: run beside it, it would find
// the checkpoint lock taken and leave the log as it was. A purge's VACUUM
// calls it so that no page it freed keeps deleted text in the log. It
// reports whether the log was emptied: a read open since before it
// started keeps the log, up to the busy timeout.
func (c *Conn) EmptyLog(ctx context.Context) (bool, error) {
	c.checkpoints.mu.Lock()
	defer c.checkpoints.mu.Unlock()
	var busy, frames, copied int
	if err := c.Writer.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied); err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	return busy == 0, nil
}
