package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

// The lead's written judgements, recorded offline and sent on sync:
// judge --summary, finding, recommend, and written list|edit|withdraw|
// resolve|dismiss.

// recordWritten queues one written item and says what was queued.
func (a *app) recordWritten(insp string, w framework.WrittenOp) error {
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	op, err := l.RecordWritten(a.ctx, a.localUser(), insp, w)
	if err != nil {
		return err
	}
	what := string(op.Written.Kind)
	if op.Written.StandardID != "" {
		what += " of " + op.Written.StandardID
	}
	if op.Written.Withdrawn {
		what += " withdrawn"
	}
	termsafe.Fprintf(a.stdout, "%s recorded (item %s, revision base %d): sent on the next fieldwork sync\n", what, shortID(op.Written.ItemID), op.BaseRevision)
	return nil
}

// judgeSummary is judge --summary: the summary judgement (for an unrated
// programme the Chief Inspector's judgement).
func (a *app) judgeSummary(insp, text string) error {
	return a.recordWritten(insp, framework.WrittenOp{Kind: framework.WrittenSummary, Text: text})
}

func (a *app) finding(args []string) error {
	fs := newFlags("finding")
	insp := fs.String("inspection", "", "inspection `id`")
	std := fs.String("standard", "", "the standard (or stage) `id` the finding is about")
	strength := fs.String("strength", "", "a strength: its `text`")
	improvement := fs.String("improvement", "", "an area for improvement: its `text`")
	if err := parse(fs, args, "inspection", "standard"); err != nil {
		return err
	}
	set := flagsSet(fs)
	switch {
	case set["strength"] == set["improvement"]:
		return errors.New("finding: give one of --strength TEXT or --improvement TEXT")
	case set["strength"]:
		return a.recordWritten(*insp, framework.WrittenOp{Kind: framework.WrittenStrength, StandardID: *std, Text: *strength})
	}
	return a.recordWritten(*insp, framework.WrittenOp{Kind: framework.WrittenImprovement, StandardID: *std, Text: *improvement})
}

// recommend takes its text as the one argument (or --text).
func (a *app) recommend(args []string) error {
	fs := newFlags("recommend")
	insp := fs.String("inspection", "", "inspection `id`")
	text := fs.String("text", "", "the recommendation's `text` (or give it as the argument)")
	// Flags may come before or after the text.
	var pos []string
	for err := fs.Parse(args); ; err = fs.Parse(fs.Args()[1:]) {
		if err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
	}
	set := flagsSet(fs)
	switch {
	case len(pos) > 1:
		return fmt.Errorf("fieldwork recommend: unexpected argument %q (quote the recommendation)", pos[1])
	case !set["inspection"]:
		return errors.New("fieldwork recommend: --inspection is required")
	case len(pos) == 1 && set["text"]:
		return errors.New("fieldwork recommend: give the text once, as --text or as the argument")
	case len(pos) == 1:
		*text = pos[0]
	case !set["text"]:
		return errors.New("fieldwork recommend: give the recommendation's text")
	}
	return a.recordWritten(*insp, framework.WrittenOp{Kind: framework.WrittenRecommendation, Text: *text})
}

func flagsSet(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

func (a *app) writtenList(args []string) error {
	fs := newFlags("written list")
	insp := fs.String("inspection", "", "inspection `id`")
	format := fs.String("format", "table", "table or json")
	if err := parse(fs, args, "inspection"); err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	v, err := l.Written(a.ctx, *insp)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		type item struct {
			ID         string `json:"id"`
			Kind       string `json:"kind"`
			StandardID string `json:"standard_id,omitempty"`
			Number     int    `json:"number,omitempty"`
			Text       string `json:"text"`
			Revision   int64  `json:"revision"`
			Pending    bool   `json:"pending"`
		}
		type conflict struct {
			ID         string `json:"id"`
			ItemID     string `json:"item_id"`
			ServerText string `json:"server_text"`
			ClientText string `json:"client_text"`
		}
		type refused struct {
			OpID   string `json:"op_id"`
			ItemID string `json:"item_id"`
			Kind   string `json:"kind"`
			Text   string `json:"text"`
			Reason string `json:"reason"`
		}
		out := struct {
			Items     []item     `json:"items"`
			Conflicts []conflict `json:"conflicts"`
			Refused   []refused  `json:"refused"`
		}{Items: []item{}, Conflicts: []conflict{}, Refused: []refused{}}
		for _, it := range v.Items {
			out.Items = append(out.Items, item{it.ID, string(it.Kind), it.StandardID, it.Number, it.Text, it.Revision, v.Pending[it.ID]})
		}
		for _, c := range v.Conflicts {
			out.Conflicts = append(out.Conflicts, conflict{c.ID, c.ItemID, c.ServerText, c.ClientText})
		}
		for _, r := range v.Refused {
			out.Refused = append(out.Refused, refused{r.OpID, r.Op.ItemID, string(r.Op.Kind), r.Op.Text, r.Reason})
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "table":
	default:
		return fmt.Errorf("written list: --format must be table or json, not %q", *format)
	}
	if len(v.Items) == 0 {
		fmt.Fprintln(a.stdout, "No written judgements on this laptop.")
	}
	for _, it := range v.Items {
		mark := ""
		if v.Pending[it.ID] {
			mark = "  [not yet synced]"
		}
		head := framework.WrittenTitle(it.Kind, v.Rated)
		switch it.Kind {
		case framework.WrittenRecommendation:
			head = fmt.Sprintf("Recommendation %d", it.Number)
		case framework.WrittenStrength, framework.WrittenImprovement:
			head = it.StandardID + " " + head
		}
		termsafe.Fprintf(a.stdout, "%s (item %s)%s\n  %s\n", head, shortID(it.ID), mark, it.Text)
	}
	for _, c := range v.Conflicts {
		termsafe.Fprintf(a.stdout, "CONFLICT %s on %s %s: the server kept\n  %s\n  this laptop's text, kept here:\n  %s\n  resolve: fieldwork written resolve --conflict %s --mine|--theirs\n",
			c.ID, c.Kind, shortID(c.ItemID), c.ServerText, c.ClientText, c.ID)
	}
	for _, r := range v.Refused {
		termsafe.Fprintf(a.stdout, "REFUSED %s (op %s): %s\n  %s\n", r.Op.Kind, shortID(r.OpID), r.Reason, r.Op.Text)
	}
	return nil
}

// writtenChange is written edit and written withdraw: a new revision of
// one item on top of the one this laptop last saw.
func (a *app) writtenChange(name string, withdraw bool, args []string) error {
	fs := newFlags("written " + name)
	insp := fs.String("inspection", "", "inspection `id`")
	sel := fs.String("item", "", "the item: summary, a recommendation's `number`, or an item id (8+ characters)")
	text := fs.String("text", "", "the new `text`")
	required := []string{"inspection", "item"}
	if !withdraw {
		required = append(required, "text")
	}
	if err := parse(fs, args, required...); err != nil {
		return err
	}
	if withdraw && *text != "" {
		return errors.New("written withdraw: takes no --text (the item's text is kept in its history)")
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	v, err := l.Written(a.ctx, *insp)
	if err != nil {
		return err
	}
	it, err := v.Find(strings.TrimSpace(*sel))
	if err != nil {
		return err
	}
	w := framework.WrittenOp{ItemID: it.ID, Kind: it.Kind, StandardID: it.StandardID, Text: it.Text, Withdrawn: withdraw}
	if !withdraw {
		w.Text = *text
	}
	// Numbers follow the server's order, which a sync can shift: say which
	// item this is, in its own words, so a shifted number is seen at once.
	termsafe.Fprintf(a.stdout, "%s %s (item %s) was: %s\n", it.Kind, *sel, shortID(it.ID), excerpt(it.Text, 80))
	return a.recordWritten(*insp, w)
}

func (a *app) writtenEdit(args []string) error     { return a.writtenChange("edit", false, args) }
func (a *app) writtenWithdraw(args []string) error { return a.writtenChange("withdraw", true, args) }

func (a *app) writtenResolve(args []string) error {
	fs := newFlags("written resolve")
	id := fs.String("conflict", "", "written conflict `id`")
	mine := fs.Bool("mine", false, "keep this laptop's text")
	theirs := fs.Bool("theirs", false, "keep the server's text")
	if err := parse(fs, args, "conflict"); err != nil {
		return err
	}
	if *mine == *theirs {
		return errors.New("written resolve: give one of --mine or --theirs")
	}
	choice := framework.ResolveMine
	if *theirs {
		choice = framework.ResolveTheirs
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	if _, err := l.ResolveWritten(a.ctx, a.localUser(), *id, choice); err != nil {
		return err
	}
	termsafe.Fprintf(a.stdout, "conflict %s: %s queued, sent on the next fieldwork sync\n", *id, choice)
	return nil
}

func (a *app) writtenDismiss(args []string) error {
	fs := newFlags("written dismiss")
	insp := fs.String("inspection", "", "inspection `id`")
	op := fs.String("op", "", "the refused edit's op `id` (8+ characters)")
	if err := parse(fs, args, "inspection", "op"); err != nil {
		return err
	}
	l, err := a.openLocal()
	if err != nil {
		return err
	}
	if err := l.DismissWrittenRefusal(a.ctx, *insp, *op); err != nil {
		return err
	}
	termsafe.Fprintf(a.stdout, "refused edit %s dismissed (kept on this laptop, no longer listed)\n", *op)
	return nil
}

// excerpt is the start of a text on one line, at most n runes.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
