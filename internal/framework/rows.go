package framework

import (
	"fmt"
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
	return Errorf(CodeInvalid, "%s: %d bad row(s):\n  %s%s", e.File, len(e.Problems), strings.Join(list, "\n  "), more)
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
