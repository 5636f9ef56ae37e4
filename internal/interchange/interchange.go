// Package interchange reads the CSV files fieldwork exchanges
// with people and other tools: cases.csv, answers.csv and judgements.csv
// (docs/frameworks.md and the README). Readers report every bad row, with its
// line number, not just the first.
package interchange

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// MaxRows is the most rows a file may have. The limits on what a row's
// fields may hold are the framework's (framework.Field), shared with the
// server and the client's offline store.
const MaxRows = 200000

// The rows read, and the problems found, are the domain's: the server's
// store takes them without knowing CSV.
type (
	CaseRow      = framework.CaseRow
	AnswerRow    = framework.AnswerRow
	JudgementRow = framework.JudgementRow
	FindingRow   = framework.FindingRow
	RowErrors    = framework.RowErrors
)

// table reads a CSV file with a header, checks the required columns are
// present, and calls row for every record with its fields by column name.
func table(file string, r io.Reader, required []string, row func(line int, fields map[string]string, errs *RowErrors)) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return framework.Errorf(framework.CodeInvalid, "%s: the file is empty (a header line is required)", file)
	}
	if err != nil {
		return framework.Errorf(framework.CodeInvalid, "%s: %v", file, err)
	}
	header = slices.Clone(header)
	if len(header) > framework.MaxColumns {
		return framework.Errorf(framework.CodeInvalid, "%s: line 1: %d columns, over the limit of %d", file, len(header), framework.MaxColumns)
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if err := framework.FieldColumn.CheckAs(fmt.Sprintf("column %d name", i+1), h); err != nil {
			line, col := cr.FieldPos(i)
			return framework.Errorf(framework.CodeInvalid, "%s: line %d, column %d: %v", file, line, col, err)
		}
		header[i] = h
		if _, dup := cols[h]; dup {
			return framework.Errorf(framework.CodeInvalid, "%s: line 1: column %q appears twice", file, h)
		}
		cols[h] = i
	}
	var missing []string
	for _, c := range required {
		if _, ok := cols[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return framework.Errorf(framework.CodeInvalid, "%s: line 1: missing column(s) %s (want %s)", file, strings.Join(missing, ", "), strings.Join(required, ","))
	}
	errs := &RowErrors{File: file}
	n := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				errs.Add(pe.Line, "%v", pe.Err)
				if pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote {
					break // the reader cannot find the next row reliably
				}
				continue
			}
			return framework.Errorf(framework.CodeInvalid, "%s: %v", file, err)
		}
		line, _ := cr.FieldPos(0) // only valid after a successful Read
		if n++; n > MaxRows {
			errs.Add(line, "more than %d rows", MaxRows)
			break
		}
		if len(rec) != len(header) {
			errs.Add(line, "has %d fields, the header has %d", len(rec), len(header))
			continue
		}
		if !validUTF8(cr, file, header, rec, errs) {
			continue
		}
		fields := make(map[string]string, len(header))
		for i, h := range header {
			fields[h] = strings.TrimSpace(rec[i])
		}
		row(line, fields, errs)
	}
	return errs.Err()
}

// validUTF8 reports whether every field of rec is valid UTF-8, recording
// where each one that is not starts (encoding/csv passes the bytes through;
// left alone they would become U+FFFD when stored as JSON).
func validUTF8(cr *csv.Reader, file string, header, rec []string, errs *RowErrors) bool {
	ok := true
	for i, v := range rec {
		if at := framework.InvalidUTF8(v); at >= 0 {
			line, col := cr.FieldPos(i)
			errs.Problems = append(errs.Problems, fmt.Sprintf("line %d, column %d: %s is not valid UTF-8 (byte %d of the field)", line, col, header[i], at+1))
			ok = false
		}
	}
	return ok
}

// ReadCases reads cases.csv. Columns other than case_ref and inspector are
// case attributes, checked later against the framework.
func ReadCases(r io.Reader) ([]CaseRow, error) {
	var rows []CaseRow
	seen := map[string]int{}
	err := table("cases.csv", r, []string{"case_ref", "inspector"}, func(line int, f map[string]string, errs *RowErrors) {
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
		attrs := make(map[string]string, len(f))
		var bad []string
		for k, v := range f {
			if k != "case_ref" && k != "inspector" {
				attrs[k] = v
				if err := framework.FieldAttributeValue.CheckAs("attribute "+k, v); err != nil {
					bad = append(bad, err.Error())
				}
			}
		}
		if len(bad) > 0 {
			slices.Sort(bad)
			errs.Add(line, "case %s: %s", ref, strings.Join(bad, "; "))
			return
		}
		rows = append(rows, CaseRow{Line: line, Case: framework.Case{Ref: ref, Inspector: f["inspector"], Attributes: attrs}})
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// ReadAnswers reads answers.csv. Values are checked later against the
// framework and each case's attributes.
func ReadAnswers(r io.Reader) ([]AnswerRow, error) {
	var rows []AnswerRow
	type key struct{ ref, q string }
	seen := map[key]int{}
	err := table("answers.csv", r, []string{"case_ref", "question_id", "answer"}, func(line int, f map[string]string, errs *RowErrors) {
		a := AnswerRow{Line: line, CaseRef: f["case_ref"], QuestionID: f["question_id"], Value: f["answer"], Note: f["note"]}
		if err := framework.FieldCaseRef.Check(a.CaseRef); err != nil {
			errs.Add(line, "%v", err)
			return
		}
		if err := framework.FieldID.CheckAs("question_id", a.QuestionID); err != nil {
			errs.Add(line, "%v", err)
			return
		}
		if err := framework.CheckAnswerNote(a.CaseRef, a.QuestionID, a.Note); err != nil {
			errs.Add(line, "%v", err)
			return
		}
		k := key{a.CaseRef, a.QuestionID}
		if prev, dup := seen[k]; dup {
			errs.Add(line, "case %s question %s appears twice (first on line %d)", a.CaseRef, a.QuestionID, prev)
			return
		}
		seen[k] = line
		rows = append(rows, a)
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// ReadJudgements reads judgements.csv.
func ReadJudgements(r io.Reader) ([]JudgementRow, error) {
	var rows []JudgementRow
	seen := map[string]int{}
	err := table("judgements.csv", r, []string{"standard_id", "rating", "rationale"}, func(line int, f map[string]string, errs *RowErrors) {
		j := JudgementRow{Line: line, StandardID: f["standard_id"], Rating: f["rating"], Rationale: f["rationale"]}
		for _, err := range []error{framework.FieldID.CheckAs("standard_id", j.StandardID), framework.FieldRating.Check(j.Rating),
			framework.FieldRationale.Check(j.Rationale)} {
			if err != nil {
				errs.Add(line, "%v", err)
				return
			}
		}
		if prev, dup := seen[j.StandardID]; dup {
			errs.Add(line, "standard %s appears twice (first on line %d)", j.StandardID, prev)
			return
		}
		seen[j.StandardID] = line
		rows = append(rows, j)
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// ReadFindings reads findings.csv: the lead's written judgements, one a
// row — kind (summary, strength, improvement or recommendation),
// standard_id (a strength's or improvement's standard, else empty) and
// text. Kinds, standards and text are checked against the framework when
// the rows are imported.
func ReadFindings(r io.Reader) ([]FindingRow, error) {
	var rows []FindingRow
	err := table("findings.csv", r, []string{"kind", "text"}, func(line int, f map[string]string, errs *RowErrors) {
		w := FindingRow{Line: line, Kind: framework.WrittenKind(strings.TrimSpace(f["kind"])), StandardID: strings.TrimSpace(f["standard_id"]), Text: f["text"]}
		if !slices.Contains(framework.WrittenKinds(), w.Kind) {
			errs.Add(line, "kind %q is not one of summary, strength, improvement, recommendation", clip(string(w.Kind)))
			return
		}
		if w.StandardID != "" {
			if err := framework.FieldID.CheckAs("standard_id", w.StandardID); err != nil {
				errs.Add(line, "%v", err)
				return
			}
		}
		if err := framework.FieldWrittenText.CheckAs("text", w.Text); err != nil {
			errs.Add(line, "%v", err)
			return
		}
		rows = append(rows, w)
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
