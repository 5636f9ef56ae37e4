package store_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// rawCount counts s in the bytes of the database file and its log.
func rawCount(t *testing.T, path, s string) int {
	t.Helper()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wal, err := os.ReadFile(path + "-wal")
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return bytes.Count(file, []byte(s)) + bytes.Count(wal, []byte(s))
}

// A purge and its vacuum while pushes go on without pause (every commit
// waking the checkpointer, which copies beside the writer) leave not a
// byte of the purged notes in the database file or its log, neither when
// the vacuum returns nor after more pushes; late edits to the purged
// inspection, hostile ones carrying its text, are refused and kept
// nowhere; every push to the other inspection is applied and kept.
func TestPurgeBesidePushesLeavesNoDeletedText(t *testing.T) {
	ctx := context.Background()
	db, path := mustOpenPath(t)
	gone, kept := mustInspection(t, db), mustInspection(t, db)
	inspA := framework.User{Name: "insp.a"}
	pad := strings.Repeat("n", 4000)
	for _, id := range []string{gone, kept} {
		mustCases(t, db, id)
		// 200 versions of one answer: their notes spread over many pages,
		// most of them freed in place by the next version.
		for i := range 200 {
			o := op(id, "T-1", "2.1.1", []string{"yes", "no"}[i%2], int64(i))
			o.Note, o.DeviceSeq = marks[id == gone]+" version "+pad, int64(i+1)
			if acks := mustApply(t, db, inspA, o); acks[0].Result != framework.OpApplied {
				t.Fatalf("version %d: %+v", i, acks[0])
			}
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var pushed int
	var locked atomic.Bool
	go func() {
		defer wg.Done()
		for i := 200; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			o := op(kept, "T-1", "2.1.1", []string{"yes", "no"}[i%2], int64(i))
			o.Note, o.DeviceID, o.DeviceSeq = marks[false]+" pushed beside "+pad, "dev-beside", int64(i+1)
			late := op(gone, "T-1", "2.1.1", "yes", 200)
			late.Note, late.DeviceID, late.DeviceSeq = marks[true]+" late "+pad, "dev-late", int64(i)
			wasLocked := locked.Load() // before the push: the lock may commit while it waits
			acks, err := db.ApplyOps(ctx, inspA, []framework.Op{o, late})
			if err != nil {
				t.Error(err)
				return
			}
			// The late one applies until the inspection is locked.
			if acks[0].Result != framework.OpApplied || acks[1].Result != framework.OpRejected && (wasLocked || acks[1].Result != framework.OpApplied) {
				t.Errorf("push %d: %+v, %+v; want the kept one applied, the late one refused once locked", i, acks[0], acks[1])
				return
			}
			pushed = i + 1 - 200
		}
	}()
	stopPushes := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopPushes) // before the database closes
	time.Sleep(200 * time.Millisecond)
	if _, err := db.SetInspectionStatus(ctx, adminUser(), "test", gone, framework.InspectionLocked, ""); err != nil {
		t.Fatal(err)
	}
	locked.Store(true)
	seq, err := db.Seq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Purge(ctx, admin, gone, []byte("frozen"), seq); err != nil {
		t.Fatal(err)
	}
	emptied, err := db.Vacuum(ctx)
	if err != nil || !emptied {
		t.Fatalf("vacuum beside pushes: emptied %v, %v", emptied, err)
	}
	if n := rawCount(t, path, marks[true]); n != 0 {
		t.Errorf("once the vacuum returned, the database file and its log hold the purged text %d times", n)
	}
	time.Sleep(500 * time.Millisecond)
	stopPushes()
	if n := rawCount(t, path, marks[true]); n != 0 {
		t.Errorf("after more pushes, the database file and its log hold the purged text %d times", n)
	}
	if n := rawCount(t, path, marks[false]); n == 0 {
		t.Errorf("the kept inspection's text is not in the file: the scan proves nothing")
	}
	var rev int64
	answers, err := db.Answers(ctx, kept, "T-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range answers {
		if a.CaseRef == "T-1" && a.QuestionID == "2.1.1" {
			rev = a.Revision
		}
	}
	if rev != int64(200+pushed) {
		t.Errorf("the kept answer is at revision %d after %d pushes beside the purge, want %d", rev, pushed, 200+pushed)
	}
	t.Logf("%d pushes beside the purge", pushed)
}
