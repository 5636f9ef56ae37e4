package main

import (
	"context"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

func (a *app) sync(args []string) error {
	fs := newFlags("sync")
	batch := fs.Int("batch", 500, "ops per pushed batch (1–5000)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *batch < 1 || *batch > 5000 {
		return fmt.Errorf("sync: --batch %d is outside 1–5000", *batch)
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	c.BatchSize = *batch
	tty := false
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = true
		c.Progress = func(p client.SyncProgress) {
			if p.Pages > 0 {
				fmt.Fprintf(a.stderr, "\rpulled %d page(s), %d change(s)        ", p.Pages, p.Changes)
			} else {
				fmt.Fprintf(a.stderr, "\rpushed %d/%d op(s), %d acknowledged   ", p.Sent, p.Pending, p.Acknowledged)
			}
		}
	}
	res, err := c.Sync(a.ctx)
	if tty {
		fmt.Fprintln(a.stderr)
	}
	if err != nil && a.ctx.Err() != nil {
		return a.syncInterrupted(c, res)
	}
	if err != nil {
		// explain rewords an unreachable server or a refused token (where
		// syncing again cannot help); any other failure may pass.
		return fmt.Errorf("sync: %w (unsynced answers are kept; run fieldwork sync again)", err)
	}
	fmt.Fprintf(a.stdout, "synced: %d applied, %d conflict(s), %d rejected; pulled %d change(s) to cursor %d\n",
		res.Applied, res.Conflicts, res.Rejected, res.Changes, res.Cursor)
	if res.Restored {
		fmt.Fprintf(a.stdout, "the server was restored from an earlier copy: %d of your edits it did not have are sent again\n"+
			"(this laptop pulled everything again; an edit someone else changed since shows as a conflict in fieldwork conflicts)\n", res.Resent)
	}
	if res.DeviceReused > 0 {
		fmt.Fprintf(a.stdout, "note: this laptop's store was restored from a backup or copied from another laptop (the server had seen its\n"+
			"sequence numbers from the other copy). %d edit(s) were applied or recorded as conflicts, none dropped; it now syncs as a new device.\n", res.DeviceReused)
	}
	if ns, err := c.Offline().PurgeNotices(a.ctx); err == nil {
		for _, n := range ns {
			termsafe.Fprintf(a.stdout, "inspection %s (%s) was purged on the server after publication: its cases, answers and notes were removed from this laptop", n.Name, n.InspectionID)
			if n.DroppedEdits > 0 {
				fmt.Fprintf(a.stdout, ", with %d edit(s) made here (unsynced or refused): it was published, so locked, and the server refuses every edit to it", n.DroppedEdits)
			}
			fmt.Fprintf(a.stdout, "; its frozen report stays on the server (fieldwork report --inspection %s)\n", n.InspectionID)
		}
	}
	if rs, _ := c.Offline().Rejections(a.ctx); len(rs) > 0 {
		a.printRefused(rs)
	}
	return nil
}

// printRefused lists refused edits with what their author needs to act.
func (a *app) printRefused(rs []client.Rejection) {
	fmt.Fprintf(a.stdout, "refused edits: %d (kept here until you record them again or dismiss them)\n", len(rs))
	for _, r := range rs {
		termsafe.Fprintf(a.stdout, "  %s %s = %s", r.CaseRef, r.QuestionID, r.Value)
		if r.Note != "" {
			termsafe.Fprintf(a.stdout, " (note: %s)", r.Note)
		}
		termsafe.Fprintf(a.stdout, "\n    refused by the server %s: %s\n    op %s, inspection %s\n",
			r.At.Local().Format("2006-01-02 15:04"), r.Reason, r.OpID, r.InspectionID)
	}
	fmt.Fprintln(a.stdout, "  record one again: fieldwork refused again --case REF --question Q")
	fmt.Fprintln(a.stdout, "  or dismiss it:    fieldwork refused dismiss --case REF --question Q")
}

// syncInterrupted is a sync stopped by Ctrl-C (or SIGTERM): each batch the
// server acknowledged is committed here before the next is sent, so it says
// what went and that the next sync carries on from there.
func (a *app) syncInterrupted(c *client.Client, res client.SyncResult) error {
	sent := res.Applied + res.Conflicts + res.Rejected
	left, err := c.Offline().PendingCount(context.WithoutCancel(a.ctx))
	if err != nil {
		return fmt.Errorf("sync interrupted: %d edit(s) sent and acknowledged; the rest are kept on this laptop (counting them: %w); run fieldwork sync to continue", sent, err)
	}
	return fmt.Errorf("sync interrupted: %d edit(s) sent and acknowledged (%d applied, %d conflict(s), %d rejected), %d kept on this laptop, unsent; "+
		"run fieldwork sync to continue where this one stopped", sent, res.Applied, res.Conflicts, res.Rejected, left)
}
