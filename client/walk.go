package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Walk takes an inspector through a case's applicable questions in
// framework order (standard → key question → prompts → supplementary),
// reading commands from in and writing prompts to out. Every answer is
// saved to the local store (and its outbox) at once and echoed in words,
// so a crash loses nothing and nothing is saved unseen; quitting (q, end
// of input or Ctrl-C, which ctx ending stands for) remembers the position
// and the next walk resumes there. The grammar is walkinput.go's: one word
// per answer, a note after a colon, nothing guessed.
//
// A case the walker may not change (submitted, locked, someone else's) is
// opened read-only, saying why; one they may correct (QA or the lead on a
// submitted case) is opened for correction. A complete case is opened for
// review, not closed at once.
func Walk(ctx context.Context, local *Offline, user, inspectionID, caseRef string, in io.Reader, out io.Writer) error {
	return walk(ctx, local, user, inspectionID, caseRef, false, in, out)
}

// WalkSecond walks a case's second marking (its QA marker's; docs/qa.md):
// the same walk over the marking's own answers, saved apart from the
// case's, and submitted with fieldwork submit --second.
func WalkSecond(ctx context.Context, local *Offline, user, inspectionID, caseRef string, in io.Reader, out io.Writer) error {
	return walk(ctx, local, user, inspectionID, caseRef, true, in, out)
}

func walk(ctx context.Context, local *Offline, user, inspectionID, caseRef string, second bool, in io.Reader, out io.Writer) error {
	w, err := newWalker(ctx, local, user, inspectionID, caseRef, second, out)
	if err != nil {
		return err
	}
	r := newLineReader(ctx, in)
	defer r.close()
	return w.run(r)
}

// walker is one walk through one case.
type walker struct {
	// ctx is the caller's (it ends on Ctrl-C); wctx, which does not end
	// with it, is what saves use: a save begun is finished, never cut in
	// half, and the walk then stops.
	ctx, wctx         context.Context
	local             *Offline
	user, insp, ref   string
	out               io.Writer
	fw                *framework.Framework
	c                 framework.Case
	answers           map[string]framework.Answer
	qs                []*framework.Question // the questions asked now
	order             map[string]int        // question → its place in the framework
	pos               int
	readOnly          error  // why the case cannot be changed here (nil: it can)
	locked            string // a lock among the reasons: what is locked and who may unlock it ("": none)
	second            bool   // the case's second marking, not its answers
	lastSaved, posKey string // the last answer saved, in words; the meta key of the position
}

func newWalker(ctx context.Context, local *Offline, user, inspectionID, caseRef string, second bool, out io.Writer) (*walker, error) {
	insp, fw, err := local.InspectionFramework(ctx, inspectionID)
	if err != nil {
		return nil, err
	}
	cases, err := local.Cases(ctx, inspectionID)
	if err != nil {
		return nil, err
	}
	w := &walker{ctx: ctx, wctx: context.WithoutCancel(ctx), local: local, user: user, insp: inspectionID, ref: caseRef, out: out, fw: fw,
		answers: map[string]framework.Answer{}, order: map[string]int{}, posKey: "walk:" + inspectionID + ":" + caseRef, second: second}
	if second {
		w.posKey = "walk2:" + inspectionID + ":" + caseRef
	}
	found := false
	for _, c := range cases {
		if c.Ref == caseRef {
			w.c, found = c, true
		}
	}
	if !found {
		return nil, framework.Errorf(framework.CodeNotFound, "case %q is not in inspection %s on this device (run fieldwork sync)", caseRef, inspectionID)
	}
	for i, q := range fw.Questions() {
		w.order[q.ID] = i
	}
	// The one rule for who may change answers, asked before the first key.
	w.readOnly = framework.CheckAnswerWrite(insp.Role, w.c.Inspector == user, inspectionID, insp.Status, w.c)
	if second {
		sels, err := local.Selections(ctx, inspectionID)
		if err != nil {
			return nil, err
		}
		var sel *framework.QASelection
		for i := range sels {
			if sels[i].CaseRef == caseRef {
				sel = &sels[i]
			}
		}
		w.readOnly = framework.CheckMarkingWrite(user, inspectionID, caseRef, insp.Status, sel)
	} else if framework.CheckWritable(inspectionID, insp.Status, w.c.Ref, w.c.Status) != nil {
		w.locked = lockedWhy(insp, w.c)
	}
	if err := w.load(); err != nil {
		return nil, err
	}
	return w, nil
}

// load reads the case's answers and the questions they make asked (a rule
// may name another answer).
func (w *walker) load() error {
	read := w.local.Answers
	if w.second {
		read = w.local.MarkingAnswers
	}
	as, err := read(w.wctx, w.insp, w.ref)
	if err != nil {
		return err
	}
	clear(w.answers)
	for _, a := range as {
		w.answers[a.QuestionID] = a
	}
	w.qs = w.fw.Applicable(w.facts())
	return nil
}

func (w *walker) facts() framework.Facts { return answerFacts(w.c.Attributes, w.answers) }

// reload loads the answers after some were recorded, the last to question
// id, says which questions that brought in or took out, and returns the
// place in qs of the question after id.
func (w *walker) reload(id string) (int, error) {
	before := w.qs
	if err := w.load(); err != nil {
		return 0, err
	}
	back := -1 // a question brought in before id (its rule names a later answer): asked next
	for i, q := range w.qs {
		if !slices.Contains(before, q) {
			fmt.Fprintf(w.out, "  → now asked: %s %s\n", q.ID, q.Text)
			if back < 0 && w.order[q.ID] < w.order[id] && w.answers[q.ID].Value == "" {
				back = i
			}
		}
	}
	for _, q := range before {
		if !slices.Contains(w.qs, q) {
			_, why := w.fw.Applies(q, w.facts())
			fmt.Fprintf(w.out, "  → no longer asked: %s (%s)\n", q.ID, why)
		}
	}
	if back >= 0 {
		fmt.Fprintf(w.out, "  (going back to %s, which comes earlier)\n", w.qs[back].ID)
		return back, nil
	}
	return w.after(id), nil
}

// after is the place in qs of the first question after id in framework
// order (len(qs) at the end).
func (w *walker) after(id string) int {
	for i, q := range w.qs {
		if w.order[q.ID] > w.order[id] {
			return i
		}
	}
	return len(w.qs)
}

func (w *walker) missing() []*framework.Question {
	var out []*framework.Question
	for _, q := range w.qs {
		if w.answers[q.ID].Value == "" {
			out = append(out, q)
		}
	}
	return out
}

func (w *walker) indexOf(id string) int {
	return slices.IndexFunc(w.qs, func(q *framework.Question) bool { return strings.EqualFold(q.ID, id) })
}

func (w *walker) savePos() {
	if w.pos < len(w.qs) {
		w.local.setMeta(w.wctx, w.posKey, w.qs[w.pos].ID)
	}
}

func (w *walker) start() {
	if saved, _ := w.local.meta(w.wctx, w.posKey); saved != "" {
		if i := w.indexOf(saved); i >= 0 {
			w.pos = i
		} else if _, known := w.order[saved]; known {
			// Saved on a question no longer asked (an answer changed since):
			// resume at the question after it, not at the start.
			w.pos = w.after(saved)
		}
	} else if m := w.missing(); len(m) > 0 {
		w.pos = w.indexOf(m[0].ID)
	}
	skipped := len(w.fw.Questions()) - len(w.qs)
	fmt.Fprintf(w.out, "Case %s (%s) — %d applicable questions", w.c.Ref, describe(w.c.Attributes), len(w.qs))
	if skipped > 0 {
		fmt.Fprintf(w.out, "; %d do not apply to this case", skipped)
	}
	fmt.Fprintln(w.out, ". Type ? for help.")
	queued, _ := w.local.QueuedCaseStatus(w.wctx, w.insp, w.ref)
	switch {
	case w.locked != "":
		fmt.Fprintf(w.out, "Locked: %s. Look through it with Enter, b, u, g QID; q to quit.\n", w.locked)
	case w.readOnly != nil:
		fmt.Fprintf(w.out, "Read-only: %v. Look through it with Enter, b, u, g QID; q to quit.\n", w.readOnly)
		if queued != "" {
			fmt.Fprintf(w.out, "Its move to %s is queued on this laptop and is sent on the next fieldwork sync.\n", queued)
		}
	case w.second:
		fmt.Fprintln(w.out, "Second marking: saved apart from the case's answers, and counted in no figure.")
	case w.c.Status != framework.CaseNotStarted && w.c.Status != framework.CaseInProgress:
		fmt.Fprintf(w.out, "Case is %s: you may correct it (every change is audited).\n", w.c.Status)
	}
	if len(w.missing()) == 0 && len(w.qs) > 0 {
		fmt.Fprintf(w.out, "All %d applicable questions are answered: reviewing.\n", len(w.qs))
	}
}

func (w *walker) run(r *lineReader) error {
	w.start()
	for {
		if w.pos >= len(w.qs) {
			if done := w.atEnd(); done {
				return nil
			}
		} else {
			w.show()
		}
		fmt.Fprint(w.out, "> ")
		line, ok, err := r.next()
		if errors.Is(err, errInterrupted) {
			return w.interrupted("")
		}
		if !ok {
			if err != nil {
				return err
			}
			w.savePos()
			fmt.Fprintln(w.out, "\n(input ended; position saved)")
			return nil
		}
		if err := w.do(parseWalk(line), r); err != nil {
			if errors.Is(err, errInterrupted) {
				return w.interrupted(w.current())
			}
			if errors.Is(err, errQuit) {
				return nil
			}
			return err
		}
		if w.ctx.Err() != nil { // interrupted while saving: the save was finished
			return w.interrupted("")
		}
	}
}

var errQuit = errors.New("quit")

func (w *walker) current() string {
	if w.pos < len(w.qs) {
		return w.qs[w.pos].ID
	}
	return ""
}

// interrupted ends the walk on Ctrl-C: the position is kept, and the
// walker is told exactly what was and was not saved.
func (w *walker) interrupted(pendingQ string) error {
	w.savePos()
	fmt.Fprintln(w.out)
	if pendingQ != "" {
		fmt.Fprintf(w.out, "Interrupted: nothing was saved for %s (it stays as shown above).\n", pendingQ)
	} else {
		fmt.Fprintln(w.out, "Interrupted: nothing typed on this line was saved.")
	}
	if w.lastSaved != "" {
		fmt.Fprintf(w.out, "Last answer saved: %s.\n", w.lastSaved)
	}
	fmt.Fprintln(w.out, "Position saved; run the same command to resume.")
	return nil
}

// atEnd is the end of the case: the unanswered questions listed, each as
// the g line that goes to it; done when nothing is left to do.
func (w *walker) atEnd() (done bool) {
	missing := w.missing()
	if len(missing) > 0 {
		fmt.Fprintf(w.out, "\nEnd of the case: %d question(s) still unanswered (type a g line to go to one, u for the first):\n", len(missing))
		listMissing(w.out, missing)
		return false
	}
	w.local.setMeta(w.wctx, w.posKey, "")
	switch {
	case w.second && w.readOnly == nil:
		fmt.Fprintf(w.out, "\nAll %d applicable questions of the second marking answered. Submit it with: fieldwork submit --second --inspection %s --case %s\n", len(w.qs), w.insp, w.ref)
	case w.locked != "":
		fmt.Fprintf(w.out, "\nAll %d applicable questions answered. Locked: %s.\n", len(w.qs), w.locked)
	case w.readOnly != nil:
		fmt.Fprintf(w.out, "\nAll %d applicable questions answered. Case %s is %s (read-only here).\n", len(w.qs), w.ref, w.c.Status)
	case w.c.Status == framework.CaseNotStarted || w.c.Status == framework.CaseInProgress:
		fmt.Fprintf(w.out, "\nAll %d applicable questions answered. Submit with: fieldwork submit --inspection %s --case %s\n", len(w.qs), w.insp, w.ref)
	default:
		fmt.Fprintf(w.out, "\nAll %d applicable questions answered. Case %s is %s.\n", len(w.qs), w.ref, w.c.Status)
	}
	return true
}

// lockedWhy says what holds a case locked (the inspection, or the case's
// own status) and who may lift it, with the command: a locked case is not
// one to submit, and nothing the walker types there is kept.
func lockedWhy(insp framework.Inspection, c framework.Case) string {
	if insp.Status == framework.InspectionLocked {
		return fmt.Sprintf("the inspection %s is locked, so no answer of case %s can change; only its lead inspector can unlock it "+
			"(fieldwork inspection unlock --inspection %s --reason TEXT)", insp.ID, c.Ref, insp.ID)
	}
	return fmt.Sprintf("case %s is locked (its status is locked, after QA); only the lead inspector can reopen it "+
		"(fieldwork case-status --inspection %s --case %s --status qa_checked --reason TEXT)", c.Ref, insp.ID, c.Ref)
}

func listMissing(out io.Writer, qs []*framework.Question) {
	for _, q := range qs {
		fmt.Fprintf(out, "  g %-10s %s\n", q.ID, q.Text)
	}
}

// do carries out one command. errInterrupted: Ctrl-C while walk asked
// something back; errQuit: the walk is over.
func (w *walker) do(cmd walkCmd, r *lineReader) error {
	switch cmd.kind {
	case cmdSkip:
		if w.pos < len(w.qs) {
			w.pos++
		}
	case cmdBack:
		if w.pos > 0 {
			w.pos--
		}
	case cmdQuit:
		w.savePos()
		fmt.Fprintln(w.out, "Position saved; run the same command to resume.")
		return errQuit
	case cmdHelp:
		fmt.Fprint(w.out, walkHelp)
	case cmdRefused:
		fmt.Fprintf(w.out, "! %s — nothing saved\n", cmd.msg)
	case cmdMissing:
		if m := w.missing(); len(m) == 0 {
			fmt.Fprintln(w.out, "  every applicable question is answered")
		} else {
			fmt.Fprintf(w.out, "  %d unanswered:\n", len(m))
			listMissing(w.out, m)
		}
	case cmdNextUnanswered:
		w.nextUnanswered()
	case cmdGoto:
		w.jump(cmd.arg)
	case cmdAsk:
		fmt.Fprintf(w.out, "? did you mean %s (%s)? y saves %s; anything else saves nothing: ", cmd.msg, inWords(answerWords[cmd.msg]+numberOr(cmd.msg)), cmd.msg)
		line, ok, err := r.next()
		if err != nil {
			return err
		}
		if ok && (strings.EqualFold(strings.TrimSpace(line), "y") || strings.EqualFold(strings.TrimSpace(line), "yes")) {
			return w.answer(cmd.msg, "", false, r)
		}
		fmt.Fprintln(w.out, "  nothing saved")
	case cmdAnswer:
		return w.answer(cmd.value, cmd.note, cmd.hasNote, r)
	case cmdNote:
		return w.noteOnly(cmd.note)
	case cmdNotApplicable:
		return w.notApplicable(cmd.arg, cmd.note)
	}
	return nil
}

// numberOr is s when it is a number (its words are itself), else "".
func numberOr(s string) string {
	if _, ok := answerWords[s]; ok {
		return ""
	}
	return s
}

func (w *walker) nextUnanswered() {
	n := len(w.qs)
	for i := 1; i <= n; i++ {
		j := (w.pos + i) % n
		if w.pos >= n {
			j = i - 1
		}
		if w.answers[w.qs[j].ID].Value == "" {
			w.pos = j
			return
		}
	}
	fmt.Fprintln(w.out, "  every applicable question is answered")
}

func (w *walker) jump(id string) {
	if i := w.indexOf(id); i >= 0 {
		w.pos = i
		return
	}
	if q, ok := w.fw.Question(id); ok {
		if st, why := w.fw.Applies(q, w.facts()); st == framework.NotYet {
			fmt.Fprintf(w.out, "! %s is not asked yet (%s)\n", id, why)
		} else {
			fmt.Fprintf(w.out, "! %s does not apply to this case (%s)\n", id, why)
		}
		return
	}
	fmt.Fprintf(w.out, "! no question %q in %s\n", id, w.fw.ID)
}

// writable says whether an answer may be saved now, explaining if not.
func (w *walker) writable() bool {
	switch {
	case w.readOnly != nil:
		fmt.Fprintf(w.out, "! read-only: %v — nothing saved\n", w.readOnly)
	case w.pos >= len(w.qs):
		fmt.Fprintln(w.out, "! end of the case: b, u, g QID or q — nothing saved")
	default:
		return true
	}
	return false
}
