package interchange_test

import (
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
)

// Every row over a limit is reported in one pass, each with its line, and
// nothing is returned: an attribute over its length, a reference too long,
// an attribute and a note that are not UTF-8 (with line and column).
func TestReadCases_EveryRowOverALimitReportedAtOnce(t *testing.T) {
	long := strings.Repeat("x", 201)
	csv := "case_ref,pdu,inspector\n" +
		"T-1,Gwent,insp.a\n" + // line 2: fine
		"T-2," + long + ",insp.a\n" + // line 3: pdu over 200 bytes
		"T-3,Gw\xffent,insp.a\n" + // line 4: not UTF-8, from column 5
		strings.Repeat("R", 65) + ",Gwent,insp.a\n" + // line 5: case_ref over 64
		"T-5,Gwent,insp.a\n" // line 6: fine
	rows, err := interchange.ReadCases(strings.NewReader(csv))
	if err == nil {
		t.Fatalf("ReadCases accepted %d rows, want every bad row refused", len(rows))
	}
	msg := err.Error()
	for _, want := range []string{"3 bad row(s)",
		"line 3: case T-2: attribute pdu is 201 bytes, over the limit of 200",
		"line 4, column 5: pdu is not valid UTF-8 (byte 3 of the field)",
		"line 5: case_ref is 65 bytes, over the limit of 64"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if framework.ErrorCode(err) != framework.CodeInvalid {
		t.Errorf("code = %q, want invalid", framework.ErrorCode(err))
	}
}

// Invalid UTF-8 is refused with its line and column, never turned into
// U+FFFD; in a quoted field over two lines the line is where it starts.
func TestReadAnswers_InvalidUTF8GivesLineAndColumn(t *testing.T) {
	csv := "case_ref,question_id,answer,note\n" +
		"T-1,2.1.1,yes,fine\n" +
		"T-1,2.1.2,no,bad \xc3 byte\n" +
		"T-1,2.1.3,no,\"two\nlines \xff\"\n" +
		"T-1,2.1.4,no," + strings.Repeat("n", 8001) + "\n"
	_, err := interchange.ReadAnswers(strings.NewReader(csv))
	if err == nil {
		t.Fatal("ReadAnswers accepted invalid UTF-8")
	}
	for _, want := range []string{"3 bad row(s)",
		"line 3, column 14: note is not valid UTF-8 (byte 5 of the field)",
		"line 4, column 14: note is not valid UTF-8",
		"line 6: case T-1 question 2.1.4: note is 8001 bytes, over the limit of 8000"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.ContainsRune(err.Error(), '\uFFFD') {
		t.Errorf("error holds U+FFFD: %v", err)
	}
}

func TestReadJudgements_RationaleAndIDLimits(t *testing.T) {
	csv := "standard_id,rating,rationale\n" +
		"P1.1,Good," + strings.Repeat("r", 8001) + "\n" +
		"../P1.2,Good,fine\n"
	_, err := interchange.ReadJudgements(strings.NewReader(csv))
	if err == nil {
		t.Fatal("ReadJudgements accepted rows over the limits")
	}
	for _, want := range []string{"line 2: rationale is 8001 bytes, over the limit of 8000", `line 3: standard_id "../P1.2" may hold only`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// A spreadsheet's trailing empty column is still read as before; a header
// over the limits is refused at line 1 with its column.
func TestReadAnswers_HeaderLimits(t *testing.T) {
	if _, err := interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer,note,\nT-1,2.1.1,yes,,\n")); err != nil {
		t.Errorf("a trailing empty column: %v", err)
	}
	_, err := interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer,n\xffote\nT-1,2.1.1,yes,\n"))
	if want := "answers.csv: 1 bad row(s):\n  line 1, column 29: column 4 name is not valid UTF-8 (byte 2)"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	_, err = interchange.ReadAnswers(strings.NewReader("case_ref,question_id,answer" + strings.Repeat(",x", 200) + "\n"))
	if want := "answers.csv: 1 bad row(s):\n  line 1: 203 columns, over the limit of 128"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
