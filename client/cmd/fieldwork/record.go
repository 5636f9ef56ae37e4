package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

func (a *app) submit(args []string) error {
	fs := newFlags("submit")
	insp := fs.String("inspection", "", "inspection `id`")
	caseRef := fs.String("case", "", "case `reference`")
	if err := parse(fs, args, "inspection", "case"); err != nil {
		return err
	}
	return a.setCaseStatus(*insp, *caseRef, framework.CaseSubmitted, "")
}

func (a *app) caseStatus(args []string) error {
	fs := newFlags("case-status")
	insp := fs.String("inspection", "", "inspection `id`")
	caseRef := fs.String("case", "", "case `reference`")
	to := fs.String("status", "", "new `status`: in_progress, submitted, qa_checked or locked")
	reason := fs.String("reason", "", "why (required to move a case back; audited)")
	if err := parse(fs, args, "inspection", "case", "status"); err != nil {
		return err
	}
	return a.setCaseStatus(*insp, *caseRef, framework.CaseStatus(*to), *reason)
}

func (a *app) setCaseStatus(insp, caseRef string, to framework.CaseStatus, reason string) error {
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	ch, err := c.SetCaseStatus(a.ctx, insp, caseRef, to, reason)
	if err != nil {
		return err
	}
	if ch.Unrefreshed != nil {
		termsafe.Fprintf(a.stderr, "status changed; local store not refreshed: %v\n", ch.Unrefreshed)
	}
	termsafe.Fprintf(a.stdout, "case %s is %s\n", ch.Case.Ref, ch.Case.Status)
	return nil
}

func (a *app) cases(args []string) error {
	fs := newFlags("cases")
	insp := fs.String("inspection", "", "inspection `id`")
	if err := parse(fs, args, "inspection"); err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	_, fw, err := l.InspectionFramework(a.ctx, *insp)
	if err != nil {
		return err
	}
	cs, err := l.Cases(a.ctx, *insp)
	if err != nil {
		return err
	}
	answers, err := l.Answers(a.ctx, *insp, "")
	if err != nil {
		return err
	}
	answered := map[string]map[string]string{}
	for _, an := range answers {
		if answered[an.CaseRef] == nil {
			answered[an.CaseRef] = map[string]string{}
		}
		answered[an.CaseRef][an.QuestionID] = an.Value
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tINSPECTOR\tSTATUS\tANSWERED\tSENTENCE\tROSH\tMAPPA")
	for _, c := range cs {
		done, need := fw.Completeness(framework.CaseFacts(c.Attributes, answered[c.Ref]))
		termsafe.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", c.Ref, c.Inspector, c.Status, done, need,
			c.Attributes["sentence_type"], c.Attributes["rosh"], c.Attributes["mappa"])
	}
	return tw.Flush()
}

func (a *app) answer(args []string) error {
	fs := newFlags("answer")
	insp := fs.String("inspection", "", "inspection `id`")
	caseRef := fs.String("case", "", "case `reference`")
	qid := fs.String("question", "", "question `id` (e.g. 2.1.3a)")
	value := fs.String("value", "", "yes, no, na or a whole number")
	note := fs.String("note", "", "evidence note")
	if err := parse(fs, args, "inspection", "case", "question", "value"); err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	user := a.localUser()
	op, err := l.Record(a.ctx, user, client.Edit{InspectionID: *insp, CaseRef: *caseRef, QuestionID: *qid, Value: *value, Note: *note})
	if err != nil {
		return err
	}
	n, _ := l.PendingCount(a.ctx)
	termsafe.Fprintf(a.stdout, "saved %s %s = %s (%d unsynced)\n", op.CaseRef, op.QuestionID, op.Value, n)
	return nil
}

func (a *app) walk(args []string) error {
	fs := newFlags("walk")
	insp := fs.String("inspection", "", "inspection `id`")
	caseRef := fs.String("case", "", "case `reference`")
	if err := parse(fs, args, "inspection", "case"); err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	user := a.localUser()
	return client.Walk(a.ctx, l, user, *insp, *caseRef, a.stdin, a.stdout)
}

func (a *app) answers(args []string) error {
	fs := newFlags("answers")
	insp := fs.String("inspection", "", "inspection `id`")
	caseRef := fs.String("case", "", "case `reference`")
	if err := parse(fs, args, "inspection", "case"); err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	as, err := l.Answers(a.ctx, *insp, *caseRef)
	if err != nil {
		return err
	}
	noLonger, err := noLongerApplies(a.ctx, l, *insp, *caseRef)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "QUESTION\tVALUE\tREVISION\tBY\tNOTE")
	stale := 0
	for _, an := range as {
		if noLonger(an) {
			an.Value += " (no longer applies)"
			stale++
		}
		termsafe.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", an.QuestionID, an.Value, an.Revision, an.UpdatedBy, an.Note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if stale > 0 {
		fmt.Fprintf(a.stdout, "%d answer(s) no longer apply: the case changed after they were given, and they count in no figure.\n"+
			"Answer na to clear one (fieldwork answer --value na), or ask the lead to correct the case.\n", stale)
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
	switch *format {
	case "json":
		if rs == nil {
			rs = []client.Rejection{}
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
		}{creds.Server, creds.User, n, last, len(cs), rs, wc, wr})
	case "table":
	default:
		return fmt.Errorf("status: --format %q is not table or json", *format)
	}
	fmt.Fprintf(a.stdout, "server: %s as %s\nunsynced answers: %d\nlast sync: %s\nopen conflicts: %d\n",
		creds.Server, creds.User, n, last, len(cs))
	if wc > 0 || wr > 0 {
		fmt.Fprintf(a.stdout, "written judgements: %d open conflict(s), %d refused edit(s) (fieldwork written list --inspection ID)\n", wc, wr)
	}
	if len(rs) == 0 {
		fmt.Fprintln(a.stdout, "refused edits: 0")
		return nil
	}
	a.printRefused(rs)
	return nil
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
	cs, err := l.Conflicts(a.ctx, *insp, *all)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if cs == nil {
			cs = []framework.Conflict{}
		}
		return enc.Encode(cs)
	case "table":
	default:
		return fmt.Errorf("conflicts: unknown format %q (want table or json)", *format)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].CreatedAt.Before(cs[j].CreatedAt) })
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCASE\tQUESTION\tSERVER (rev)\tTHEIRS/YOURS\tBY\tWHEN\tSTATUS")
	for _, c := range cs {
		termsafe.Fprintf(tw, "%s\t%s\t%s\t%s (%d)\t%s\t%s@%s\t%s\t%s\n", c.ID, c.CaseRef, c.QuestionID, c.ServerValue, c.ServerRevision,
			c.ClientValue, c.ClientUser, shortID(c.ClientDevice), c.CreatedAt.Format("2006-01-02 15:04"), c.Status)
	}
	return tw.Flush()
}

func (a *app) resolve(args []string) error {
	fs := newFlags("resolve")
	id := fs.String("conflict", "", "conflict `id` (see fieldwork conflicts)")
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
	op, err := l.Resolve(a.ctx, a.localUser(), client.Resolution{ConflictID: *id, Choice: choice, Value: *value, Note: *note})
	if err != nil {
		return err
	}
	termsafe.Fprintf(a.stdout, "resolution queued: %s %s = %s (%s); run fieldwork sync to send it\n", op.CaseRef, op.QuestionID, op.Value, choice)
	return nil
}
