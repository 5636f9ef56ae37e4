package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/agreement"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// handPairs is docs/agreement.md's worked example (agreement's
// TestCompute_HandExample), insp.bell renamed to hostile text.
func handPairs(bell string) []framework.MarkingPair {
	p := func(ref, q, first, a, b string) framework.MarkingPair {
		return framework.MarkingPair{CaseRef: ref, QuestionID: q, FirstMarker: first, First: a, SecondMarker: "qa.quinn", Second: b}
	}
	return []framework.MarkingPair{
		p("A1", "2.1.1", "insp.ahmed", "yes", "yes"), p("A2", "2.1.1", "insp.ahmed", "yes", "no"), p("A3", "2.1.1", "insp.ahmed", "no", "no"),
		p("B1", "2.1.1", bell, "yes", "yes"), p("B2", "2.1.1", bell, "na", "na"),
		p("A1", "2.1.2", "insp.ahmed", "yes", "yes"), p("A2", "2.1.2", "insp.ahmed", "yes", "yes"), p("A3", "2.1.2", "insp.ahmed", "yes", "yes"),
		p("B1", "2.1.2", bell, "no", "yes"), p("B2", "2.1.2", bell, "yes", "yes"),
		// Both markers gave yes on the one case of 2.1.3: kappa not defined.
		p("A1", "2.1.3", "insp.ahmed", "yes", "yes"),
	}
}

func agreementReport(t *testing.T, bell string) (*aggregate.Report, *framework.Framework) {
	t.Helper()
	r, fw := gwentReport(t)
	r.Agreement = agreement.Compute(fw, handPairs(bell), agreement.Options{Threshold: 0.7,
		Amendments: map[string]agreement.Amendments{"insp.ahmed": {Submitted: 198, Amended: 4}}})
	return r, fw
}

func TestAgreementJSON(t *testing.T) {
	r, _ := agreementReport(t, "insp.bell")
	var b bytes.Buffer
	if err := report.JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var d struct {
		Cases     int `json:"cases"`
		Agreement struct {
			Threshold    float64        `json:"threshold"`
			KeyQuestions map[string]any `json:"key_questions"`
			Questions    []map[string]any
			Inspectors   []map[string]any
		}
	}
	if err := json.Unmarshal(b.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	a := d.Agreement
	if d.Cases == 0 || a.Threshold != 0.7 || a.KeyQuestions["pairs"] != 11.0 || a.KeyQuestions["agree"] != 9.0 || a.KeyQuestions["percent"] != 82.0 {
		t.Errorf("report or key-question figure wrong: cases %d, %+v", d.Cases, a.KeyQuestions)
	}
	byID := map[string]map[string]any{}
	for _, q := range a.Questions {
		byID[q["question_id"].(string)] = q
	}
	if q := byID["2.1.1"]; q["kappa"] != 0.6875 || q["ac1"] != 0.7101 || q["percent"] != 80.0 || q["kind"] != "key" {
		t.Errorf("2.1.1 = %+v, want kappa 0.6875, AC1 0.7101, 80%%", q)
	}
	if q := byID["2.1.3"]; q["kappa"] != nil || q["kappa_ci95"] != nil || q["kappa_undefined"] != agreement.OneSameValue || q["ac1"] != 1.0 {
		t.Errorf("2.1.3 = %+v, want kappa null with its reason and AC1 1", q)
	}
	if q := byID["2.2.1"]; q["percent"] != nil || q["ac1"] != nil || q["ac1_undefined"] != agreement.NoPairs || q["flagged"] != false {
		t.Errorf("2.2.1 (no pairs) = %+v", q)
	}
	if strings.Contains(b.String(), "NaN") {
		t.Error("NaN in the JSON")
	}
	if len(a.Inspectors) != 2 || a.Inspectors[0]["amended_percent"] != 2.0 || a.Inspectors[1]["flagged"] != true || a.Inspectors[1]["amended_percent"] != nil {
		t.Errorf("inspectors = %+v", a.Inspectors)
	}
	// Not asked for: absent.
	r.Agreement = nil
	b.Reset()
	if err := report.JSON(&b, r); err != nil || strings.Contains(b.String(), `"agreement"`) {
		t.Errorf("agreement in a report that did not ask for it (%v)", err)
	}
}

// A report holding only its reader's own figures shows nothing else, not
// even as zeros: JSON and terminal.
func TestAgreementOnly_ShowsNoOtherFigure(t *testing.T) {
	_, fw := gwentReport(t)
	own := &aggregate.Report{InspectionID: "i-1", InspectionName: "Gwent", FrameworkID: fw.ID, FrameworkVersion: fw.Version, AgreementOnly: true,
		Agreement: agreement.Compute(fw, handPairs("insp.bell")[:3], agreement.Options{Threshold: 0.6})}
	own.Agreement.OnlyInspector = "insp.ahmed"
	var b bytes.Buffer
	if err := report.JSON(&b, own); err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"cases", "key_questions", "questions", "standards", "score", "completeness"} {
		if _, ok := d[k]; ok {
			t.Errorf("agreement-only JSON has %q", k)
		}
	}
	if d["agreement_only"] != true || d["agreement"].(map[string]any)["only_inspector"] != "insp.ahmed" {
		t.Errorf("agreement-only JSON = %s", b.String())
	}
	b.Reset()
	if err := report.Terminal(&b, own); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "Ratings grid") || strings.Contains(out, "cases —") || !strings.Contains(out, "Your own cases only (insp.ahmed)") {
		t.Errorf("agreement-only terminal report:\n%s", out)
	}
}

func TestAgreementTerminal(t *testing.T) {
	r, _ := agreementReport(t, "insp.\x1b[31mbell")
	var b bytes.Buffer
	if err := report.Terminal(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	i := strings.Index(out, "Agreement of second marking")
	if i < 0 {
		t.Fatalf("no agreement section:\n%s", out)
	}
	sec := out[i:]
	for _, want := range []string{"FLAGGED: AC1 below 0.70", "0.688 (", "0.710 (", "not defined*", "2% (4 of 198 submitted answers)", "insp.\\u001b[31mbell"} {
		if !strings.Contains(sec, want) {
			t.Errorf("agreement section lacks %q:\n%s", want, sec)
		}
	}
	if strings.Contains(sec, "\x1b") {
		t.Error("a terminal escape reached the terminal")
	}
	if strings.Contains(sec, "2.1.1a") {
		t.Error("a prompt nobody double-marked has a row")
	}
}

// The annexe: an "agreement" sheet in the XLSX (coefficients as numbers,
// names as strings), the CSV cell rule on names, an HTML table escaped.
func TestAgreementAnnexe(t *testing.T) {
	r, fw := agreementReport(t, "=HYPERLINK(\"http://x\")<script>")
	var buf bytes.Buffer
	if err := report.ExportXLSX(&buf, r, fw); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("agreement", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatalf("no agreement sheet: %v (sheets %v)", err, f.GetSheetList())
	}
	if len(rows) < 6 || rows[4][0] != "Figure" || rows[4][6] != "Kappa" || rows[5][0] != "all key questions" { // under the title block
		t.Fatalf("agreement sheet's headings and first row: %v", rows)
	}
	var kappa211, bellRow string
	for ri, row := range rows {
		if len(row) > 6 && row[1] == "2.1.1" {
			kappa211 = row[6]
			cell, _ := excelize.CoordinatesToCellName(7, ri+1)
			typ, _ := f.GetCellType("agreement", cell)
			if typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
				t.Error("kappa written as text")
			}
		}
		if len(row) > 1 && strings.HasPrefix(row[1], "=HYPERLINK") {
			bellRow = row[1]
		}
	}
	if kappa211 != "0.688" {
		t.Errorf("2.1.1 kappa cell %q, want 0.688", kappa211)
	}
	if bellRow == "" {
		t.Error("the hostile inspector name is not kept as text")
	}
	if fs, _ := f.GetCellFormula("agreement", "B2"); fs != "" {
		t.Error("a formula in the agreement sheet")
	}

	var tbl report.Table
	for _, tb := range report.Tables(r) {
		if tb.Name == "agreement" {
			tbl = tb
		}
	}
	var csv bytes.Buffer
	if err := report.WriteCSV(&csv, tbl); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv.String(), `'=HYPERLINK`) || !strings.Contains(csv.String(), ",0.688,") {
		t.Errorf("agreement CSV:\n%s", csv.String())
	}

	var page bytes.Buffer
	if err := report.ExportHTML(&page, r, fw); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), `<h2 id="agreement">`) || strings.Contains(page.String(), "<script>") {
		t.Error("HTML annexe: no agreement table, or the name not escaped")
	}
}
