package framework

import (
	"fmt"
	"strconv"
	"strings"
)

// An answer's value and the checks on an answer: every path an answer
// takes (pushed ops, RecordAnswer, answers.csv, the client's offline store)
// calls CheckAnswer and CheckAnswerNote, so what one accepts the others
// accept too. The byte limits themselves are Fields in limits.go.

// Value is a parsed answer: yes, no, na, or a whole number.
type Value struct {
	Yes, No, NA bool
	IsCount     bool
	Count       int64
}

// ParseValue parses an answer as written in CSV files and on the wire.
// Case and surrounding space are ignored for yes/no/na ("N/A" is accepted).
func ParseValue(s string) (Value, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "y":
		return Value{Yes: true}, nil
	case "no", "n":
		return Value{No: true}, nil
	case "na", "n/a":
		return Value{NA: true}, nil
	case "":
		return Value{}, fmt.Errorf("empty value: the answer is yes, no, na or a whole number")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return Value{}, fmt.Errorf("value %q is not yes, no, na or a whole number", s)
	}
	return Value{IsCount: true, Count: n}, nil
}

// String returns the canonical form stored and sent: yes, no, na or digits.
func (v Value) String() string {
	switch {
	case v.Yes:
		return "yes"
	case v.No:
		return "no"
	case v.NA:
		return "na"
	default:
		return strconv.FormatInt(v.Count, 10)
	}
}

// CheckAnswer validates one answer for a case with the given facts: the
// question exists, the value has the question's type, and a question that
// does not apply to the case (or not yet) is answered only "na". The
// error (CodeInvalid) names the case, the question and the reason. Writes
// that arrive together (a pushed batch, a file) are judged on the facts of
// the case as they leave it.
func (f *Framework) CheckAnswer(caseRef string, c Facts, questionID, value string) (Value, error) {
	q, ok := f.questions[questionID]
	if !ok {
		if _, isStd := f.standards[questionID]; isStd {
			return Value{}, Errorf(CodeInvalid, "case %s question %s: %s is a standard, not a question", caseRef, questionID, questionID)
		}
		return Value{}, Errorf(CodeInvalid, "case %s question %s: unknown question in framework %s", caseRef, questionID, f.ID)
	}
	v, err := ParseValue(value)
	if err != nil {
		return Value{}, Errorf(CodeInvalid, "case %s question %s: %v", caseRef, questionID, err)
	}
	if !v.NA {
		switch q.Type {
		case TypeYesNo:
			if v.IsCount {
				return Value{}, Errorf(CodeInvalid, "case %s question %s: value %q not allowed: the answer is yes, no or na", caseRef, questionID, value)
			}
		case TypeCount:
			if !v.IsCount {
				return Value{}, Errorf(CodeInvalid, "case %s question %s: value %q not allowed: the answer is a whole number or na", caseRef, questionID, value)
			}
			if q.Min != nil && v.Count < *q.Min {
				return Value{}, Errorf(CodeInvalid, "case %s question %s: count %d is below the minimum %d", caseRef, questionID, v.Count, *q.Min)
			}
		}
	}
	if !f.Counts(q, c, v) {
		if st, why := f.Applies(q, c); st == NotYet {
			return Value{}, Errorf(CodeInvalid, "case %s question %s: not asked yet (%s); only na is allowed until then", caseRef, questionID, why)
		} else {
			return Value{}, Errorf(CodeInvalid, "case %s question %s: does not apply to this case (%s); only na is allowed", caseRef, questionID, why)
		}
	}
	return v, nil
}

// CheckAnswerTogether checks an answer pushed with others in one batch: it
// is accepted where CheckAnswer accepts it on the case as the batch leaves
// it, or on the case as it stands when it is written (the batch's earlier
// writes applied). So a dependent answer listed before the answer that
// makes it apply is accepted, and so is the order a device made its edits
// in offline — an answer, then a change to the answer it depends on —
// which leaves the first kept but no longer applying, exactly as if the
// device had synced between the two. The error returned is the one on the
// case as the batch leaves it.
func (f *Framework) CheckAnswerTogether(caseRef string, leaving, now Facts, questionID, value string) (Value, error) {
	v, err := f.CheckAnswer(caseRef, leaving, questionID, value)
	if err == nil || !f.AnswerConditions() {
		return v, err
	}
	if v2, err2 := f.CheckAnswer(caseRef, now, questionID, value); err2 == nil {
		return v2, nil
	}
	return v, err
}

// CheckAnswerNote checks an answer's evidence note, naming the case and
// question, for every path an answer takes: pushed ops, RecordAnswer,
// answers.csv and the client's offline store.
func CheckAnswerNote(caseRef, questionID, note string) error {
	if err := FieldNote.Check(note); err != nil {
		return Errorf(CodeInvalid, "case %s question %s: %v", caseRef, questionID, err)
	}
	return nil
}
