package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// What walk reads, and how it reads it. The grammar is small and takes no
// guesses: an answer is one word (y, yes, n, no, na, n/a, or a number),
// and a note follows it after a colon ("n: seen in OASys"). Anything else
// with a space in it is refused with what to type instead, nothing saved;
// the one exception is a line whose words make an answer when joined
// ("n a"), which walk asks about ("did you mean na?") rather than read as
// No with the note "a".

// walkCmd is one line of input, parsed.
type walkCmd struct {
	kind    cmdKind
	value   string // an answer's value as typed (answer)
	note    string // the note (answer with hasNote, note, notApplicable)
	hasNote bool   // the line gave a note (possibly empty: "n:" drops it)
	arg     string // goto's question id, notApplicable's target
	msg     string // refused: what to say; ask: the answer meant
}

type cmdKind int

const (
	cmdAnswer cmdKind = iota
	cmdNotApplicable
	cmdNote
	cmdSkip
	cmdBack
	cmdQuit
	cmdHelp
	cmdGoto
	cmdNextUnanswered
	cmdMissing
	cmdAsk     // "n a": ask whether msg ("na") was meant
	cmdRefused // explained in msg; nothing saved
)

// answerWords are the spellings of an answer; a number is an answer too.
var answerWords = map[string]string{"y": "yes", "yes": "yes", "n": "no", "no": "no", "na": "na", "n/a": "na"}

func isAnswerWord(w string) bool {
	if _, ok := answerWords[strings.ToLower(w)]; ok {
		return true
	}
	_, err := framework.ParseValue(w)
	return err == nil && w != ""
}

func parseWalk(line string) walkCmd {
	line = strings.TrimSpace(line)
	if line == "" {
		return walkCmd{kind: cmdSkip}
	}
	if head, rest, ok := strings.Cut(line, ":"); ok {
		word := strings.ToLower(strings.TrimSpace(head))
		note := strings.TrimSpace(rest)
		switch {
		case word == "note":
			return walkCmd{kind: cmdNote, note: note, hasNote: true}
		case word == "na!":
			return walkCmd{kind: cmdNotApplicable, note: note, hasNote: true}
		case strings.HasPrefix(word, "na! "):
			return walkCmd{kind: cmdNotApplicable, arg: strings.TrimSpace(strings.TrimSpace(head)[4:]), note: note, hasNote: true}
		case len(strings.Fields(word)) == 1:
			return walkCmd{kind: cmdAnswer, value: strings.TrimSpace(head), note: note, hasNote: true}
		}
		return walkCmd{kind: cmdRefused, msg: fmt.Sprintf("%q is not one answer: give y, n, na or a number, then the note after a colon (\"n: seen in OASys\")", strings.TrimSpace(head))}
	}
	fields := strings.Fields(line)
	first := strings.ToLower(fields[0])
	if len(fields) == 1 {
		switch first {
		case "s", "skip":
			return walkCmd{kind: cmdSkip}
		case "b", "back":
			return walkCmd{kind: cmdBack}
		case "q", "quit":
			return walkCmd{kind: cmdQuit}
		case "?", "h", "help":
			return walkCmd{kind: cmdHelp}
		case "u":
			return walkCmd{kind: cmdNextUnanswered}
		case "m", "missing":
			return walkCmd{kind: cmdMissing}
		case "na!":
			return walkCmd{kind: cmdNotApplicable}
		case "g", "go", "goto", "note":
			return walkCmd{kind: cmdRefused, msg: first + " needs more: g QID jumps to a question, note: TEXT changes the note"}
		}
		// Any other single word is an answer: the framework's check names
		// what is wrong with one it does not take ("maybe").
		return walkCmd{kind: cmdAnswer, value: fields[0]}
	}
	switch first {
	case "g", "go", "goto":
		if len(fields) == 2 {
			return walkCmd{kind: cmdGoto, arg: fields[1]}
		}
	case "note":
		return walkCmd{kind: cmdNote, note: strings.TrimSpace(line[len(fields[0]):]), hasNote: true}
	case "na!":
		if len(fields) == 2 {
			return walkCmd{kind: cmdNotApplicable, arg: fields[1]}
		}
	}
	if joined := strings.ToLower(strings.Join(fields, "")); isAnswerWord(joined) {
		return walkCmd{kind: cmdAsk, msg: joined}
	}
	if isAnswerWord(fields[0]) {
		return walkCmd{kind: cmdRefused, msg: fmt.Sprintf("a note follows a colon: %q, or %q for the answer alone", fields[0]+": "+strings.Join(fields[1:], " "), fields[0])}
	}
	return walkCmd{kind: cmdRefused, msg: fmt.Sprintf("%q is not an answer or a command (? for help)", line)}
}

// inWords is an answer value as walk echoes it.
func inWords(value string) string {
	switch value {
	case "yes":
		return "Yes"
	case "no":
		return "No"
	case "na":
		return "Not applicable"
	}
	return value
}

// echo is a saved answer in words: "2.1.1 = No, note: seen in OASys".
func echo(qid, value, note string) string {
	if note == "" {
		return fmt.Sprintf("%s = %s (no note)", qid, inWords(value))
	}
	return fmt.Sprintf("%s = %s, note: %s", qid, inWords(value), note)
}

// errInterrupted is the walk's context ending (Ctrl-C) while it waits.
var errInterrupted = errors.New("interrupted")

// lineReader hands walk one line at a time, or errInterrupted as soon as
// ctx ends: the read itself goes on in a goroutine, so an interrupt never
// waits for the next Enter.
type lineReader struct {
	ctx   context.Context
	lines chan string
	err   error // after lines is closed: why (nil at end of input)
	done  chan struct{}
}

func newLineReader(ctx context.Context, in io.Reader) *lineReader {
	r := &lineReader{ctx: ctx, lines: make(chan string), done: make(chan struct{})}
	go func() {
		defer close(r.lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), 64<<10)
		for sc.Scan() {
			select {
			case r.lines <- sc.Text():
			case <-r.done:
				return
			}
		}
		r.err = sc.Err()
	}()
	return r
}

// next returns the next line; ok is false at the end of input (err says
// whether it ended on an error), and err is errInterrupted once ctx ends.
func (r *lineReader) next() (line string, ok bool, err error) {
	select {
	case <-r.ctx.Done():
		return "", false, errInterrupted
	case l, open := <-r.lines:
		if !open {
			return "", false, r.err
		}
		return l, true, nil
	}
}

// close lets the reading goroutine go (it may still be blocked in a read
// of a terminal, which ends with the process).
func (r *lineReader) close() { close(r.done) }

const walkHelp = `y / n / na / NUMBER          answer (one word; Enter moves on)
y: NOTE                      answer with an evidence note (the note follows a colon; "n:" gives No and drops the note)
note: TEXT                   change the note only
na!  or  na! QID|STANDARD    not applicable: this key question with its prompts (or that key question or standard), one answer each
u   next unanswered (marked *)      m   list every unanswered question      g QID   jump to a question
Enter or s   skip      b   back      q   quit (resume later; Ctrl-C does the same)
`
