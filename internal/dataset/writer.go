package dataset

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// Writer writes the dataset's CSV a case at a time.
type Writer struct {
	cw    *csv.Writer
	fw    *framework.Framework
	opts  Options
	cols  []column
	rec   []string
	order map[string]int // question id → framework position
	stats Stats
}

// Stats count what a Writer wrote.
type Stats struct {
	Cases, Answers int
	// NoLongerApplies counts the answers that no longer apply (written as
	// such, counted in no figure).
	NoLongerApplies int
}

// NewWriter writes the header row and returns the writer of the rows.
func NewWriter(w io.Writer, fw *framework.Framework, opts Options) (*Writer, error) {
	cols := columns(fw, opts)
	d := &Writer{cw: csv.NewWriter(w), fw: fw, opts: opts, cols: cols, rec: make([]string, len(cols)), order: map[string]int{}}
	for i, q := range fw.Questions() {
		d.order[q.ID] = i
	}
	for i, c := range cols {
		d.rec[i] = c.f.Name // already CSVCell-safe (uniqueNames)
	}
	if err := d.cw.Write(d.rec); err != nil {
		return nil, err
	}
	return d, nil
}

// answer is one answer checked against the framework.
type answer struct {
	framework.DatasetAnswer
	value string // canonical: yes, no, na or digits
	stale bool   // no longer applies
}

// Write writes one case: a row, or (Long) a row per answer. An answer the
// framework cannot read (an unknown question or value: the server never
// stores one) fails the export, naming it, rather than being left out.
func (d *Writer) Write(c framework.DatasetCase) error {
	answers := make([]answer, 0, len(c.Answers))
	// Whether an answer counts can depend on the case's other answers
	// (rules on answers), so it is judged on the whole case.
	values := make(map[string]string, len(c.Answers))
	for _, a := range c.Answers {
		values[a.QuestionID] = a.Value
	}
	facts := framework.CaseFacts(c.Attributes, values)
	for _, a := range c.Answers {
		if _, ok := d.fw.Question(a.QuestionID); !ok {
			return fmt.Errorf("case %s of inspection %s: an answer to question %q, which framework %s v%d does not have",
				c.Ref, c.InspectionID, a.QuestionID, d.fw.ID, d.fw.Version)
		}
		v, err := framework.ParseValue(a.Value)
		if err != nil {
			return fmt.Errorf("case %s of inspection %s, question %s: %v", c.Ref, c.InspectionID, a.QuestionID, err)
		}
		x := answer{DatasetAnswer: a, value: v.String(), stale: d.fw.NoLongerApplies(facts, a.QuestionID, a.Value)}
		if x.stale {
			d.stats.NoLongerApplies++
		}
		answers = append(answers, x)
	}
	slices.SortFunc(answers, func(a, b answer) int { return d.order[a.QuestionID] - d.order[b.QuestionID] })
	d.stats.Cases++
	d.stats.Answers += len(answers)
	if d.opts.Long {
		for _, a := range answers {
			d.fill(c, nil, &a)
			if err := d.cw.Write(d.rec); err != nil {
				return err
			}
		}
		return nil
	}
	byID := make(map[string]*answer, len(answers))
	for i := range answers {
		byID[answers[i].QuestionID] = &answers[i]
	}
	d.fill(c, byID, nil)
	return d.cw.Write(d.rec)
}

// fill sets the record's cells for case c: the wide row from byID, or the
// long row of answer one. Every text that people typed goes through
// report.CSVCell; the answer values are fieldwork's own (yes, no, na,
// digits) and are written as they are, so a count stays a number.
func (d *Writer) fill(c framework.DatasetCase, byID map[string]*answer, one *answer) {
	for i, col := range d.cols {
		var s string
		switch col.kind {
		case colInspection:
			s = report.CSVCell(c.InspectionID)
		case colUnit:
			s = report.CSVCell(c.Unit)
		case colRef:
			s = report.CSVCell(c.Ref)
		case colStatus:
			s = report.CSVCell(string(c.Status))
		case colAttribute:
			s = report.CSVCell(c.Attributes[col.key])
		case colQuestion:
			if a := byID[col.key]; a == nil {
				s = ""
			} else if a.stale {
				s = NoLongerApplies
			} else {
				s = a.value
			}
		case colNote:
			if a := byID[col.key]; a != nil {
				s = report.CSVCell(a.Note)
			}
		case colQuestionID:
			s = one.QuestionID
		case colValue:
			s = one.value
		case colAnswerState:
			s = Counts
			if one.stale {
				s = NoLongerApplies
			}
		case colAnswerNote:
			s = report.CSVCell(one.Note)
		}
		d.rec[i] = s
	}
}

// Flush writes out what is buffered and returns the first write error.
func (d *Writer) Flush() error {
	d.cw.Flush()
	return d.cw.Error()
}

// Stats is what was written so far.
func (d *Writer) Stats() Stats { return d.stats }
