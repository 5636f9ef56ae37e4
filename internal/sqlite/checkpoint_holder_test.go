package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// walLog returns the log as its file holds it: the header (its salts
// change when the log starts again) and the frames of the log up to its
// last commit. The file may go on past them with frames of an earlier
// log, which have the earlier salts.
func walLog(t *testing.T, path string) (head, frames []byte, size int64) {
	t.Helper()
	b, err := os.ReadFile(path + "-wal")
	if err != nil || len(b) < 32 {
		t.Fatalf("the log's file: %d bytes, %v", len(b), err)
	}
	step := 24 + int(binary.BigEndian.Uint32(b[8:12]))
	end := 32
	for off := 32; off+step <= len(b) && bytes.Equal(b[off+8:off+16], b[16:24]); off += step {
		if binary.BigEndian.Uint32(b[off+4:off+8]) != 0 { // a commit's last frame
			end = off + step
		}
	}
	return b[:32], b[32:end], int64(len(b))
}

// walHead is the log's header and its file's size, cheaply.
func walHead(t *testing.T, path string) ([]byte, int64) {
	t.Helper()
	f, err := os.Open(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 32)
	if _, err := io.ReadFull(f, head); err != nil {
		t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return head, st.Size()
}

// A process holding a read transaction, as Litestream does to copy the
// log, never has the log taken from under it. From the first commit on
// while it holds, through 40 MB of commits and the writer's own
// checkpoints, the log only grows: the same header (it never starts
// again), every frame still there as it was (none rewritten, none cut off
// by journal_size_limit); no page written after its snapshot reaches the
// database file (no checkpoint passes it); EmptyLog gives up rather than
// truncate. Once it lets go the log starts again and is cut back, which
// shows the checks see that. The holder may have begun on a log wholly
// copied (it then reads the database file alone) or not.
func TestCheckpoint_NeverTakesTheLogFromAHolder(t *testing.T) {
	const mark = "AFTERxTHExHOLD"
	pad := mark + strings.Repeat("h", 1000)
	for _, copied := range []bool{true, false} {
		t.Run("log copied "+strconv.FormatBool(copied), func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "c.db")
			c := openTestDB(t, path)
			if err := c.Write(ctx, func(tx *sql.Tx) error { return insertRange(tx, 0, childRows) }); err != nil {
				t.Fatal(err)
			}
			waitInFile(t, path, childRows)
			var ours *sql.Tx
			if !copied { // a read of ours keeps the next commit in the log while the holder begins
				var err error
				if ours, err = c.Reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err != nil {
					t.Fatal(err)
				}
				var n int
				if err := ours.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if err := c.Write(ctx, func(tx *sql.Tx) error { return insertRange(tx, childRows, childRows) }); err != nil {
					t.Fatal(err)
				}
			}
			holder := startChild(t, "hold", path)
			next, err := strconv.Atoi(holder.line(t))
			if err != nil {
				t.Fatal(err)
			}
			if ours != nil {
				ours.Rollback()
			}
			write := func() {
				t.Helper()
				if err := c.Write(ctx, func(tx *sql.Tx) error { return insertPadded(tx, next, childRows, pad) }); err != nil {
					t.Fatal(err)
				}
				next += childRows
			}
			// The first commit may start the log again: every frame before
			// it was copied into the file before the holder began.
			write()
			head, first, size := walLog(t, path)
			for range 800 {
				write()
				if h, s := walHead(t, path); !bytes.Equal(h, head) {
					t.Fatalf("at row %d, with the holder reading, the log started again", next)
				} else if s < size {
					t.Fatalf("at row %d, with the holder reading, the log's file was cut from %d to %d bytes", next, size, s)
				} else {
					size = s
				}
			}
			if size <= checkpointLimit {
				t.Fatalf("the log's file is %d bytes: the test did not pass the writer's limit", size)
			}
			if !copied { // EmptyLog waits for the holder up to the busy timeout (10 s), then gives up
				if emptied, err := c.EmptyLog(ctx); emptied || err != nil {
					t.Fatalf("EmptyLog with the holder reading: emptied %v, %v; want it to give up", emptied, err)
				}
			}
			time.Sleep(100 * time.Millisecond) // the goroutine's last checkpoint
			h, frames, _ := walLog(t, path)
			if !bytes.Equal(h, head) || len(frames) < len(first)+800*childRows*1000 || !bytes.Equal(frames[:len(first)], first) {
				t.Fatalf("with the holder reading, the log was taken: header kept %v, %d bytes of frames (%d at the first commit), those kept %v",
					bytes.Equal(h, head), len(frames), len(first), len(frames) >= len(first) && bytes.Equal(frames[:len(first)], first))
			}
			file, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if n := bytes.Count(file, []byte(mark)); n != 0 {
				t.Fatalf("with the holder reading, %d rows written after its snapshot are in the database file: a checkpoint passed it", n)
			}
			holder.in.Close()
			for range holder.lines {
			}
			if err := holder.cmd.Wait(); err != nil {
				t.Fatal(err)
			}
			for range 5 {
				write()
			}
			if h, s := walHead(t, path); bytes.Equal(h, head) || s > checkpointLimit+int64(childRows*2*4120) {
				t.Errorf("with the holder gone, five commits left the log not started again (%v) or its file at %d bytes", bytes.Equal(h, head), s)
			}
			waitInFile(t, path, next)
		})
	}
}
