// Package interchange reads the CSV files fieldwork exchanges
// with people and other tools: cases.csv, answers.csv and judgements.csv
// (docs/frameworks.md and the README). Readers report every bad row, with its
// line number, not just the first. With the problems, a reader returns the
// rows it could read, each with its line: the server checks them against
// the framework too, so that one run reports every problem of the file.
package interchange

import (
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

// ReadCases reads cases.csv. Columns other than case_ref and inspector are
// case attributes, checked later against the framework.
func ReadCases(r io.Reader) ([]CaseRow, error) {
	var rows []CaseRow
	seen := map[string]int{}
	err := table("cases.csv", r, []string{"case_ref", "inspector"}, anyColumn, func(line int, f map[string]string, errs *RowErrors) {
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
	return rows, err
}

// ReadAnswers reads answers.csv. Values are checked later against the
// framework and each case's attributes.
func ReadAnswers(r io.Reader) ([]AnswerRow, error) {
	var rows []AnswerRow
	type key struct{ ref, q string }
	seen := map[key]int{}
	err := table("answers.csv", r, []string{"case_ref", "question_id", "answer"}, []string{"note"}, func(line int, f map[string]string, errs *RowErrors) {
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
	return rows, err
}

// ReadJudgements reads judgements.csv.
func ReadJudgements(r io.Reader) ([]JudgementRow, error) {
	var rows []JudgementRow
	seen := map[string]int{}
	err := table("judgements.csv", r, []string{"standard_id", "rating", "rationale"}, []string{}, func(line int, f map[string]string, errs *RowErrors) {
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
	return rows, err
}

// ReadFindings reads findings.csv: the lead's written judgements, one a
// row — kind (summary, strength, improvement or recommendation),
// standard_id (a strength's or improvement's standard, else empty) and
// text. Kinds, standards and text are checked against the framework when
// the rows are imported.
func ReadFindings(r io.Reader) ([]FindingRow, error) {
	var rows []FindingRow
	err := table("findings.csv", r, []string{"kind", "text"}, []string{"standard_id"}, func(line int, f map[string]string, errs *RowErrors) {
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
	return rows, err
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
