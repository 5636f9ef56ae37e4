// Package interchange reads and writes the CSV files fieldwork exchanges
// with people and other tools: cases.csv, answers.csv and judgements.csv
// (DESIGN.md "CSV interchange"). Readers report every bad row, with its
// line number, not just the first.
package interchange

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Limits on what one row may carry; longer text is refused, never cut.
const (
	MaxRefLen  = 64
	MaxNoteLen = 8000
	MaxRows    = 200000
)

var refPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)

// CheckRef validates a case reference: letters, digits and . _ / -, at most
// MaxRefLen long. References must never be names, so spaces are refused.
func CheckRef(ref string) error {
	if ref == "" {
		return errors.New("case_ref is empty")
	}
	if len(ref) > MaxRefLen {
		return fmt.Errorf("case_ref is longer than %d characters", MaxRefLen)
	}
	if !refPattern.MatchString(ref) {
		return fmt.Errorf("case_ref %q may hold only letters, digits and . _ / - (a reference, never a name)", ref)
	}
	return nil
}

// CheckNote validates an evidence note.
func CheckNote(note string) error {
	if !utf8.ValidString(note) {
		return errors.New("note is not valid UTF-8")
	}
	if len(note) > MaxNoteLen {
		return fmt.Errorf("note is longer than %d bytes", MaxNoteLen)
	}
	return nil
}

// CaseRow is one row of cases.csv.
type CaseRow struct {
	Line int
	Case framework.Case
}

// AnswerRow is one row of answers.csv.
type AnswerRow struct {
	Line       int
	CaseRef    string
	QuestionID string
	Value      string
	Note       string
}

// JudgementRow is one row of judgements.csv.
type JudgementRow struct {
	Line       int
	StandardID string
	Rating     string
	Rationale  string
}

// RowErrors collects the problems of a file, one per bad row.
type RowErrors struct {
	File     string
	Problems []string
}

// Add records a problem on a line.
func (e *RowErrors) Add(line int, format string, args ...any) {
	e.Problems = append(e.Problems, fmt.Sprintf("line %d: %s", line, fmt.Sprintf(format, args...)))
}

// Err returns nil when there were no problems, else an invalid-argument
// error listing them all.
func (e *RowErrors) Err() error {
	if len(e.Problems) == 0 {
		return nil
	}
	const show = 50
	list := e.Problems
	more := ""
	if len(list) > show {
		more = fmt.Sprintf("\n  … and %d more", len(list)-show)
		list = list[:show]
	}
	return framework.Errorf(framework.CodeInvalid, "%s: %d bad row(s):\n  %s%s", e.File, len(e.Problems), strings.Join(list, "\n  "), more)
}

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
	cols := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
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
		fields := make(map[string]string, len(header))
		for i, h := range header {
			fields[h] = strings.TrimSpace(rec[i])
		}
		row(line, fields, errs)
	}
	return errs.Err()
}

// ReadCases reads cases.csv. Columns other than case_ref and inspector are
// case attributes, checked later against the framework.
func ReadCases(r io.Reader) ([]CaseRow, error) {
	var rows []CaseRow
	seen := map[string]int{}
	err := table("cases.csv", r, []string{"case_ref", "inspector"}, func(line int, f map[string]string, errs *RowErrors) {
		ref := f["case_ref"]
		if err := CheckRef(ref); err != nil {
			errs.Add(line, "%v", err)
			return
		}
		if prev, dup := seen[ref]; dup {
			errs.Add(line, "case %s appears twice (first on line %d)", ref, prev)
			return
		}
		seen[ref] = line
		attrs := make(map[string]string, len(f))
		for k, v := range f {
			if k != "case_ref" && k != "inspector" {
				attrs[k] = v
			}
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
		if err := CheckRef(a.CaseRef); err != nil {
			errs.Add(line, "%v", err)
			return
		}
		if a.QuestionID == "" {
			errs.Add(line, "question_id is empty")
			return
		}
		if err := CheckNote(a.Note); err != nil {
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
		if j.StandardID == "" {
			errs.Add(line, "standard_id is empty")
			return
		}
		if err := CheckNote(j.Rationale); err != nil {
			errs.Add(line, "rationale: %v", err)
			return
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
