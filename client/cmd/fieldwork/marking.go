package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

// Second marking (docs/qa.md): qa select and qa list (online), the
// --second flag of answer, answers, walk and submit (offline), and
// moderate (online).

func (a *app) qaSelect(args []string) error {
	fs := newFlags("qa select")
	insp := fs.String("inspection", "", "inspection `id`")
	share := fs.Int("share", 0, "`percent` of each inspector's cases (at least one each)")
	seed := fs.String("seed", "", "the draw's `seed` (default: a new one, printed)")
	var refs multi
	fs.Var(&refs, "case", "a case `reference` (repeatable)")
	qa := fs.String("qa", "", "the second marker's user `name` (on the team as qa or lead)")
	if err := parse(fs, args, "inspection", "qa"); err != nil {
		return err
	}
	if (*share == 0) == (len(refs) == 0) {
		return errors.New("qa select: give --share PERCENT or --case REF (not both)")
	}
	if *share != 0 {
		if err := framework.CheckQAShare(*share); err != nil {
			return fmt.Errorf("qa select: --share: %w", err)
		}
	}
	var s uint64
	if *seed != "" {
		v, err := strconv.ParseUint(*seed, 10, 64)
		if err != nil {
			return fmt.Errorf("qa select: --seed %q is not a whole number", *seed)
		}
		s = v
	} else if *share != 0 {
		s = newSeed()
		termsafe.Fprintf(a.stdout, "seed %d (give --seed %d to draw the same cases again)\n", s, s)
	}
	return a.call(func(ctx context.Context, c *client.Client) error {
		sels, added, err := c.QASelect(ctx, *insp, *qa, refs, *share, s)
		if err != nil {
			return err
		}
		termsafe.Fprintf(a.stdout, "%d case(s) selected for second marking by %s (%d new):", len(sels), *qa, added)
		for _, sel := range sels {
			termsafe.Fprintf(a.stdout, " %s", sel.CaseRef)
		}
		fmt.Fprintln(a.stdout)
		return nil
	})
}

func (a *app) qaList(args []string) error {
	fs := newFlags("qa list")
	insp := fs.String("inspection", "", "inspection `id`")
	if err := parse(fs, args, "inspection"); err != nil {
		return err
	}
	return a.call(func(ctx context.Context, c *client.Client) error {
		sels, err := c.QASelections(ctx, *insp)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CASE\tQA\tSECOND MARKING\tANSWERED\tBOTH SUBMITTED\tSELECTED BY")
		for _, s := range sels {
			both := "no"
			if s.Lifted {
				both = "yes"
			}
			termsafe.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s %s\n", s.CaseRef, s.QA, s.Status, s.Answered, both, s.SelectedBy, s.SelectedAt.Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	})
}

// answerSecond is answer --second: one answer of the case's second marking.
func (a *app) answerSecond(l *client.Offline, e client.Edit) error {
	op, err := l.RecordMarking(a.ctx, a.localUser(), e)
	if err != nil {
		return err
	}
	n, _ := l.PendingCount(a.ctx)
	termsafe.Fprintf(a.stdout, "saved second marking %s %s = %s (%d unsynced)\n", op.CaseRef, op.QuestionID, op.Value, n)
	return nil
}

// answersSecond is answers --second: the case's second marking here.
func (a *app) answersSecond(l *client.Offline, insp, caseRef string, missing bool) error {
	if missing {
		ids, err := l.MarkingMissing(a.ctx, a.localUser(), insp, caseRef)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			termsafe.Fprintf(a.stdout, "case %s: every applicable question of the second marking is answered\n", caseRef)
			return nil
		}
		termsafe.Fprintf(a.stdout, "%d unanswered in the second marking of case %s: %s\n", len(ids), caseRef, strings.Join(ids, " "))
		return nil
	}
	as, err := l.MarkingAnswers(a.ctx, insp, caseRef)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "QUESTION\tVALUE\tREVISION\tBY\tNOTE")
	for _, an := range as {
		termsafe.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", an.QuestionID, an.Value, an.Revision, an.UpdatedBy, an.Note)
	}
	return tw.Flush()
}

// submitSecond is submit --second: the second marking's submission,
// checked here, queued, and sent at once when a server answers.
func (a *app) submitSecond(insp, caseRef string) error {
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	if _, err := l.SubmitMarking(a.ctx, a.localUser(), insp, caseRef); err != nil {
		return err
	}
	if _, err := client.LoadCredentials(a.home); err != nil {
		termsafe.Fprintf(a.stdout, "submission of the second marking of case %s queued on this laptop: it is sent on the next fieldwork sync\n", caseRef)
		return nil
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := a.rpcCtx()
	defer cancel()
	if _, err := c.Sync(ctx); err != nil {
		termsafe.Fprintf(a.stdout, "submission of the second marking of case %s queued on this laptop (%v); it is sent on the next fieldwork sync\n", caseRef, a.explain("submit", err))
		return nil
	}
	sels, err := l.Selections(a.ctx, insp)
	if err != nil {
		return err
	}
	for _, s := range sels {
		if s.CaseRef == caseRef {
			if s.Status != framework.MarkingSubmitted {
				return fmt.Errorf("submit: the second marking of case %s was not submitted (fieldwork status lists the server's reason)", caseRef)
			}
			termsafe.Fprintf(a.stdout, "second marking of case %s is submitted\n", caseRef)
		}
	}
	return nil
}

func (a *app) moderate(args []string) error {
	fs := newFlags("moderate")
	insp := fs.String("inspection", "", "inspection `id`")
	caseRef := fs.String("case", "", "case `reference`")
	qid := fs.String("question", "", "the question `id` to record the agreed answer of")
	take := fs.String("take", "", "first or second: the marking whose answer is agreed")
	value := fs.String("value", "", "a new agreed `value` instead")
	note := fs.String("note", "", "the moderation's note (default: the note of the marking taken)")
	if err := parse(fs, args, "inspection", "case"); err != nil {
		return err
	}
	if *qid == "" {
		if *take != "" || *value != "" || *note != "" {
			return errors.New("moderate: --take, --value and --note record a decision: give --question too")
		}
		return a.call(func(ctx context.Context, c *client.Client) error { return a.listDisagreements(ctx, c, *insp, *caseRef) })
	}
	how := *take
	switch {
	case *take != "" && *value != "":
		return errors.New("moderate: give --take first|second or --value V, not both")
	case *value != "":
		how = framework.TakeValue
	case *take != framework.TakeFirst && *take != framework.TakeSecond:
		return errors.New("moderate: give --take first, --take second or --value V")
	}
	return a.call(func(ctx context.Context, c *client.Client) error {
		d, err := c.Moderate(ctx, *insp, *caseRef, *qid, how, *value, *note)
		if err != nil {
			return err
		}
		termsafe.Fprintf(a.stdout, "case %s question %s: agreed %s (%s; first %s, second %s), now the case's answer at revision %d\n",
			*caseRef, *qid, d.Value, d.Take, orNone(d.First), orNone(d.Second), d.Revision)
		if _, err := c.Sync(ctx); err != nil {
			termsafe.Fprintf(a.stdout, "this laptop shows it after the next fieldwork sync\n")
		}
		return nil
	})
}

func (a *app) listDisagreements(ctx context.Context, c *client.Client, insp, caseRef string) error {
	open, decided, err := c.Disagreements(ctx, insp, caseRef)
	if err != nil {
		return err
	}
	if len(open) == 0 {
		termsafe.Fprintf(a.stdout, "case %s is agreed: no disagreement left to moderate (%d decided)\n", caseRef, len(decided))
		return nil
	}
	termsafe.Fprintf(a.stdout, "case %s: %d disagreement(s) to moderate\n", caseRef, len(open))
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "QUESTION\tFIRST\tBY\tWHEN\tNOTE\tSECOND\tBY\tWHEN\tNOTE")
	side := func(x *framework.Answer) []any {
		if x == nil {
			return []any{"—", "", "", ""}
		}
		return []any{x.Value, x.UpdatedBy, x.UpdatedAt.Format("2006-01-02 15:04"), x.Note}
	}
	for _, d := range open {
		args := append(append([]any{d.QuestionID}, side(d.First)...), side(d.Second)...)
		termsafe.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", args...)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	termsafe.Fprintf(a.stdout, "record each: fieldwork moderate --inspection %s --case %s --question Q --take first|second | --value V [--note N]\n", insp, caseRef)
	return nil
}

func orNone(v string) string {
	if v == "" {
		return "none"
	}
	return v
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// newSeed is a fresh random seed for a draw.
func newSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}
