package termsafe_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

// hostile holds what a note can carry to attack a terminal: clear screen,
// retitle (OSC … BEL), C1 CSI, cursor movement, a bidi override and
// isolate, a line separator, a tag character and a byte that is not UTF-8.
const hostile = "a\x1b[2J\x1b]0;pwned\x07b\u009b2Jc\x1b[1A\u202eevil\u2066x\u2069\u2028\U000e0041\xff\x7fz"

// banned lists every byte sequence that must never reach the terminal.
var banned = []string{"\x1b", "\x07", "\u009b", "\u202e", "\u2066", "\u2069", "\u2028", "\U000e0041", "\xff", "\x7f"}

func checkClean(t *testing.T, what, s string) {
	t.Helper()
	for _, b := range banned {
		if strings.Contains(s, b) {
			t.Errorf("%s holds %q raw: %q", what, b, s)
		}
	}
}

func TestStringEscapesVisibly(t *testing.T) {
	got := termsafe.String(hostile + "\n\tend")
	checkClean(t, "String", got)
	want := `a\u001b[2J\u001b]0;pwned\u0007b\u009b2Jc\u001b[1A\u202eevil\u2066x\u2069\u2028\udb40\udc41\xff\u007fz\u000a\u0009end`
	if got != want {
		t.Errorf("String(hostile) =\n %s\nwant\n %s", got, want)
	}
	// Ordinary text, accents, other scripts and joiners pass unchanged.
	for _, ok := range []string{"GW-001", "Zoë Ó Súilleabháin", "محمد", "می\u200cخواهم", "👩\u200d⚕\ufe0f", "a\\u001b literal"} {
		if got := termsafe.String(ok); got != ok {
			t.Errorf("String(%q) = %q, want it unchanged", ok, got)
		}
	}
}

func TestFprintfEscapesArgumentsNotLayout(t *testing.T) {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	termsafe.Fprintf(tw, "%s\t%d\t%s\n", "Q1", 3, "fine\nQ2\tyes\tforged")
	termsafe.Fprintf(tw, "%s\t%d\t%s\n", "Q3", 4, hostile)
	tw.Flush()
	out := buf.String()
	checkClean(t, "table", out)
	if lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); len(lines) != 2 {
		t.Errorf("a note's newline and tabs made %d rows:\n%s", len(lines), out)
	}
	if !strings.Contains(out, `fine\u000aQ2\u0009yes\u0009forged`) {
		t.Errorf("the note is not shown escaped:\n%s", out)
	}
	// Verbs keep their meaning: width, %q, %v of numbers and errors.
	if got := termsafe.Sprintf("[%-4s|%q|%05.1f|%v]", "ab", "x\x1b", 2.5, 7); got != `[ab  |"x\x1b"|002.5|7]` {
		t.Errorf("Sprintf = %s", got)
	}
}

func TestWriterKeepsJSONValidAndLayout(t *testing.T) {
	var raw bytes.Buffer
	enc := json.NewEncoder(&raw)
	enc.SetIndent("", "  ")
	in := map[string]string{"note": hostile + "\u0085\u00ad"}
	if err := enc.Encode(in); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := termsafe.NewWriter(&out)
	// Write byte by byte: a character cut between Writes is still whole.
	for _, b := range raw.Bytes() {
		if _, err := w.Write([]byte{b}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	checkClean(t, "json", out.String())
	var back map[string]string
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatalf("the escaped JSON is no longer JSON: %v\n%s", err, out.String())
	}
	// encoding/json turns the invalid byte into U+FFFD; every other
	// character decodes back to itself.
	if want := strings.ReplaceAll(in["note"], "\xff", "\ufffd"); back["note"] != want {
		t.Errorf("decoded note = %q, want %q", back["note"], want)
	}
	if !strings.Contains(out.String(), "{\n  \"note\"") {
		t.Errorf("newlines and indentation were escaped:\n%s", out.String())
	}
	// Multi-byte text split across Writes comes out unchanged.
	out.Reset()
	for _, b := range []byte("Zoë — ok\t1\n") {
		w.Write([]byte{b})
	}
	w.Flush()
	if out.String() != "Zoë — ok\t1\n" {
		t.Errorf("split UTF-8 = %q", out.String())
	}
	// A cut sequence that never completes is shown, not dropped.
	out.Reset()
	w.Write([]byte("x\xe2\x80"))
	w.Flush()
	if out.String() != `x\xe2\x80` {
		t.Errorf("dangling sequence = %q", out.String())
	}
}
