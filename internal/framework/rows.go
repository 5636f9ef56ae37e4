package framework

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The rows of the files an inspection is loaded from (cases.csv,
// answers.csv, judgements.csv), with their line numbers, as
// internal/interchange reads them and the server's store imports them.

// CaseRow is one row of cases.csv.
type CaseRow struct {
	Line int
	Case Case
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

// RowErrors collects the problems of a file, one per bad row, each at its
// line; the reader's (internal/interchange) and the server's checks against
// the framework (internal/store) report into the same list, so that a
// person learns every problem of a file in one run (Merge).
type RowErrors struct {
	File     string
	Problems []RowProblem
	Note     string // said after the list, when there are problems
}

// RowProblem is one problem of a file: at a line as an editor counts them
// (0: the file as a whole) and, where it is known, a column (0: none).
type RowProblem struct {
	Line, Column int
	Text         string
}

func (p RowProblem) String() string {
	switch {
	case p.Line == 0:
		return p.Text
	case p.Column > 0:
		return fmt.Sprintf("line %d, column %d: %s", p.Line, p.Column, p.Text)
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Text)
}

// Add records a problem on a line.
func (e *RowErrors) Add(line int, format string, args ...any) {
	e.AddAt(line, 0, format, args...)
}

// AddAt records a problem at a line and column.
func (e *RowErrors) AddAt(line, column int, format string, args ...any) {
	e.Problems = append(e.Problems, RowProblem{Line: line, Column: column, Text: fmt.Sprintf(format, args...)})
}

// Merge adds the problems o found in the same file.
func (e *RowErrors) Merge(o *RowErrors) {
	if o != nil {
		e.Problems = append(e.Problems, o.Problems...)
	}
}

// Err returns nil when there were no problems, else an invalid-argument
// error listing them all in line order (those of one line in the order
// found), from which RowProblemsOf gets them back.
func (e *RowErrors) Err() error {
	if len(e.Problems) == 0 {
		return nil
	}
	sorted := &RowErrors{File: e.File, Problems: slices.Clone(e.Problems), Note: e.Note}
	slices.SortStableFunc(sorted.Problems, func(a, b RowProblem) int { return cmp.Compare(a.Line, b.Line) })
	const show = 50
	list := make([]string, 0, min(len(sorted.Problems), show))
	for _, p := range sorted.Problems[:min(len(sorted.Problems), show)] {
		list = append(list, p.String())
	}
	more := ""
	if len(sorted.Problems) > show {
		more = fmt.Sprintf("\n  … and %d more", len(sorted.Problems)-show)
	}
	msg := fmt.Sprintf("%s: %d bad row(s):\n  %s%s", e.File, len(sorted.Problems), strings.Join(list, "\n  "), more)
	if e.Note != "" {
		msg += "\n" + e.Note
	}
	return &Error{Code: CodeInvalid, Message: msg, rows: sorted}
}

// RowProblemsOf returns the problems of the file err lists (made by
// RowErrors.Err, anywhere in err's chain), or nil when err is not about a
// file's rows: an internal error, or a refusal whatever the rows (an
// inspection locked or not found).
func RowProblemsOf(err error) *RowErrors {
	var e *Error
	if !errors.As(err, &e) || e.rows == nil {
		return nil
	}
	return &RowErrors{File: e.rows.File, Problems: slices.Clone(e.rows.Problems), Note: e.rows.Note}
}

// FindingRow is one row of findings.csv: a written judgement (written.go).
type FindingRow struct {
	Line       int
	Kind       WrittenKind
	StandardID string
	Text       string
}

// Op is the write the row asks for; a row other than the summary is a new
// item, whose id the importer makes.
func (r FindingRow) Op() WrittenOp {
	w := WrittenOp{Kind: r.Kind, StandardID: r.StandardID, Text: r.Text}
	if r.Kind == WrittenSummary {
		w.ItemID = SummaryItemID
	}
	return w
}
