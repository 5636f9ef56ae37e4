package client

import (
	"fmt"
	"io"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Saving answers in walk: each one checked by the offline store (the
// server's rules), saved with its outbox op, echoed in words. Changing an
// answer that has a note shows the note and asks whether it still holds:
// a note is never carried silently onto an answer it may contradict.

// save records one answer and echoes it; false if it was refused (the
// reason shown, nothing saved).
func (w *walker) save(qid, value, note string) (bool, error) {
	record := w.local.Record
	if w.second {
		record = w.local.RecordMarking
	}
	op, err := record(w.wctx, w.user, Edit{InspectionID: w.insp, CaseRef: w.ref, QuestionID: qid, Value: value, Note: note})
	if err != nil {
		if framework.ErrorCode(err) == "" {
			return false, err
		}
		fmt.Fprintf(w.out, "! %v — nothing saved\n", err)
		return false, nil
	}
	w.lastSaved = echo(qid, op.Value, op.Note)
	fmt.Fprintf(w.out, "  saved %s\n", w.lastSaved)
	return true, nil
}

// answer answers the current question. Without a note on the line, a new
// answer has none, the same answer keeps its note (nothing changes), and a
// changed answer asks about the note it had.
func (w *walker) answer(value, note string, hasNote bool, r *lineReader) error {
	if !w.writable() {
		return nil
	}
	q := w.qs[w.pos]
	cur := w.answers[q.ID]
	v, perr := framework.ParseValue(answerValue(value))
	if perr == nil && cur.Value == v.String() && (!hasNote || note == cur.Note) {
		fmt.Fprintf(w.out, "  unchanged: %s\n", echo(q.ID, cur.Value, cur.Note))
		w.pos++
		return nil
	}
	if !hasNote && cur.Value != "" && cur.Note != "" && perr == nil {
		fmt.Fprintf(w.out, "  %s was %s, note: %s\n", q.ID, inWords(cur.Value), cur.Note)
		fmt.Fprintf(w.out, "  keep this note with %s? k keeps it, d drops it, or give a new one as \": NOTE\": ", inWords(v.String()))
		line, ok, err := r.next()
		if err != nil {
			return err
		}
		line = strings.TrimSpace(line)
		switch {
		case !ok:
			fmt.Fprintf(w.out, "\n  nothing saved for %s\n", q.ID)
			return nil
		case strings.EqualFold(line, "k") || strings.EqualFold(line, "keep"):
			note = cur.Note
		case strings.EqualFold(line, "d") || strings.EqualFold(line, "drop"):
			note = ""
		case strings.HasPrefix(line, ":"):
			note = strings.TrimSpace(line[1:])
		default:
			fmt.Fprintf(w.out, "! answer k, d or \": NOTE\" — nothing saved; %s stays %s\n", q.ID, inWords(cur.Value))
			return nil
		}
	} else if hasNote && cur.Note != "" && note != cur.Note {
		fmt.Fprintf(w.out, "  (replaces the note: %s)\n", cur.Note)
	}
	saved, err := w.save(q.ID, answerValue(value), note)
	if err != nil || !saved {
		return err
	}
	w.pos, err = w.reload(q.ID)
	return err
}

// answerValue is the value for a typed answer word (a number as it is).
func answerValue(word string) string {
	if v, ok := answerWords[strings.ToLower(word)]; ok {
		return v
	}
	return word
}

// noteOnly changes the current answer's note, staying on the question.
func (w *walker) noteOnly(note string) error {
	if !w.writable() {
		return nil
	}
	q := w.qs[w.pos]
	cur := w.answers[q.ID]
	if cur.Value == "" {
		fmt.Fprintln(w.out, "! answer the question before adding a note — nothing saved")
		return nil
	}
	if saved, err := w.save(q.ID, cur.Value, note); err != nil || !saved {
		return err
	}
	if _, err := w.reload(q.ID); err != nil {
		return err
	}
	if i := w.indexOf(q.ID); i >= 0 {
		w.pos = i
	}
	return nil
}

// notApplicable marks a key question with its prompts (the current one,
// or target: a key question or a standard) not applicable, one answer
// each (Offline.RecordNotApplicable), and goes on after the last.
func (w *walker) notApplicable(target, note string) error {
	if !w.writable() {
		return nil
	}
	if target == "" {
		q := w.qs[w.pos]
		if q.Kind != framework.QuestionKey {
			fmt.Fprintf(w.out, "! na! marks a key question with its prompts; %s is a %s question: na for it alone, or na! KEY — nothing saved\n", q.ID, q.Kind)
			return nil
		}
		target = q.ID
	}
	if w.second {
		fmt.Fprintf(w.out, "! na! is not available in a second marking: give na to each question — nothing saved\n")
		return nil
	}
	ops, err := w.local.RecordNotApplicable(w.wctx, w.user, w.insp, w.ref, target, note)
	for _, op := range ops {
		w.lastSaved = echo(op.QuestionID, op.Value, op.Note)
		fmt.Fprintf(w.out, "  saved %s\n", w.lastSaved)
	}
	if err != nil {
		if framework.ErrorCode(err) == "" {
			return err
		}
		fmt.Fprintf(w.out, "! %v\n", err)
	}
	if len(ops) == 0 {
		if err == nil {
			fmt.Fprintf(w.out, "  unchanged: %s is already not applicable\n", target)
		}
		return nil
	}
	w.pos, err = w.reload(ops[len(ops)-1].QuestionID)
	return err
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

// show prints the current question: its standard's progress, a * when it
// is unanswered (every question asked is needed for submission), the
// answer it has, and what to type.
func (w *walker) show() {
	showQuestion(w.out, w.fw, w.qs, w.pos, w.answers, w.readOnly != nil)
}

func showQuestion(out io.Writer, fw *framework.Framework, qs []*framework.Question, pos int, answers map[string]framework.Answer, readOnly bool) {
	q := qs[pos]
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
	fmt.Fprintf(out, "\n%s: %d of %d answered", where, done, total)
	if done < total {
		fmt.Fprintf(out, " (%d unanswered, marked *)", total-done)
	}
	fmt.Fprintln(out)
	kind := string(q.Kind)
	if q.Kind == framework.QuestionPrompt {
		kind = "prompt of " + q.KeyQuestionID
	}
	mark := " "
	if answers[q.ID].Value == "" {
		mark = "*"
	}
	fmt.Fprintf(out, "%s [%d/%d] %s (%s) %s\n", mark, pos+1, len(qs), q.ID, kind, q.Text)
	if a := answers[q.ID]; a.Value != "" {
		fmt.Fprintf(out, "  current: %s\n", echo(q.ID, a.Value, a.Note))
	} else {
		fmt.Fprintln(out, "  unanswered (required)")
	}
	switch {
	case readOnly:
		fmt.Fprintln(out, "  read-only: Enter next, b back, u unanswered, g QID, q quit")
	case q.Type == framework.TypeCount:
		fmt.Fprintln(out, "  answer a number or na [: note], Enter skip, u next unanswered, b back, q quit")
	case q.Kind == framework.QuestionKey:
		fmt.Fprintln(out, "  answer y / n / na [: note], na! (with its prompts), Enter skip, u next unanswered, b back, q quit")
	default:
		fmt.Fprintln(out, "  answer y / n / na [: note], Enter skip, u next unanswered, b back, q quit")
	}
}
