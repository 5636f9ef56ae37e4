package framework

import (
	"fmt"
	"slices"
	"time"
)

// Second marking (docs/qa.md): the lead selects cases for QA, a QA marker
// marks each selected case again, apart from the case's answers, and the
// two markings are moderated into the case's answer. This file holds what
// a selection and a marking are and who may write one; who may see which
// marking's values is CanSeeMarkingValues (access.go).

// MarkingSide is one of a double-marked case's two markings.
type MarkingSide int

// The two markings: the case's own answers (its inspector's), and the QA
// marker's second marking.
const (
	FirstMarking MarkingSide = iota + 1
	SecondMarking
)

// MarkingStatus is where a second marking is: open until its QA marker
// submits it (its own status, not the case's).
type MarkingStatus string

// Second marking statuses.
const (
	MarkingOpen      MarkingStatus = "in_progress"
	MarkingSubmitted MarkingStatus = "submitted"
)

// QASelection is one case selected for second marking, and where its
// marking is.
type QASelection struct {
	InspectionID string
	CaseRef      string
	// QA is the user who marks the case a second time.
	QA         string
	SelectedBy string
	SelectedAt time.Time
	Status     MarkingStatus
	// SubmittedBy and SubmittedAt are set once the marking is submitted.
	SubmittedBy string
	SubmittedAt time.Time
	// Lifted: both markings have been submitted (the case, and the second
	// marking), so the blind is over for good (CanSeeMarkingValues).
	Lifted bool
	// Answered counts the marking's answers (for listings).
	Answered int
	// FirstHidden is for the user it is sent to: they may not see the
	// case's first marking yet (CanSeeMarkingValues), so their laptop
	// drops whatever it holds of it (answers pulled before the selection).
	FirstHidden bool
}

// MarkingOp, set on an op, makes it a write of the case's second marking
// instead of its answers: CaseRef, QuestionID, Value, Note, BaseRevision,
// Supersedes and ConflictID are then the marking's. With Submit, the op
// submits the second marking (QuestionID, Value and Note empty).
type MarkingOp struct {
	Submit bool
}

// FirstSubmitted says whether a case's own marking counts as submitted for
// the blind: submitted, QA-checked or locked.
func FirstSubmitted(s CaseStatus) bool {
	return s == CaseSubmitted || s == CaseQAChecked || s == CaseLocked
}

// CheckQASelect decides whether someone with role (EffectiveRole) may
// select cases of an inspection for second marking, with qa the chosen
// marker and qaRole their role on the team ("" when not on it): only the
// lead selects, and the marker must be on the team as QA or lead.
func CheckQASelect(role Role, inspectionID, qa string, qaRole Role) error {
	if !CanLead(role) {
		return Errorf(CodePermission, "only the lead inspector of inspection %s selects cases for QA", inspectionID)
	}
	if qaRole != RoleQA && qaRole != RoleLead {
		what := "not on the team"
		if qaRole != "" {
			what = "on the team as " + string(qaRole)
		}
		return Errorf(CodeInvalid, "user %q is %s of inspection %s: a second marker must be on the team as qa (or lead)", clip(qa), what, inspectionID)
	}
	return nil
}

// NotSelectedError is what a write to the second marking of a case not
// selected for QA (or not selected for the caller) is told.
func NotSelectedError(inspectionID, caseRef string) error {
	return Errorf(CodePrecondition, "case %s of inspection %s is not selected for your second marking", caseRef, inspectionID)
}

// CheckMarkingWrite decides whether user may write (or submit) the second
// marking of a case now: only its QA marker, in an inspection not locked
// (CheckWritable), while the marking is not submitted. sel is the case's
// selection (nil when it has none). It is asked after the caller was
// found to see the case (CanSeeCase), so its words may name the case.
func CheckMarkingWrite(user, inspectionID, caseRef string, inspStatus InspectionStatus, sel *QASelection) error {
	if err := CheckWritable(inspectionID, inspStatus, "", ""); err != nil {
		return err
	}
	if sel == nil || sel.QA != user {
		return NotSelectedError(inspectionID, caseRef)
	}
	if sel.Status == MarkingSubmitted {
		return Errorf(CodePrecondition, "the second marking of case %s is submitted: it is not changed any more", caseRef)
	}
	return nil
}

// CheckMarkingSubmit is the rule for submitting a second marking: every
// applicable question answered, judged on the marking's own answers and
// the case's attributes (Missing).
func (f *Framework) CheckMarkingSubmit(caseRef string, facts Facts) error {
	if missing := f.Missing(facts); len(missing) > 0 {
		return Errorf(CodePrecondition, "the second marking of case %s cannot be submitted: %d applicable question(s) unanswered: %s",
			caseRef, len(missing), joinIDs(missing))
	}
	return nil
}

func joinIDs(ids []string) string {
	out := ""
	for i, id := range ids {
		if i > 0 {
			out += ", "
		}
		out += id
	}
	return out
}

// checkMarkingOp checks an op on a second marking: an answer write names a
// case and question like any answer op; a submission names the case only.
func checkMarkingOp(op Op) error {
	if op.Written != nil || op.Status != nil {
		return Errorf(CodeInvalid, "an op writes one thing: a second marking, a written item or a case status")
	}
	if !op.Marking.Submit {
		return nil
	}
	if op.QuestionID != "" || op.Value != "" || op.Note != "" || len(op.Supersedes) > 0 || op.ConflictID != "" || op.Resolution != "" || op.BaseRevision != 0 {
		return Errorf(CodeInvalid, "an op that submits a second marking names no question_id, value, note, base_revision, supersedes, conflict_id or resolution")
	}
	for _, c := range []struct {
		f    Field
		name string
		s    string
	}{{FieldInspectionID, "inspection_id", op.InspectionID}, {FieldCaseRef, "case_ref", op.CaseRef}} {
		if err := c.f.CheckAs(c.name, c.s); err != nil {
			return err
		}
	}
	return checkSyncFields(op)
}

// QAShare is how many of an inspector's n cases a share (percent, 1 to
// 100) selects: rounded up, and at least one of an inspector who has any.
func QAShare(n, share int) int {
	if n == 0 {
		return 0
	}
	k := (n*share + 99) / 100
	return max(1, min(k, n))
}

// CheckQAShare checks a share asked for.
func CheckQAShare(share int) error {
	if share < 1 || share > 100 {
		return Errorf(CodeInvalid, "share %d is not a percentage from 1 to 100", share)
	}
	return nil
}

// Disagreement is one question on which a double-marked case's two
// markings differ (or one of them has no answer), for moderation.
type Disagreement struct {
	QuestionID    string
	First, Second *Answer // nil: that marking has no answer
	Decided       *Moderation
}

// Moderation is the agreed answer recorded for one question of a
// double-marked case: which side was taken (first, second, or a new
// value), by whom and when; both markings stay as they were.
type Moderation struct {
	CaseRef, QuestionID string
	// Take is first, second or value.
	Take      string
	Value     string
	Note      string
	First     string // the first marking's value when decided ("" for none)
	Second    string // the second marking's value when decided
	DecidedBy string
	DecidedAt time.Time
	Revision  int64 // the case answer's revision the decision wrote
}

// Moderation choices.
const (
	TakeFirst  = "first"
	TakeSecond = "second"
	TakeValue  = "value"
)

// Disagreements lists, in framework order, every question that applies to
// either marking on which the two differ in value (notes are evidence, not
// the answer). first and second map question id → answer.
func (f *Framework) Disagreements(attrs map[string]string, first, second map[string]Answer) []Disagreement {
	vals := func(m map[string]Answer) map[string]string {
		out := map[string]string{}
		for k, a := range m {
			out[k] = a.Value
		}
		return out
	}
	a1 := f.Applicable(CaseFacts(attrs, vals(first)))
	a2 := f.Applicable(CaseFacts(attrs, vals(second)))
	applies := map[string]bool{}
	for _, q := range a1 {
		applies[q.ID] = true
	}
	for _, q := range a2 {
		applies[q.ID] = true
	}
	var out []Disagreement
	for _, q := range f.Questions() {
		if !applies[q.ID] {
			continue
		}
		x, okx := first[q.ID]
		y, oky := second[q.ID]
		if okx && oky && x.Value == y.Value {
			continue
		}
		if !okx && !oky {
			continue
		}
		d := Disagreement{QuestionID: q.ID}
		if okx {
			d.First = &x
		}
		if oky {
			d.Second = &y
		}
		out = append(out, d)
	}
	return out
}

// CheckModeration checks a moderation choice against the disagreement it
// settles and returns the value it records.
func CheckModeration(caseRef string, d Disagreement, take, value string) (string, error) {
	switch take {
	case TakeFirst:
		if d.First == nil {
			return "", Errorf(CodeInvalid, "case %s question %s: the first marking has no answer to take", caseRef, d.QuestionID)
		}
		return d.First.Value, nil
	case TakeSecond:
		if d.Second == nil {
			return "", Errorf(CodeInvalid, "case %s question %s: the second marking has no answer to take", caseRef, d.QuestionID)
		}
		return d.Second.Value, nil
	case TakeValue:
		if value == "" {
			return "", Errorf(CodeInvalid, "case %s question %s: --value is empty", caseRef, d.QuestionID)
		}
		return value, nil
	}
	return "", Errorf(CodeInvalid, "take %q is not first, second or value", clip(take))
}

// MarkingEntity is the audit entity of a case's second marking.
func MarkingEntity(inspectionID, caseRef string) string {
	return fmt.Sprintf("case/%s/%s/marking", inspectionID, caseRef)
}

// SortSelections orders selections by case reference.
func SortSelections(s []QASelection) {
	slices.SortFunc(s, func(a, b QASelection) int {
		switch {
		case a.CaseRef < b.CaseRef:
			return -1
		case a.CaseRef > b.CaseRef:
			return 1
		}
		return 0
	})
}
