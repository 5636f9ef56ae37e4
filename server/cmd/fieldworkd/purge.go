package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// purge removes a published inspection's case-level personal data from the
// database file (docs/retention.md). It is a command on the file, like
// recount --fix, rather than an RPC: whoever may run it holds the file
// itself, which is more than any token gives, and it needs no token kept
// for it. It may run while the server serves (SQLite serialises the
// writers; the purge is one transaction). Audited as the operating-system
// user on this host.
func purge(ctx context.Context, o *options, _ []string, stdout io.Writer) error {
	if o.inspection == "" {
		return errors.New("purge: --inspection ID is required")
	}
	srv, err := open(ctx, o)
	if err != nil {
		return err
	}
	defer srv.Close()
	res, err := srv.Purge(ctx, operator(), o.inspection)
	if err != nil {
		return fmt.Errorf("purge: %w", err)
	}
	if res.Again {
		fmt.Fprintf(stdout, "inspection %s was purged before: nothing left to remove; the database file was vacuumed again\n", o.inspection)
	} else {
		r := res.Removed
		fmt.Fprintf(stdout, "inspection %s purged: removed %d case(s), %d answer(s) with %d version(s) in their history, %d conflict(s), %d op record(s), %d judgement(s), %d written item(s) (%d version(s), %d conflict(s)), %d sample record(s), %d second-marking row(s), %d kept count(s), %d pull change(s); %d audit row(s) redacted (who and when kept, not what)\n",
			o.inspection, r.Cases, r.Answers, r.AnswerVersions, r.Conflicts, r.OpRecords, r.Judgements, r.WrittenItems, r.WrittenVersions, r.WrittenConflicts, r.Samples, r.Markings, r.Counts, r.Changes, r.AuditRedacted)
		fmt.Fprintf(stdout, "its report is kept frozen (fieldwork report --inspection %s); devices drop the inspection on their next sync\n", o.inspection)
	}
	if !res.WALEmptied {
		fmt.Fprintln(stdout, "note: a reader kept the write-ahead log open, so it still holds old pages until the server's next checkpoint; stop fieldworkd and run this purge again to empty it now")
	} else {
		fmt.Fprintln(stdout, "the database file was vacuumed and its write-ahead log emptied: no deleted text is left in them (backups and copies made before keep theirs)")
	}
	return nil
}

// operator is who a command on the database file is audited as: the
// operating-system user, on this host.
func operator() framework.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return framework.Actor{User: "operator:" + name, Device: "fieldworkd@" + host, Admin: true}
}
