package wire

import (
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

// The messages of second marking (marking_service.proto, and the marking
// parts of ops, acks and changes).

// SelectionToProto is the wire form of a QA selection (nil for nil).
func SelectionToProto(s *framework.QASelection) *fieldworkv1.QASelection {
	if s == nil {
		return nil
	}
	return &fieldworkv1.QASelection{InspectionId: s.InspectionID, CaseRef: s.CaseRef, Qa: s.QA, SelectedBy: s.SelectedBy,
		SelectedAt: Timestamp(s.SelectedAt), Status: string(s.Status), SubmittedBy: s.SubmittedBy, SubmittedAt: Timestamp(s.SubmittedAt),
		Lifted: s.Lifted, Answered: int32(s.Answered), FirstHidden: s.FirstHidden}
}

// SelectionFromProto converts a QA selection (nil for nil).
func SelectionFromProto(m *fieldworkv1.QASelection) *framework.QASelection {
	if m == nil {
		return nil
	}
	return &framework.QASelection{InspectionID: m.GetInspectionId(), CaseRef: m.GetCaseRef(), QA: m.GetQa(), SelectedBy: m.GetSelectedBy(),
		SelectedAt: timeOf(m.GetSelectedAt()), Status: framework.MarkingStatus(m.GetStatus()), SubmittedBy: m.GetSubmittedBy(),
		SubmittedAt: timeOf(m.GetSubmittedAt()), Lifted: m.GetLifted(), Answered: int(m.GetAnswered()), FirstHidden: m.GetFirstHidden()}
}

// ModerationToProto is the wire form of a moderation decision (nil for nil).
func ModerationToProto(d *framework.Moderation) *fieldworkv1.Moderation {
	if d == nil {
		return nil
	}
	return &fieldworkv1.Moderation{CaseRef: d.CaseRef, QuestionId: d.QuestionID, Take: d.Take, Value: d.Value, Note: d.Note,
		First: d.First, Second: d.Second, DecidedBy: d.DecidedBy, DecidedAt: Timestamp(d.DecidedAt), Revision: d.Revision}
}

// ModerationFromProto converts a moderation decision (nil for nil).
func ModerationFromProto(m *fieldworkv1.Moderation) *framework.Moderation {
	if m == nil {
		return nil
	}
	return &framework.Moderation{CaseRef: m.GetCaseRef(), QuestionID: m.GetQuestionId(), Take: m.GetTake(), Value: m.GetValue(),
		Note: m.GetNote(), First: m.GetFirst(), Second: m.GetSecond(), DecidedBy: m.GetDecidedBy(), DecidedAt: timeOf(m.GetDecidedAt()),
		Revision: m.GetRevision()}
}

// DisagreementToProto is the wire form of a disagreement of case ref's
// markings in inspection inspectionID.
func DisagreementToProto(inspectionID string, d framework.Disagreement) *fieldworkv1.Disagreement {
	m := &fieldworkv1.Disagreement{QuestionId: d.QuestionID, Decided: ModerationToProto(d.Decided)}
	if d.First != nil {
		m.First = AnswerToProto(inspectionID, *d.First)
	}
	if d.Second != nil {
		m.Second = AnswerToProto(inspectionID, *d.Second)
	}
	return m
}

// DisagreementFromProto converts a disagreement.
func DisagreementFromProto(m *fieldworkv1.Disagreement) framework.Disagreement {
	d := framework.Disagreement{QuestionID: m.GetQuestionId(), Decided: ModerationFromProto(m.GetDecided())}
	if a := m.GetFirst(); a != nil {
		x := AnswerFromProto(a)
		d.First = &x
	}
	if a := m.GetSecond(); a != nil {
		x := AnswerFromProto(a)
		d.Second = &x
	}
	return d
}

func markingOpToProto(m *framework.MarkingOp) *fieldworkv1.MarkingOp {
	if m == nil {
		return nil
	}
	return &fieldworkv1.MarkingOp{Submit: m.Submit}
}

func markingOpFromProto(m *fieldworkv1.MarkingOp) *framework.MarkingOp {
	if m == nil {
		return nil
	}
	return &framework.MarkingOp{Submit: m.GetSubmit()}
}
