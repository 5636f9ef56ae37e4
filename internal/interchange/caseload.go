package interchange

import (
	"encoding/csv"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// StartDate is the caseload's optional column of the day each case's
// sentence or licence started (YYYY-MM-DD), by which fieldwork sample
// restricts the window; it is not a case attribute and is not written to
// the sample.
const StartDate = "start_date"

// CaseloadRow is one row of a caseload: a case that may be sampled.
type CaseloadRow struct {
	Line  int
	Case  framework.Case // no inspector: the sample allocates them
	Start time.Time      // zero when the file has no start_date or the cell is blank
}

// ReadCaseload reads a unit's caseload: cases.csv's columns without
// inspector, plus an optional start_date. check, when set, returns the
// problems of a row otherwise well formed (the framework's
// CheckAttributes, a start date the window needs), so
// that every bad row — format, duplicate, date or attribute — is reported
// in one pass.
func ReadCaseload(r io.Reader, check func(row CaseloadRow) []string) ([]CaseloadRow, error) {
	var rows []CaseloadRow
	seen := map[string]int{}
	headerChecked := false
	err := table("caseload", r, []string{"case_ref"}, anyColumn, func(line int, f map[string]string, errs *RowErrors) {
		if !headerChecked {
			headerChecked = true
			if _, ok := f["inspector"]; ok {
				errs.Add(1, "a caseload has no inspector column: the sample allocates the inspectors (--inspectors)")
			}
		}
		ref := f["case_ref"]
		if err := framework.FieldCaseRef.Check(ref); err != nil {
			errs.Add(line, "%v", err)
			return
		}
		if prev, dup := seen[ref]; dup {
			errs.Add(line, "case %s appears twice (first on line %d)", ref, prev)
			return
		}
		seen[ref] = line
		row := CaseloadRow{Line: line, Case: framework.Case{Ref: ref, Attributes: make(map[string]string, len(f))}}
		var bad []string
		for k, v := range f {
			switch k {
			case "case_ref", "inspector":
			case StartDate:
				if v == "" {
					continue
				}
				d, err := time.Parse(time.DateOnly, v)
				if err != nil {
					bad = append(bad, "start_date "+quoteClip(v)+" is not a date (YYYY-MM-DD)")
				}
				row.Start = d
			default:
				row.Case.Attributes[k] = v
				if err := framework.FieldAttributeValue.CheckAs("attribute "+k, v); err != nil {
					bad = append(bad, err.Error())
				}
			}
		}
		if len(bad) == 0 && check != nil {
			bad = check(row)
		}
		if len(bad) > 0 {
			slices.Sort(bad)
			errs.Add(line, "case %s: %s", ref, strings.Join(bad, "; "))
			return
		}
		rows = append(rows, row)
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func quoteClip(s string) string { return `"` + clip(s) + `"` }

// WriteCases writes cases.csv as ReadCases reads it: case_ref, inspector,
// then the attribute columns in the order given. Every cell is
// neutralised against spreadsheet formulas (report.CSVCell), as every
// CSV fieldwork writes: a free-text value starting with =, +, -, @, tab
// or carriage return gains a leading '. The output depends only on its
// input (no map order), so the same sample is the same bytes.
func WriteCases(w io.Writer, columns []string, cases []framework.Case) error {
	cw := csv.NewWriter(w)
	rec := append([]string{"case_ref", "inspector"}, columns...)
	for i := range rec {
		rec[i] = report.CSVCell(rec[i])
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	for _, c := range cases {
		rec = rec[:0]
		rec = append(rec, report.CSVCell(c.Ref), report.CSVCell(c.Inspector))
		for _, col := range columns {
			rec = append(rec, report.CSVCell(c.Attributes[col]))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
