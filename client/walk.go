package client

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Walk takes an inspector through a case's applicable questions in
// framework order (standard → key question → prompts → supplementary),
// reading commands from in and writing prompts to out. Every answer is
// saved to the local store (and its outbox) at once, so a crash loses
// nothing; quitting remembers the position and the next walk resumes there.
//
// Commands: y | n | na | a number [note…] to answer (the rest of the line
// becomes the note), "note TEXT" to change the note only, Enter or s to
// skip, b to go back, g QID to jump, q to quit, ? for help.
func Walk(ctx context.Context, local *Offline, user, inspectionID, caseRef string, in io.Reader, out io.Writer) error {
	insp, err := local.Inspection(ctx, inspectionID)
	if err != nil {
		return err
	}
	fw, err := local.Framework(ctx, insp.FrameworkID, insp.FrameworkVersion)
	if err != nil {
		return err
	}
	cases, err := local.Cases(ctx, inspectionID)
	if err != nil {
		return err
	}
	var c *framework.Case
	for i := range cases {
		if cases[i].Ref == caseRef {
			c = &cases[i]
		}
	}
	if c == nil {
		return framework.Errorf(framework.CodeNotFound, "case %q is not in inspection %s on this device (run fieldwork sync)", caseRef, inspectionID)
	}
	answers := map[string]framework.Answer{}
	// The questions asked follow the answers given (a rule may name
	// another answer): qs is recomputed after every answer, and the walk
	// says which questions that brought in or took out.
	var qs []*framework.Question
	load := func() error {
		as, err := local.Answers(ctx, inspectionID, caseRef)
		if err != nil {
			return err
		}
		clear(answers)
		for _, a := range as {
			answers[a.QuestionID] = a
		}
		qs = fw.Applicable(answerFacts(c.Attributes, answers))
		return nil
	}
	if err := load(); err != nil {
		return err
	}
	skipped := len(fw.Questions()) - len(qs)
	order := map[string]int{} // question → its place in the framework
	for i, q := range fw.Questions() {
		order[q.ID] = i
	}
	// reload loads the answers after one was recorded to question id and
	// returns the place in qs of the question after it.
	reload := func(id string) (int, error) {
		before := qs
		if err := load(); err != nil {
			return 0, err
		}
		for _, q := range qs {
			if !slices.Contains(before, q) {
				fmt.Fprintf(out, "  → now asked: %s %s\n", q.ID, q.Text)
			}
		}
		for _, q := range before {
			if !slices.Contains(qs, q) {
				_, why := fw.Applies(q, answerFacts(c.Attributes, answers))
				fmt.Fprintf(out, "  → no longer asked: %s (%s)\n", q.ID, why)
			}
		}
		next := len(qs)
		for i, q := range qs {
			if order[q.ID] > order[id] {
				next = i
				break
			}
		}
		return next, nil
	}
	posKey := "walk:" + inspectionID + ":" + caseRef
	pos := 0
	if saved, _ := local.meta(ctx, posKey); saved != "" {
		for i, q := range qs {
			if q.ID == saved {
				pos = i
			}
		}
	} else {
		for pos < len(qs) && answers[qs[pos].ID].Value != "" {
			pos++
		}
	}
	fmt.Fprintf(out, "Case %s (%s) — %d applicable questions", c.Ref, describe(c.Attributes), len(qs))
	if skipped > 0 {
		fmt.Fprintf(out, "; %d do not apply to this case", skipped)
	}
	fmt.Fprintln(out, ". Type ? for help.")
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for {
		if pos >= len(qs) {
			missing := 0
			for _, q := range qs {
				if answers[q.ID].Value == "" {
					missing++
				}
			}
			if missing == 0 {
				fmt.Fprintf(out, "\nAll %d applicable questions answered. Submit with: fieldwork submit --inspection %s --case %s\n", len(qs), inspectionID, caseRef)
				local.setMeta(ctx, posKey, "")
				return nil
			}
			fmt.Fprintf(out, "\nEnd of the case: %d question(s) still unanswered. b to go back, g QID to jump, q to quit.\n", missing)
		} else {
			showQuestion(out, fw, qs, pos, answers)
		}
		fmt.Fprint(out, "> ")
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return err
			}
			savePos(ctx, local, posKey, qs, pos)
			fmt.Fprintln(out, "\n(input ended; position saved)")
			return nil
		}
		line := strings.TrimSpace(sc.Text())
		word, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToLower(word) {
		case "", "s", "skip":
			if pos < len(qs) {
				pos++
			}
		case "b", "back":
			if pos > 0 {
				pos--
			}
		case "q", "quit":
			savePos(ctx, local, posKey, qs, pos)
			fmt.Fprintln(out, "Position saved; run the same command to resume.")
			return nil
		case "?", "h", "help":
			fmt.Fprintln(out, "y / n / na / NUMBER [note…]   answer (the rest of the line is the evidence note)")
			fmt.Fprintln(out, "note TEXT                     change the note only")
			fmt.Fprintln(out, "Enter or s   skip      b   back      g QID   jump to a question      q   quit (resume later)")
		case "g", "go", "goto":
			found := false
			for i, q := range qs {
				if strings.EqualFold(q.ID, rest) {
					pos, found = i, true
				}
			}
			if !found {
				if q, ok := fw.Question(rest); ok {
					if st, why := fw.Applies(q, answerFacts(c.Attributes, answers)); st == framework.NotYet {
						fmt.Fprintf(out, "! %s is not asked yet (%s)\n", rest, why)
					} else {
						fmt.Fprintf(out, "! %s does not apply to this case (%s)\n", rest, why)
					}
				} else {
					fmt.Fprintf(out, "! no question %q in %s\n", rest, fw.ID)
				}
			}
		case "note":
			if pos >= len(qs) {
				continue
			}
			cur := answers[qs[pos].ID]
			if cur.Value == "" {
				fmt.Fprintln(out, "! answer the question before adding a note")
				continue
			}
			id := qs[pos].ID
			if err := record(ctx, local, user, inspectionID, caseRef, id, cur.Value, rest, out); err != nil {
				return err
			}
			if _, err := reload(id); err != nil {
				return err
			}
			pos = slices.IndexFunc(qs, func(q *framework.Question) bool { return q.ID == id })
		default:
			if pos >= len(qs) {
				fmt.Fprintln(out, "! end of the case: b, g QID or q")
				continue
			}
			value := map[string]string{"y": "yes", "yes": "yes", "n": "no", "no": "no", "na": "na", "n/a": "na"}[strings.ToLower(word)]
			if value == "" {
				value = word // a number, or something CheckAnswer will explain
			}
			note := rest
			if note == "" {
				note = answers[qs[pos].ID].Note // keep the existing note
			}
			id := qs[pos].ID
			if err := record(ctx, local, user, inspectionID, caseRef, id, value, note, out); err != nil {
				if framework.ErrorCode(err) == framework.CodeInvalid {
					continue // explained; ask again
				}
				return err
			}
			if pos, err = reload(id); err != nil {
				return err
			}
		}
	}
}

func record(ctx context.Context, local *Offline, user, inspectionID, caseRef, qid, value, note string, out io.Writer) error {
	_, err := local.Record(ctx, user, Edit{InspectionID: inspectionID, CaseRef: caseRef, QuestionID: qid, Value: value, Note: note})
	if err != nil && framework.ErrorCode(err) != "" {
		fmt.Fprintf(out, "! %v\n", err)
		if framework.ErrorCode(err) != framework.CodeInvalid {
			return err
		}
	}
	return err
}

func savePos(ctx context.Context, local *Offline, key string, qs []*framework.Question, pos int) {
	if pos < len(qs) {
		local.setMeta(ctx, key, qs[pos].ID)
	}
}

func describe(attrs map[string]string) string {
	var parts []string
	for _, k := range []string{"sentence_type", "rosh", "mappa"} {
		if v := attrs[k]; v != "" {
			parts = append(parts, k+" "+v)
		}
	}
	return strings.Join(parts, ", ")
}

func showQuestion(out io.Writer, fw *framework.Framework, qs []*framework.Question, pos int, answers map[string]framework.Answer) {
	q := qs[pos]
	// Progress within the question's standard.
	total, done := 0, 0
	for _, o := range qs {
		if o.StandardID == q.StandardID {
			total++
			if answers[o.ID].Value != "" {
				done++
			}
		}
	}
	where := "Supplementary"
	if s, ok := fw.Standard(q.StandardID); ok {
		where = s.ID + " " + s.Title
	}
	fmt.Fprintf(out, "\n%s: %d of %d answered\n", where, done, total)
	kind := string(q.Kind)
	if q.Kind == framework.QuestionPrompt {
		kind = "prompt of " + q.KeyQuestionID
	}
	hint := "y / n / na"
	if q.Type == framework.TypeCount {
		hint = "a number"
	}
	fmt.Fprintf(out, "[%d/%d] %s (%s) %s\n", pos+1, len(qs), q.ID, kind, q.Text)
	if a := answers[q.ID]; a.Value != "" {
		fmt.Fprintf(out, "  current: %s", a.Value)
		if a.Note != "" {
			fmt.Fprintf(out, " — %q", a.Note)
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "  answer %s [note…], Enter to skip, b back, q quit\n", hint)
}
