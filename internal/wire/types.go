package wire

import (
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

// The messages of types.proto. Cases, answers and judgements carry no
// inspection id in the domain (they are always read within one), so their
// ToProto functions take it and their FromProto callers read it from the
// message.

// InspectionToProto is the wire form of an inspection.
func InspectionToProto(in framework.Inspection) *fieldworkv1.Inspection {
	return &fieldworkv1.Inspection{Id: in.ID, Name: in.Name, Unit: in.Unit, FrameworkId: in.FrameworkID,
		FrameworkVersion: int32(in.FrameworkVersion), Status: string(in.Status), CreatedAt: Timestamp(in.CreatedAt), Role: string(in.Role)}
}

// InspectionFromProto converts an inspection message.
func InspectionFromProto(m *fieldworkv1.Inspection) framework.Inspection {
	return framework.Inspection{ID: m.GetId(), Name: m.GetName(), Unit: m.GetUnit(), FrameworkID: m.GetFrameworkId(),
		FrameworkVersion: int(m.GetFrameworkVersion()), Status: framework.InspectionStatus(m.GetStatus()), CreatedAt: m.GetCreatedAt().AsTime(), Role: framework.Role(m.GetRole())}
}

// CaseToProto is the wire form of a case of inspection inspectionID.
func CaseToProto(inspectionID string, c framework.Case) *fieldworkv1.Case {
	return &fieldworkv1.Case{InspectionId: inspectionID, CaseRef: c.Ref, Attributes: c.Attributes, Inspector: c.Inspector, Status: string(c.Status),
		StatusRevision: c.StatusRevision}
}

// CaseFromProto converts a case message (its inspection is m.GetInspectionId()).
func CaseFromProto(m *fieldworkv1.Case) framework.Case {
	return framework.Case{Ref: m.GetCaseRef(), Attributes: m.GetAttributes(), Inspector: m.GetInspector(), Status: framework.CaseStatus(m.GetStatus()),
		StatusRevision: m.GetStatusRevision()}
}

// AnswerToProto is the wire form of an answer in inspection inspectionID.
func AnswerToProto(inspectionID string, a framework.Answer) *fieldworkv1.Answer {
	return &fieldworkv1.Answer{InspectionId: inspectionID, CaseRef: a.CaseRef, QuestionId: a.QuestionID, Value: a.Value, Note: a.Note,
		Revision: a.Revision, UpdatedBy: a.UpdatedBy, DeviceId: a.DeviceID, UpdatedAt: Timestamp(a.UpdatedAt)}
}

// AnswerFromProto converts an answer message (its inspection is m.GetInspectionId()).
func AnswerFromProto(m *fieldworkv1.Answer) framework.Answer {
	return framework.Answer{CaseRef: m.GetCaseRef(), QuestionID: m.GetQuestionId(), Value: m.GetValue(), Note: m.GetNote(),
		Revision: m.GetRevision(), UpdatedBy: m.GetUpdatedBy(), DeviceID: m.GetDeviceId(), UpdatedAt: m.GetUpdatedAt().AsTime()}
}

// JudgementToProto is the wire form of a judgement in inspection inspectionID.
func JudgementToProto(inspectionID string, j framework.Judgement) *fieldworkv1.Judgement {
	return &fieldworkv1.Judgement{InspectionId: inspectionID, StandardId: j.StandardID, Rating: j.Rating, Rationale: j.Rationale,
		JudgedBy: j.JudgedBy, JudgedAt: Timestamp(j.JudgedAt)}
}

// JudgementFromProto converts a judgement message (its inspection is m.GetInspectionId()).
func JudgementFromProto(m *fieldworkv1.Judgement) framework.Judgement {
	return framework.Judgement{StandardID: m.GetStandardId(), Rating: m.GetRating(), Rationale: m.GetRationale(),
		JudgedBy: m.GetJudgedBy(), JudgedAt: m.GetJudgedAt().AsTime()}
}

// ConflictToProto is the wire form of a conflict (nil for none).
func ConflictToProto(c *framework.Conflict) *fieldworkv1.Conflict {
	if c == nil {
		return nil
	}
	return &fieldworkv1.Conflict{Id: c.ID, InspectionId: c.InspectionID, CaseRef: c.CaseRef, QuestionId: c.QuestionID,
		BaseRevision: c.BaseRevision, ServerRevision: c.ServerRevision, ServerValue: c.ServerValue, ServerNote: c.ServerNote,
		ClientValue: c.ClientValue, ClientNote: c.ClientNote, ClientUser: c.ClientUser, ClientDevice: c.ClientDevice,
		CreatedAt: Timestamp(c.CreatedAt), Status: c.Status, ResolvedBy: c.ResolvedBy, Resolution: c.Resolution,
		ServerUser: c.ServerUser, ServerDevice: c.ServerDevice, ServerUpdatedAt: Timestamp(c.ServerAt)}
}

// ConflictFromProto converts a conflict message (nil for none).
func ConflictFromProto(m *fieldworkv1.Conflict) *framework.Conflict {
	if m == nil {
		return nil
	}
	return &framework.Conflict{ID: m.GetId(), InspectionID: m.GetInspectionId(), CaseRef: m.GetCaseRef(), QuestionID: m.GetQuestionId(),
		BaseRevision: m.GetBaseRevision(), ServerRevision: m.GetServerRevision(), ServerValue: m.GetServerValue(), ServerNote: m.GetServerNote(),
		ClientValue: m.GetClientValue(), ClientNote: m.GetClientNote(), ClientUser: m.GetClientUser(), ClientDevice: m.GetClientDevice(),
		CreatedAt: m.GetCreatedAt().AsTime(), Status: m.GetStatus(), ResolvedBy: m.GetResolvedBy(), Resolution: m.GetResolution(),
		ServerUser: m.GetServerUser(), ServerDevice: m.GetServerDevice(), ServerAt: timeOf(m.GetServerUpdatedAt())}
}
