package interchange

import (
	"bytes"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

func TestReadCaseloadReportsEveryBadRow(t *testing.T) {
	in := "case_ref,sex,start_date\n" +
		"C1,male,2025-01-06\n" +
		"C2,male,06/01/2025\n" + // line 3: not ISO
		"C1,female,\n" + // line 4: duplicate
		"bad ref,male,\n" + // line 5
		"C5,martian,2025-02-01\n" + // line 6: the check's problem
		"C6,female\n" + // line 7: short
		"C7,female,\n"
	check := func(r CaseloadRow) []string {
		if r.Case.Attributes["sex"] == "martian" {
			return []string{`sex "martian" is not one of male, female`}
		}
		return nil
	}
	_, err := ReadCaseload(strings.NewReader(in), check)
	if err == nil {
		t.Fatal("bad caseload accepted")
	}
	for _, want := range []string{"5 bad row(s)", "line 3: case C2: start_date \"06/01/2025\" is not a date", "line 4: case C1 appears twice (first on line 2)",
		"line 5: case_ref", "line 6: case C5: sex \"martian\"", "line 7: has 2 fields"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	rows, err := ReadCaseload(strings.NewReader("case_ref,sex,start_date\nC1,male,2025-01-06\nC2,female,\n"), check)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Start.Format("2006-01-02") != "2025-01-06" || !rows[1].Start.IsZero() || rows[1].Line != 3 {
		t.Errorf("rows %+v", rows)
	}
	if _, ok := rows[0].Case.Attributes[StartDate]; ok {
		t.Error("start_date kept as an attribute")
	}
	if _, err := ReadCaseload(strings.NewReader("case_ref,inspector\nC1,ann\n"), nil); err == nil || !strings.Contains(err.Error(), "line 1: a caseload has no inspector column") {
		t.Errorf("inspector column: %v", err)
	}
}

func TestWriteCasesReadsBack(t *testing.T) {
	cases := []framework.Case{
		{Ref: "C1", Inspector: "ann", Attributes: map[string]string{"sex": "male", "pdu": "North, \"East\""}},
		{Ref: "C2", Inspector: "bo", Attributes: map[string]string{"sex": "female", "pdu": "=HYPERLINK(\"x\")"}},
	}
	var buf bytes.Buffer
	if err := WriteCases(&buf, []string{"sex", "pdu"}, cases); err != nil {
		t.Fatal(err)
	}
	want := "case_ref,inspector,sex,pdu\nC1,ann,male,\"North, \"\"East\"\"\"\nC2,bo,female,\"'=HYPERLINK(\"\"x\"\")\"\n"
	if buf.String() != want {
		t.Errorf("wrote\n%s\nwant\n%s", buf.String(), want)
	}
	rows, err := ReadCases(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Case.Attributes["pdu"] != `North, "East"` || rows[1].Case.Inspector != "bo" {
		t.Errorf("read back %+v", rows)
	}
}
