package wire

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
)

// The messages of sync_service.proto: ops pushed, their acks, and the
// changes pulled.

// OpToProto is the wire form of an op, as the push stream sends it.
func OpToProto(op framework.Op) *fieldworkv1.Op {
	return &fieldworkv1.Op{OpId: op.ID, InspectionId: op.InspectionID, CaseRef: op.CaseRef, QuestionId: op.QuestionID,
		Value: op.Value, Note: op.Note, BaseRevision: op.BaseRevision, DeviceId: op.DeviceID, DeviceSeq: op.DeviceSeq,
		ClientTime: timestamppb.New(op.ClientTime), ConflictId: op.ConflictID, Resolution: string(op.Resolution), Supersedes: op.Supersedes,
		Written: writtenOpToProto(op.Written), CaseStatus: statusOpToProto(op.Status), Marking: markingOpToProto(op.Marking)}
}

// OpFromProto converts a pushed op.
func OpFromProto(m *fieldworkv1.Op) framework.Op {
	return framework.Op{ID: m.GetOpId(), InspectionID: m.GetInspectionId(), CaseRef: m.GetCaseRef(), QuestionID: m.GetQuestionId(),
		Value: m.GetValue(), Note: m.GetNote(), BaseRevision: m.GetBaseRevision(), DeviceID: m.GetDeviceId(), DeviceSeq: m.GetDeviceSeq(),
		ClientTime: m.GetClientTime().AsTime(), ConflictID: m.GetConflictId(), Resolution: framework.Resolution(m.GetResolution()), Supersedes: m.GetSupersedes(),
		Written: writtenOpFromProto(m.GetWritten()), Status: statusOpFromProto(m.GetCaseStatus()), Marking: markingOpFromProto(m.GetMarking())}
}

func statusOpToProto(s *framework.CaseStatusOp) *fieldworkv1.CaseStatusOp {
	if s == nil {
		return nil
	}
	return &fieldworkv1.CaseStatusOp{Status: string(s.Status), Reason: s.Reason}
}

func statusOpFromProto(m *fieldworkv1.CaseStatusOp) *framework.CaseStatusOp {
	if m == nil {
		return nil
	}
	return &framework.CaseStatusOp{Status: framework.CaseStatus(m.GetStatus()), Reason: m.GetReason()}
}

// AckToProto is the wire form of the ack of an op of inspection
// inspectionID. A rejection's error travels as its gRPC code beside the
// reason, so the client rebuilds the same framework error.
func AckToProto(inspectionID string, a framework.Ack) *fieldworkv1.Ack {
	m := &fieldworkv1.Ack{OpId: a.OpID, Result: fieldworkv1.OpResult(a.Result), Duplicate: a.Duplicate, Revision: a.Revision,
		Reason: a.Reason, Conflict: ConflictToProto(a.Conflict), DeviceReused: a.DeviceReused,
		Written: WrittenItemToProto(a.Written), WrittenConflict: WrittenConflictToProto(a.WrittenConflict),
		MarkingConflict: ConflictToProto(a.MarkingConflict), Selection: SelectionToProto(a.Selection)}
	if a.Marking != nil {
		m.Marking = AnswerToProto(inspectionID, *a.Marking)
	}
	if a.Result == framework.OpRejected {
		m.Code = int32(rpcerr.Code(a.Err))
	}
	if a.Answer != nil {
		m.Current = AnswerToProto(inspectionID, *a.Answer)
	}
	if a.Case != nil {
		m.Case = CaseToProto(inspectionID, *a.Case)
	}
	return m
}

// AckFromProto converts an ack.
func AckFromProto(m *fieldworkv1.Ack) framework.Ack {
	a := framework.Ack{OpID: m.GetOpId(), Result: framework.OpResult(m.GetResult()), Duplicate: m.GetDuplicate(),
		Revision: m.GetRevision(), Reason: m.GetReason(), Conflict: ConflictFromProto(m.GetConflict()), DeviceReused: m.GetDeviceReused(),
		Written: WrittenItemFromProto(m.GetWritten()), WrittenConflict: WrittenConflictFromProto(m.GetWrittenConflict()),
		MarkingConflict: ConflictFromProto(m.GetMarkingConflict()), Selection: SelectionFromProto(m.GetSelection())}
	if c := m.GetMarking(); c != nil {
		ans := AnswerFromProto(c)
		a.Marking = &ans
	}
	if c := m.GetCurrent(); c != nil {
		ans := AnswerFromProto(c)
		a.Answer = &ans
	}
	if c := m.GetCase(); c != nil {
		cs := CaseFromProto(c)
		a.Case = &cs
	}
	if a.Result == framework.OpRejected {
		a.Err = rpcerr.FromCode(codes.Code(m.GetCode()), m.GetReason())
		if m.GetCode() == 0 { // a server from before codes were sent
			a.Err = framework.Errorf(framework.CodeInvalid, "%s", m.GetReason())
		}
	}
	return a
}

// ChangeToProto is the wire form of a pulled change.
func ChangeToProto(c framework.Change) *fieldworkv1.Change {
	m := &fieldworkv1.Change{Seq: c.Seq}
	switch {
	case c.Inspection != nil:
		m.Entity = &fieldworkv1.Change_Inspection{Inspection: InspectionToProto(*c.Inspection)}
	case c.Case != nil:
		m.Entity = &fieldworkv1.Change_Case{Case: CaseToProto(c.InspectionID, *c.Case)}
	case c.Answer != nil:
		m.Entity = &fieldworkv1.Change_Answer{Answer: AnswerToProto(c.InspectionID, *c.Answer)}
	case c.Judgement != nil:
		m.Entity = &fieldworkv1.Change_Judgement{Judgement: JudgementToProto(c.InspectionID, *c.Judgement)}
	case c.Conflict != nil:
		m.Entity = &fieldworkv1.Change_Conflict{Conflict: ConflictToProto(c.Conflict)}
	case c.Written != nil:
		m.Entity = &fieldworkv1.Change_Written{Written: WrittenItemToProto(c.Written)}
	case c.WrittenConflict != nil:
		m.Entity = &fieldworkv1.Change_WrittenConflict{WrittenConflict: WrittenConflictToProto(c.WrittenConflict)}
	case c.Marking != nil:
		m.Entity = &fieldworkv1.Change_Marking{Marking: AnswerToProto(c.InspectionID, *c.Marking)}
	case c.MarkingConflict != nil:
		m.Entity = &fieldworkv1.Change_MarkingConflict{MarkingConflict: ConflictToProto(c.MarkingConflict)}
	case c.Selection != nil:
		m.Entity = &fieldworkv1.Change_Selection{Selection: SelectionToProto(c.Selection)}
	case c.WithdrawnCase != "" || c.WithdrawnInspection:
		m.Entity = &fieldworkv1.Change_Withdrawal{Withdrawal: &fieldworkv1.Withdrawal{InspectionId: c.InspectionID, CaseRef: c.WithdrawnCase,
			WholeInspection: c.WithdrawnInspection}}
	}
	return m
}

// ChangeFromProto converts a pulled change.
func ChangeFromProto(m *fieldworkv1.Change) framework.Change {
	ch := framework.Change{Seq: m.GetSeq()}
	switch e := m.GetEntity().(type) {
	case *fieldworkv1.Change_Inspection:
		in := InspectionFromProto(e.Inspection)
		ch.Inspection, ch.InspectionID = &in, in.ID
	case *fieldworkv1.Change_Case:
		c := CaseFromProto(e.Case)
		ch.Case, ch.InspectionID = &c, e.Case.GetInspectionId()
	case *fieldworkv1.Change_Answer:
		a := AnswerFromProto(e.Answer)
		ch.Answer, ch.InspectionID = &a, e.Answer.GetInspectionId()
	case *fieldworkv1.Change_Judgement:
		j := JudgementFromProto(e.Judgement)
		ch.Judgement, ch.InspectionID = &j, e.Judgement.GetInspectionId()
	case *fieldworkv1.Change_Conflict:
		ch.Conflict = ConflictFromProto(e.Conflict)
		ch.InspectionID = ch.Conflict.InspectionID
	case *fieldworkv1.Change_Written:
		ch.Written = WrittenItemFromProto(e.Written)
		ch.InspectionID = ch.Written.InspectionID
	case *fieldworkv1.Change_WrittenConflict:
		ch.WrittenConflict = WrittenConflictFromProto(e.WrittenConflict)
		ch.InspectionID = ch.WrittenConflict.InspectionID
	case *fieldworkv1.Change_Marking:
		a := AnswerFromProto(e.Marking)
		ch.Marking, ch.InspectionID = &a, e.Marking.GetInspectionId()
	case *fieldworkv1.Change_MarkingConflict:
		ch.MarkingConflict = ConflictFromProto(e.MarkingConflict)
		ch.InspectionID = ch.MarkingConflict.InspectionID
	case *fieldworkv1.Change_Selection:
		ch.Selection = SelectionFromProto(e.Selection)
		ch.InspectionID = ch.Selection.InspectionID
	case *fieldworkv1.Change_Withdrawal:
		ch.WithdrawnCase, ch.InspectionID = e.Withdrawal.GetCaseRef(), e.Withdrawal.GetInspectionId()
		ch.WithdrawnInspection = e.Withdrawal.GetWholeInspection()
	}
	return ch
}
