package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

func (a *app) submit(args []string) error {
	fs := newFlags("submit")
	insp := fs.String("inspection", "", "inspection `id` (default: fieldwork use, or the only one)")
	caseRef := fs.String("case", "", "case `reference`")
	second := fs.Bool("second", false, "submit the case's second marking (its QA marker), not the case")
	if err := parse(fs, args, "case"); err != nil {
		return err
	}
	id, err := a.inspection(*insp, "submit")
	if err != nil {
		return err
	}
	if *second {
		return a.submitSecond(id, *caseRef)
	}
	return a.queueSubmit(id, *caseRef)
}

// queueSubmit submits a case the one way, offline or online: checked on
// this laptop (every unanswered question listed, ready for walk's g),
// queued as a status op, and sent at once when a server answers.
func (a *app) queueSubmit(insp, caseRef string) error {
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	c := client.New(nil, l)
	if _, err := client.LoadCredentials(a.home); err == nil {
		online, done, err := a.online()
		if err != nil {
			return err
		}
		defer done()
		c = online
	}
	ctx, cancel := a.rpcCtx()
	defer cancel()
	q, err := c.QueueCaseStatus(ctx, a.localUser(), insp, caseRef, framework.CaseSubmitted, "")
	if err != nil {
		if framework.ErrorCode(err) == framework.CodePrecondition {
			a.printMissing(l, insp, caseRef)
		}
		return err
	}
	switch {
	case q.Refused != nil:
		termsafe.Fprintf(a.stdout, "the server refused the submission of case %s: %s\n", caseRef, q.Refused.Reason)
		termsafe.Fprintf(a.stdout, "it is kept on this laptop (fieldwork status lists it); once fixed: fieldwork refused again --op %s\n", q.Refused.OpID)
		return fmt.Errorf("submit: case %s was not submitted", caseRef)
	case q.Unsent != nil:
		why, next := "no server is configured (fieldwork login)", "the next fieldwork sync"
		switch {
		case errors.Is(q.Unsent, client.ErrOffline):
		case rpcerr.Unreachable(q.Unsent) || rpcerr.Unauthenticated(q.Unsent):
			// The words every command uses (explain): where, what is kept,
			// and what to do; a refused token is not cured by a sync.
			why = strings.TrimPrefix(a.explain("submit", q.Unsent).Error(), "submit: ")
			if rpcerr.Unauthenticated(q.Unsent) {
				next = "the first fieldwork sync after you log in again"
			}
		case framework.ErrorCode(q.Unsent) != "":
			why = "the sync failed: " + q.Unsent.Error()
		default:
			why = "the server could not be reached"
		}
		termsafe.Fprintf(a.stdout, "submission of case %s queued on this laptop: %s.\nIt is sent on %s;\n"+
			"the case reads as submitted here meanwhile, and a refusal then is kept for you (fieldwork status).\n", caseRef, why, next)
		return nil
	}
	termsafe.Fprintf(a.stdout, "case %s is %s\n", q.Case.Ref, q.Case.Status)
	return nil
}

// printMissing lists a case's unanswered applicable questions, each as
// walk's jump command, complete (judged on this laptop).
func (a *app) printMissing(l *client.Offline, insp, caseRef string) {
	_, fw, err := l.InspectionFramework(a.ctx, insp)
	if err != nil {
		return
	}
	missing, err := l.Missing(a.ctx, insp, caseRef)
	if err != nil || len(missing) == 0 {
		return
	}
	termsafe.Fprintf(a.stdout, "%d unanswered (in fieldwork walk --case %s, type the g line to go to one):\n", len(missing), caseRef)
	for _, id := range missing {
		text := ""
		if q, ok := fw.Question(id); ok {
			text = q.Text
		}
		termsafe.Fprintf(a.stdout, "  g %-10s %s\n", id, text)
	}
}

func (a *app) caseStatus(args []string) error {
	fs := newFlags("case-status")
	insp := fs.String("inspection", "", "inspection `id` (default: fieldwork use, or the only one)")
	caseRef := fs.String("case", "", "case `reference`")
	to := fs.String("status", "", "new `status`: in_progress, submitted, qa_checked or locked")
	reason := fs.String("reason", "", "why (required to move a case back; audited)")
	if err := parse(fs, args, "case", "status"); err != nil {
		return err
	}
	id, err := a.inspection(*insp, "case-status")
	if err != nil {
		return err
	}
	return a.setCaseStatus(id, *caseRef, framework.CaseStatus(*to), *reason)
}

func (a *app) setCaseStatus(insp, caseRef string, to framework.CaseStatus, reason string) error {
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	ch, err := c.SetCaseStatus(a.ctx, insp, caseRef, to, reason)
	if err != nil {
		if to == framework.CaseSubmitted && framework.ErrorCode(err) == framework.CodePrecondition {
			a.printMissing(c.Offline(), insp, caseRef)
		}
		return err
	}
	termsafe.Fprintf(a.stdout, "case %s is %s\n", ch.Case.Ref, ch.Case.Status)
	if ch.Unrefreshed != nil {
		a.staleNote(ch.Unrefreshed)
	}
	return nil
}

// noLongerApplies returns the test of whether an answer of a case on this
// device no longer applies to it (framework.Counts), judged offline from
// the case's attributes, its answers and the framework held locally.
func noLongerApplies(ctx context.Context, l *client.Offline, inspectionID, caseRef string) (func(framework.Answer) bool, error) {
	_, fw, err := l.InspectionFramework(ctx, inspectionID)
	if err != nil {
		return nil, err
	}
	cs, err := l.Cases(ctx, inspectionID)
	if err != nil {
		return nil, err
	}
	answers, err := l.Answers(ctx, inspectionID, caseRef)
	if err != nil {
		return nil, err
	}
	values := map[string]string{}
	for _, an := range answers {
		values[an.QuestionID] = an.Value
	}
	for _, c := range cs {
		if c.Ref == caseRef {
			facts := framework.CaseFacts(c.Attributes, values)
			return func(an framework.Answer) bool { return fw.NoLongerApplies(facts, an.QuestionID, an.Value) }, nil
		}
	}
	return func(framework.Answer) bool { return false }, nil
}

// refused records a refused edit again or dismisses it.
func (a *app) refused(args []string) error {
	if len(args) == 0 || (args[0] != "again" && args[0] != "dismiss") {
		return errors.New("refused: say again or dismiss (fieldwork refused again|dismiss --case REF --question Q)")
	}
	verb := args[0]
	fs := newFlags("refused " + verb)
	insp := fs.String("inspection", "", "inspection `id` (when a case ref is in several)")
	ref := fs.String("case", "", "case `ref`")
	q := fs.String("question", "", "question `id`")
	op := fs.String("op", "", "the refused op's `id` (or its first 8 or more characters)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	sel := client.RefusalSelector{OpID: *op, InspectionID: *insp, CaseRef: *ref, QuestionID: *q}
	if verb == "again" {
		o, err := l.RecordAgain(a.ctx, a.localUser(), sel)
		if err != nil {
			return fmt.Errorf("refused again: %w", err)
		}
		n, _ := l.PendingCount(a.ctx)
		termsafe.Fprintf(a.stdout, "recorded again: %s %s = %s (%d unsynced)\n", o.CaseRef, o.QuestionID, o.Value, n)
		return nil
	}
	rs, err := l.Dismiss(a.ctx, sel)
	if err != nil {
		return fmt.Errorf("refused dismiss: %w", err)
	}
	for _, r := range rs {
		termsafe.Fprintf(a.stdout, "dismissed: %s %s = %s (the server's audit trail records it at the next sync)\n", r.CaseRef, r.QuestionID, r.Value)
	}
	return nil
}

func (a *app) status(args []string) error {
	fs := newFlags("status")
	format := fs.String("format", "table", "table or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	creds, _ := client.LoadCredentials(a.home)
	n, err := l.PendingCount(a.ctx)
	if err != nil {
		return err
	}
	last, _ := l.LastSync(a.ctx)
	if last == "" {
		last = "never"
	}
	cs, err := l.Conflicts(a.ctx, "", false)
	if err != nil {
		return err
	}
	rs, err := l.Rejections(a.ctx)
	if err != nil {
		return err
	}
	wc, wr, err := l.WrittenOpenCounts(a.ctx)
	if err != nil {
		return err
	}
	mc, err := l.MarkingConflicts(a.ctx, "", false)
	if err != nil {
		return err
	}
	mr, err := l.MarkingRefusals(a.ctx)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		if rs == nil {
			rs = []client.Rejection{}
		}
		if mr == nil {
			mr = []client.MarkingRefusal{}
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Server        string             `json:"server"`
			User          string             `json:"user"`
			Unsynced      int                `json:"unsynced"`
			LastSync      string             `json:"last_sync"`
			OpenConflicts int                `json:"open_conflicts"`
			Refused       []client.Rejection `json:"refused"`
			// Written judgements: see `fieldwork written list`.
			WrittenConflicts int `json:"open_written_conflicts"`
			WrittenRefused   int `json:"refused_written_edits"`
			// Second markings: in fieldwork conflicts, marked "second marking".
			MarkingConflicts int                     `json:"open_second_marking_conflicts"`
			MarkingRefused   []client.MarkingRefusal `json:"refused_second_marking_edits"`
		}{creds.Server, creds.User, n, last, len(cs), rs, wc, wr, len(mc), mr})
	case "table":
	default:
		return fmt.Errorf("status: --format %q is not table or json", *format)
	}
	fmt.Fprintf(a.stdout, "server: %s as %s\nunsynced answers: %d\nlast sync: %s\nopen conflicts: %d\n",
		creds.Server, creds.User, n, last, len(cs))
	if wc > 0 || wr > 0 {
		fmt.Fprintf(a.stdout, "written judgements: %d open conflict(s), %d refused edit(s) (fieldwork written list --inspection ID)\n", wc, wr)
	}
	if len(mc) > 0 {
		fmt.Fprintf(a.stdout, "second-marking conflicts: %d open (fieldwork conflicts lists them; fieldwork resolve --conflict REF --mine|--theirs|--value V)\n", len(mc))
	}
	if len(mr) > 0 {
		a.printMarkingRefused(mr)
	}
	if len(rs) == 0 {
		fmt.Fprintln(a.stdout, "refused edits: 0")
		return nil
	}
	a.printRefused(rs)
	return nil
}

// printMarkingRefused lists refused second-marking edits and submissions
// with what the marker does next: recording the answer (or submitting)
// again settles them.
func (a *app) printMarkingRefused(rs []client.MarkingRefusal) {
	fmt.Fprintf(a.stdout, "refused second-marking edits: %d (kept here until you record the answer, or submit, again)\n", len(rs))
	for _, r := range rs {
		if r.QuestionID == "" {
			termsafe.Fprintf(a.stdout, "  %s: the submission of the second marking", r.CaseRef)
		} else {
			termsafe.Fprintf(a.stdout, "  %s %s = %s", r.CaseRef, r.QuestionID, r.Value)
			if r.Note != "" {
				termsafe.Fprintf(a.stdout, " (note: %s)", r.Note)
			}
		}
		termsafe.Fprintf(a.stdout, "\n    refused by the server %s: %s\n    op %s, inspection %s\n",
			r.At.Local().Format("2006-01-02 15:04"), r.Reason, r.OpID, r.InspectionID)
	}
	fmt.Fprintln(a.stdout, "  record one again: fieldwork answer --second --case REF --question Q --value V")
	fmt.Fprintln(a.stdout, "  or submit again:  fieldwork submit --second --case REF")
}

func (a *app) conflicts(args []string) error {
	fs := newFlags("conflicts")
	insp := fs.String("inspection", "", "only this inspection `id`")
	format := fs.String("format", "table", "table or json")
	all := fs.Bool("all", false, "include resolved conflicts")
	if err := parse(fs, args); err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	// Answers' and second markings' conflicts together: their short
	// references are unique across both.
	cs, err := l.AllConflicts(a.ctx, *insp, *all)
	if err != nil {
		return err
	}
	refs, err := l.ConflictRefs(a.ctx)
	if err != nil {
		return err
	}
	ms, err := l.MarkingConflicts(a.ctx, *insp, true)
	if err != nil {
		return err
	}
	second := map[string]bool{}
	for _, c := range ms {
		second[c.ID] = true
	}
	switch *format {
	case "json":
		type withRef struct {
			Ref string // the short reference fieldwork resolve takes ("" once resolved)
			// SecondMarking: a conflict on the case's second marking (both
			// values are the QA marker's), not on its answers.
			SecondMarking bool
			framework.Conflict
		}
		out := []withRef{}
		for _, c := range cs {
			out = append(out, withRef{refs[c.ID], second[c.ID], c})
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "table":
	default:
		return fmt.Errorf("conflicts: unknown format %q (want table or json)", *format)
	}
	if len(cs) == 0 {
		fmt.Fprintln(a.stdout, "no open conflicts on this laptop (as of its last sync)")
		return nil
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].CreatedAt.Before(cs[j].CreatedAt) })
	for _, c := range cs {
		a.printConflict(c, refs[c.ID], second[c.ID])
	}
	if len(refs) > 0 {
		fmt.Fprintln(a.stdout, "resolve one: fieldwork resolve --conflict REF --theirs | --mine | --value V [--note TEXT]")
	}
	return nil
}

// printConflict shows one conflict whole: both values, both evidence
// notes, both authors with their device and time, so the one resolving it
// weighs both sides here. Every value goes through termsafe (a note may
// hold terminal escapes or line breaks).
//
// A conflict on a second marking (second) says so: both its values are
// second-marking values, between the QA marker's own devices.
func (a *app) printConflict(c framework.Conflict, ref string, second bool) {
	w := a.stdout
	if ref == "" {
		ref = c.ID
	}
	kind := ""
	if second {
		kind = "second marking, "
	}
	termsafe.Fprintf(w, "conflict %s: %scase %s, question %s (%s)\n", ref, kind, c.CaseRef, c.QuestionID, c.Status)
	author := "author not known on this laptop"
	if c.ServerUser != "" {
		author = fmt.Sprintf("by %s on device %s, %s", c.ServerUser, shortID(c.ServerDevice), when(c.ServerAt))
	}
	termsafe.Fprintf(w, "  kept by the server (--theirs), revision %d: %s\n    note: %s\n    %s\n",
		c.ServerRevision, c.ServerValue, noteOrNone(c.ServerNote), author)
	termsafe.Fprintf(w, "  the edit it refused (--mine), made on revision %d: %s\n    note: %s\n    by %s on device %s, reached the server %s\n",
		c.BaseRevision, c.ClientValue, noteOrNone(c.ClientNote), c.ClientUser, shortID(c.ClientDevice), when(c.CreatedAt))
	if c.Status != "open" {
		termsafe.Fprintf(w, "  resolved by %s: %s\n", c.ResolvedBy, c.Resolution)
	}
}

func noteOrNone(n string) string {
	if n == "" {
		return "(none)"
	}
	return n
}

func when(t time.Time) string {
	if t.IsZero() {
		return "time not known"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func (a *app) resolve(args []string) error {
	fs := newFlags("resolve")
	id := fs.String("conflict", "", "conflict `ref`: the short reference fieldwork conflicts shows, or the whole id")
	mine := fs.Bool("mine", false, "keep the edit the server refused")
	theirs := fs.Bool("theirs", false, "keep the value the server kept")
	value := fs.String("value", "", "set a new `value` instead")
	note := fs.String("note", "", "note for a new value")
	if err := parse(fs, args, "conflict"); err != nil {
		return err
	}
	var choice framework.Resolution
	n := 0
	if *mine {
		choice, n = framework.ResolveMine, n+1
	}
	if *theirs {
		choice, n = framework.ResolveTheirs, n+1
	}
	if *value != "" {
		choice, n = framework.ResolveValue, n+1
	}
	if n != 1 {
		return errors.New("resolve: give exactly one of --mine, --theirs, --value")
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	c, err := l.FindConflict(a.ctx, *id)
	if err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	op, err := l.Resolve(a.ctx, a.localUser(), client.Resolution{ConflictID: c.ID, Choice: choice, Value: *value, Note: *note})
	if err != nil {
		return err
	}
	kind := ""
	if op.Marking != nil {
		kind = "second marking "
	}
	termsafe.Fprintf(a.stdout, "resolution queued: %s%s %s = %s (%s); run fieldwork sync to send it\n", kind, op.CaseRef, op.QuestionID, op.Value, choice)
	return nil
}
