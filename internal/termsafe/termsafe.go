// Package termsafe keeps user data from steering the terminal it is printed
// on. Notes, case references, attribute values, names and framework text
// are typed by people fieldwork does not control; printed raw, an ESC
// sequence in a note clears the screen, retitles the window or moves the
// cursor over other rows, and a bidirectional override makes a row read
// differently from what it holds. Every human-readable output of the CLI
// goes through this package, which shows such characters as visible
// escapes instead.
//
// The escapes are JSON's: \u001b for ESC, \u202e for RIGHT-TO-LEFT
// OVERRIDE, a surrogate pair (\udb40\udc01) above U+FFFF, so JSON output
// passed through the Writer is still valid JSON with the same content.
// Bytes that are not UTF-8 show as \xNN (encoding/json never writes them).
package termsafe

import (
	"fmt"
	"io"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// unsafe is the one rule: whether r must not reach a terminal as itself.
// It holds for C0 and C1 controls, DEL, the line and paragraph separators
// and Unicode's format characters (bidi embeddings, overrides, isolates
// and marks, zero-width and invisible characters, tag characters), except
// ZERO WIDTH NON-JOINER and JOINER, which Persian, Indic scripts and emoji
// need and which cannot move or reorder text.
func unsafe(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		return true
	case r == 0x200c || r == 0x200d:
		return false
	case r == 0x2028 || r == 0x2029:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

const hex = "0123456789abcdef"

// appendEscaped appends s to dst with every unsafe rune (other than those
// in keep) and every byte that is not UTF-8 escaped.
func appendEscaped(dst []byte, s []byte, keep func(rune) bool) []byte {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			dst = append(dst, '\\', 'x', hex[s[i]>>4], hex[s[i]&0xf])
		case unsafe(r) && (keep == nil || !keep(r)):
			if r > 0xffff {
				hi, lo := utf16.EncodeRune(r)
				dst = appendU(appendU(dst, hi), lo)
			} else {
				dst = appendU(dst, r)
			}
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

func appendU(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}

// clean reports whether s needs no escaping (the common case, kept cheap).
func clean(s string, keep func(rune) bool) bool {
	for _, r := range s {
		if r == utf8.RuneError || (unsafe(r) && (keep == nil || !keep(r))) {
			return false
		}
	}
	return true
}

// String returns s with every unsafe character escaped, newlines and tabs
// included: a value shown in a table cell or a message cannot start a line
// of its own or shift the columns after it.
func String(s string) string {
	if clean(s, nil) {
		return s
	}
	return string(appendEscaped(nil, []byte(s), nil))
}

// arg formats one Fprintf argument as fmt would, then escapes the result.
type arg struct{ v any }

func (a arg) Format(f fmt.State, verb rune) {
	io.WriteString(f, String(fmt.Sprintf(fmt.FormatString(f, verb), a.v)))
}

// Fprintf is fmt.Fprintf with every argument escaped by String. The format
// is the program's own, so its tabs and newlines lay the output out, while
// those inside the arguments are shown as escapes.
func Fprintf(w io.Writer, format string, args ...any) (int, error) {
	wrapped := make([]any, len(args))
	for i, v := range args {
		wrapped[i] = arg{v}
	}
	return fmt.Fprintf(w, format, wrapped...)
}

// Sprintf is Fprintf into a string.
func Sprintf(format string, args ...any) string {
	wrapped := make([]any, len(args))
	for i, v := range args {
		wrapped[i] = arg{v}
	}
	return fmt.Sprintf(format, wrapped...)
}

// Writer escapes everything written through it except newlines and tabs,
// which lay out the text of the program itself. It is the net under a whole
// output stream: whatever a command prints, no control sequence reaches the
// terminal. Values inside table rows still go through String or Fprintf,
// so that their own tabs and newlines cannot fake rows or columns.
type Writer struct {
	w       io.Writer
	pending []byte // the start of a UTF-8 sequence cut by the end of a Write
	buf     []byte
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

func layout(r rune) bool { return r == '\n' || r == '\t' }

// Write escapes p and writes it. A multi-byte character split across two
// Writes is held back until its end arrives (or Flush).
func (w *Writer) Write(p []byte) (int, error) {
	data := p
	if len(w.pending) > 0 {
		data = append(w.pending, p...)
		w.pending = nil
	}
	// Hold back a trailing, incomplete but so far valid UTF-8 sequence.
	cut := len(data)
	for i := len(data) - 1; i >= 0 && i >= len(data)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(data[i]) {
			if !utf8.FullRune(data[i:]) {
				cut = i
			}
			break
		}
	}
	w.pending = append(w.pending[:0:0], data[cut:]...)
	w.buf = appendEscaped(w.buf[:0], data[:cut], layout)
	if _, err := w.w.Write(w.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes out a held-back incomplete sequence, escaped byte by byte.
func (w *Writer) Flush() error {
	if len(w.pending) == 0 {
		return nil
	}
	w.buf = appendEscaped(w.buf[:0], w.pending, layout)
	w.pending = nil
	_, err := w.w.Write(w.buf)
	return err
}
