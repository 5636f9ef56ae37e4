package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

// The day-to-day recording commands: cases, answer, answers, walk. Each
// takes the laptop's default inspection when --inspection is not given
// (use.go), and works offline.

const inspectionUsage = "inspection `id` (default: the one chosen with fieldwork use, or the only one on this laptop)"

func (a *app) cases(args []string) error {
	fs := newFlags("cases")
	insp := fs.String("inspection", "", inspectionUsage)
	if err := parse(fs, args); err != nil {
		return err
	}
	id, err := a.inspection(*insp, "cases")
	if err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	_, fw, err := l.InspectionFramework(a.ctx, id)
	if err != nil {
		return err
	}
	cs, err := l.Cases(a.ctx, id)
	if err != nil {
		return err
	}
	answers, err := l.Answers(a.ctx, id, "")
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
		status := string(c.Status)
		if q, _ := l.QueuedCaseStatus(a.ctx, id, c.Ref); q != "" {
			status += " (queued, not yet sent)"
		}
		termsafe.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", c.Ref, c.Inspector, status, done, need,
			c.Attributes["sentence_type"], c.Attributes["rosh"], c.Attributes["mappa"])
	}
	return tw.Flush()
}

func (a *app) answer(args []string) error {
	fs := newFlags("answer")
	insp := fs.String("inspection", "", inspectionUsage)
	caseRef := fs.String("case", "", "case `reference`")
	qid := fs.String("question", "", "question `id` (e.g. 2.1.3a), or with --with-prompts a key question or a standard")
	value := fs.String("value", "", "yes, no, na or a whole number")
	note := fs.String("note", "", "evidence note")
	prompts := fs.Bool("with-prompts", false, "--value na for a key question and every prompt of it that applies (or, for a standard, each of its questions): one answer each")
	second := fs.Bool("second", false, "an answer of the case's second marking (its QA marker; docs/qa.md)")
	if err := parse(fs, args, "case", "question", "value"); err != nil {
		return err
	}
	if *second && *prompts {
		return errors.New("answer: --second answers one question at a time (no --with-prompts)")
	}
	id, err := a.inspection(*insp, "answer")
	if err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	user := a.localUser()
	if *second {
		return a.answerSecond(l, client.Edit{InspectionID: id, CaseRef: *caseRef, QuestionID: *qid, Value: *value, Note: *note})
	}
	if *prompts {
		if v, err := framework.ParseValue(*value); err != nil || !v.NA {
			return errors.New("answer: --with-prompts records na only (give --value na): other answers are given one by one")
		}
		ops, err := l.RecordNotApplicable(a.ctx, user, id, *caseRef, *qid, *note)
		for _, op := range ops {
			termsafe.Fprintf(a.stdout, "saved %s %s = na\n", op.CaseRef, op.QuestionID)
		}
		if err != nil {
			return err
		}
		n, _ := l.PendingCount(a.ctx)
		termsafe.Fprintf(a.stdout, "%d answer(s) saved (%d unsynced)\n", len(ops), n)
		return nil
	}
	op, err := l.Record(a.ctx, user, client.Edit{InspectionID: id, CaseRef: *caseRef, QuestionID: *qid, Value: *value, Note: *note})
	if err != nil {
		return err
	}
	n, _ := l.PendingCount(a.ctx)
	termsafe.Fprintf(a.stdout, "saved %s %s = %s (%d unsynced)\n", op.CaseRef, op.QuestionID, op.Value, n)
	return nil
}

func (a *app) walk(args []string) error {
	fs := newFlags("walk")
	insp := fs.String("inspection", "", inspectionUsage)
	caseRef := fs.String("case", "", "case `reference`")
	second := fs.Bool("second", false, "walk the case's second marking (its QA marker)")
	if err := parse(fs, args, "case"); err != nil {
		return err
	}
	id, err := a.inspection(*insp, "walk")
	if err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	if *second {
		return client.WalkSecond(a.ctx, l, a.localUser(), id, *caseRef, a.stdin, a.stdout)
	}
	return client.Walk(a.ctx, l, a.localUser(), id, *caseRef, a.stdin, a.stdout)
}

func (a *app) answers(args []string) error {
	fs := newFlags("answers")
	insp := fs.String("inspection", "", inspectionUsage)
	caseRef := fs.String("case", "", "case `reference`")
	text := fs.Bool("text", false, "show each question's text, and list every applicable question, answered or not")
	missing := fs.Bool("missing", false, "list only the applicable questions still unanswered (ready for walk's g)")
	second := fs.Bool("second", false, "the case's second marking instead of its answers")
	if err := parse(fs, args, "case"); err != nil {
		return err
	}
	id, err := a.inspection(*insp, "answers")
	if err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	if *second {
		return a.answersSecond(l, id, *caseRef, *missing)
	}
	if *missing {
		ids, err := l.Missing(a.ctx, id, *caseRef)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			termsafe.Fprintf(a.stdout, "case %s: every applicable question is answered\n", *caseRef)
			return nil
		}
		a.printMissing(l, id, *caseRef)
		return nil
	}
	as, err := l.Answers(a.ctx, id, *caseRef)
	if err != nil {
		return err
	}
	noLonger, err := noLongerApplies(a.ctx, l, id, *caseRef)
	if err != nil {
		return err
	}
	_, fw, err := l.InspectionFramework(a.ctx, id)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	if *text {
		fmt.Fprintln(tw, "QUESTION\tKIND\tVALUE\tNOTE\tTEXT")
	} else {
		fmt.Fprintln(tw, "QUESTION\tVALUE\tREVISION\tBY\tNOTE")
	}
	stale := 0
	byID := map[string]framework.Answer{}
	for _, an := range as {
		if noLonger(an) {
			an.Value += " (no longer applies)"
			stale++
		}
		byID[an.QuestionID] = an
		if !*text {
			termsafe.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", an.QuestionID, an.Value, an.Revision, an.UpdatedBy, an.Note)
		}
	}
	if *text {
		// Every applicable question in framework order, unanswered ones
		// marked, then answers to questions no longer asked.
		ids, err := l.Missing(a.ctx, id, *caseRef)
		if err != nil {
			return err
		}
		unanswered := map[string]bool{}
		for _, q := range ids {
			unanswered[q] = true
		}
		for _, q := range fw.Questions() {
			an, ok := byID[q.ID]
			if !ok && !unanswered[q.ID] {
				continue // does not apply, or not asked yet
			}
			v := an.Value
			if !ok {
				v = "— unanswered (required)"
			}
			termsafe.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", q.ID, q.Kind, v, an.Note, q.Text)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if stale > 0 {
		fmt.Fprintf(a.stdout, "%d answer(s) no longer apply: the case changed after they were given, and they count in no figure.\n"+
			"Answer na to clear one (fieldwork answer --value na), or ask the lead to correct the case.\n", stale)
	}
	if *text {
		if ids, _ := l.Missing(a.ctx, id, *caseRef); len(ids) > 0 {
			fmt.Fprintf(a.stdout, "%d applicable question(s) unanswered (fieldwork answers --missing lists them)\n", len(ids))
		}
	}
	return nil
}
