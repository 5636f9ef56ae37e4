package interchange_test

import (
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/interchange"
)

// A byte-order mark before a quoted header (a spreadsheet that quotes
// every field and saves "CSV UTF-8") is not part of the first field:
// the file reads as without it. Before, encoding/csv saw the mark as text
// before the quote and the header "cannot be read: bare \" in
// non-quoted-field".
func TestRead_BOMBeforeAQuotedHeader(t *testing.T) {
	rows, err := interchange.ReadAnswers(strings.NewReader("\ufeff\"case_ref\",\"question_id\",\"answer\",\"note\"\r\n\"GW-001\",\"2.1.1\",\"yes\",\"\"\r\n"))
	if err != nil || len(rows) != 1 || rows[0].CaseRef != "GW-001" {
		t.Fatalf("ReadAnswers = %+v, %v; want GW-001's one answer", rows, err)
	}
	// Its lines and columns are an editor's, which does not show the mark.
	_, err = interchange.ReadAnswers(strings.NewReader("\ufeff\"case_ref\",\"question\",\"answer\"\nGW-001,2.1.1,yes\n"))
	if err == nil || !strings.Contains(err.Error(), "line 1: missing column(s) question_id") {
		t.Errorf("a BOM'd header lacking question_id: %v", err)
	}
}

// A quote opened on the last line and never closed, with no line break
// after it, is the same mistake as on any other line: said so at the
// quote's column. Before, with nothing after it to run on through, it was
// called a stray quote at the end of the line.
func TestRead_QuoteNeverClosedOnTheLastLine(t *testing.T) {
	_, err := interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer,note\nGW-001,2.1.1,yes,\nGW-001,2.1.2,yes,\"no"))
	want := "line 3, column 18: a quote (\") opens a field that is never closed"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error: %v\nwant %s", err, want)
	}
	// A quoted field with text after its closing quote on the last line is
	// still a stray quote where the text is.
	_, err = interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer,note\nGW-001,2.1.2,yes,\"no\"x"))
	if want := "line 2, column 21: a stray quote"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error: %v\nwant %s", err, want)
	}
}
