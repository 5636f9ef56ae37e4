package interchange_test

import (
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/interchange"
)

// One pass reports every problem of a file, structural and value alike,
// each at the line an editor shows it on: a quote never closed at the line
// of the quote (not at the end of the file, where encoding/csv gives up),
// with the lines after it still read.
func TestRead_EveryProblemInOnePassAtItsLine(t *testing.T) {
	csv := "case_ref,question_id,answer,note\n" + // 1
		"GW-001,2.1.1,yes,fine\n" + // 2
		"GW-001,2.1.2,yes,\"the PO said so\n" + // 3: a quote never closed
		"GW-001,2.1.3,no,\n" + // 4
		strings.Repeat("R", 65) + ",2.1.4,yes,\n" + // 5: case_ref over 64
		"GW-001,2.1.5,no,\n" + // 6
		"GW-001,2.1.6,yes\n" + // 7: 3 fields
		"GW-001,2.1.7,no,\n" // 8
	rows, err := interchange.ReadAnswers(strings.NewReader(csv))
	if err == nil {
		t.Fatalf("ReadAnswers accepted %d rows", len(rows))
	}
	want := "answers.csv: 3 bad row(s):\n" +
		"  line 3, column 18: a quote (\") opens a field that is never closed; quote a whole field (\"…\"), and double a quote inside one (\"\")\n" +
		"  line 5: case_ref is 65 bytes, over the limit of 64\n" +
		"  line 7: has 3 fields, the header has 4"
	if err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

// Quotes that break one line only, an unknown column, a duplicate and a
// multi-line field before them: each reported where it is, in one error.
func TestRead_StrayQuotesUnknownColumnAndDuplicates(t *testing.T) {
	csv := "case_ref,question_id,answer,notes\n" + // 1: notes is not a column
		"GW-001,2.1.1,yes,\"two\nlines\"\n" + // 2–3: a quoted field over two lines, fine
		"GW-001,2.1.2,yes,he said \"no\"\n" + // 4: a bare quote
		"GW-001,2.1.3,yes,\"quoted\"x\n" + // 5: text after a closing quote
		"GW-001,2.1.1,no,\n" // 6: the same answer twice
	_, err := interchange.ReadAnswers(strings.NewReader(csv))
	if err == nil {
		t.Fatal("ReadAnswers accepted the file")
	}
	for _, want := range []string{"4 bad row(s)",
		`line 1: unknown column(s) "notes": answers.csv has the columns case_ref, question_id, answer, and optionally note`,
		"line 4, column 26: a stray quote",
		"line 5, column 25: a stray quote",
		"line 6: case GW-001 question 2.1.1 appears twice (first on line 2)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// A missing column leaves the values unchecked, never the structure.
	_, err = interchange.ReadFindings(strings.NewReader("kind,standard\nsummary,x\nstrength,P1,extra\n"))
	for _, want := range []string{"3 bad row(s)", "line 1: missing column(s) text", `line 1: unknown column(s) "standard"`, "line 3: has 3 fields, the header has 2"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("findings: error lacks %q:\n%v", want, err)
		}
	}
}
