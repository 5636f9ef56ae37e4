package client

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
)

func conflictFromProto(m *fieldworkv1.Conflict) *framework.Conflict {
	if m == nil {
		return nil
	}
	return &framework.Conflict{ID: m.GetId(), InspectionID: m.GetInspectionId(), CaseRef: m.GetCaseRef(), QuestionID: m.GetQuestionId(),
		BaseRevision: m.GetBaseRevision(), ServerRevision: m.GetServerRevision(), ServerValue: m.GetServerValue(), ServerNote: m.GetServerNote(),
		ClientValue: m.GetClientValue(), ClientNote: m.GetClientNote(), ClientUser: m.GetClientUser(), ClientDevice: m.GetClientDevice(),
		CreatedAt: m.GetCreatedAt().AsTime(), Status: m.GetStatus(), ResolvedBy: m.GetResolvedBy(), Resolution: m.GetResolution()}
}

func ackFromProto(m *fieldworkv1.Ack) framework.Ack {
	a := framework.Ack{OpID: m.GetOpId(), Result: framework.OpResult(m.GetResult()), Duplicate: m.GetDuplicate(),
		Revision: m.GetRevision(), Reason: m.GetReason(), Conflict: conflictFromProto(m.GetConflict()), DeviceReused: m.GetDeviceReused()}
	if c := m.GetCurrent(); c != nil {
		a.Answer = answerFromProto(c)
	}
	if a.Result == framework.OpRejected {
		a.Err = rpcerr.FromCode(codes.Code(m.GetCode()), m.GetReason())
		if m.GetCode() == 0 { // a server from before codes were sent
			a.Err = framework.Errorf(framework.CodeInvalid, "%s", m.GetReason())
		}
	}
	return a
}

// OpToProto is the wire form of an op, as the push stream sends it.
func OpToProto(op framework.Op) *fieldworkv1.Op {
	return &fieldworkv1.Op{OpId: op.ID, InspectionId: op.InspectionID, CaseRef: op.CaseRef, QuestionId: op.QuestionID,
		Value: op.Value, Note: op.Note, BaseRevision: op.BaseRevision, DeviceId: op.DeviceID, DeviceSeq: op.DeviceSeq,
		ClientTime: timestamppb.New(op.ClientTime), ConflictId: op.ConflictID, Resolution: op.Resolution, Supersedes: op.Supersedes}
}

func answerFromProto(a *fieldworkv1.Answer) *framework.Answer {
	return &framework.Answer{CaseRef: a.GetCaseRef(), QuestionID: a.GetQuestionId(), Value: a.GetValue(), Note: a.GetNote(),
		Revision: a.GetRevision(), UpdatedBy: a.GetUpdatedBy(), DeviceID: a.GetDeviceId(), UpdatedAt: a.GetUpdatedAt().AsTime()}
}

// InspectionFromProto converts an inspection message.
func InspectionFromProto(m *fieldworkv1.Inspection) framework.Inspection {
	return framework.Inspection{ID: m.GetId(), Name: m.GetName(), Unit: m.GetUnit(), FrameworkID: m.GetFrameworkId(),
		FrameworkVersion: int(m.GetFrameworkVersion()), Status: m.GetStatus(), CreatedAt: m.GetCreatedAt().AsTime(), Role: m.GetRole()}
}

func changeFromProto(m *fieldworkv1.Change) framework.Change {
	ch := framework.Change{Seq: m.GetSeq()}
	switch e := m.GetEntity().(type) {
	case *fieldworkv1.Change_Inspection:
		in := InspectionFromProto(e.Inspection)
		ch.Inspection, ch.InspectionID = &in, in.ID
	case *fieldworkv1.Change_Case:
		c := caseFromProto(e.Case)
		ch.Case = &c
		ch.InspectionID = e.Case.GetInspectionId()
	case *fieldworkv1.Change_Answer:
		ch.Answer = answerFromProto(e.Answer)
		ch.InspectionID = e.Answer.GetInspectionId()
	case *fieldworkv1.Change_Judgement:
		j := judgementFromProto(e.Judgement)
		ch.Judgement = &j
		ch.InspectionID = e.Judgement.GetInspectionId()
	case *fieldworkv1.Change_Conflict:
		ch.Conflict = conflictFromProto(e.Conflict)
		ch.InspectionID = ch.Conflict.InspectionID
	case *fieldworkv1.Change_Withdrawal:
		ch.WithdrawnCase, ch.InspectionID = e.Withdrawal.GetCaseRef(), e.Withdrawal.GetInspectionId()
		ch.WithdrawnInspection = e.Withdrawal.GetWholeInspection()
	}
	return ch
}

// ReportFromProto converts a report message back to the aggregate form the
// renderers take.
func ReportFromProto(m *fieldworkv1.Report) *aggregate.Report {
	r := &aggregate.Report{
		InspectionID: m.GetInspectionId(), InspectionName: m.GetInspectionName(), FrameworkID: m.GetFrameworkId(),
		FrameworkVersion: int(m.GetFrameworkVersion()), Rated: m.GetRated(), AsOfSeq: m.GetAsOfSeq(),
		GeneratedAt: m.GetGeneratedAt().AsTime(), Cases: int(m.GetCases()), Score: int(m.GetScore()), MaxScore: int(m.GetMaxScore()),
		Overall: m.GetOverall(),
		Pooled:  aggregate.Share{Yes: int(m.GetPooledYes()), Relevant: int(m.GetPooledRelevant()), Percent: int(m.GetPooledPercent()), HasPercent: m.GetHasPooledPercent()},
	}
	for _, s := range m.GetStandards() {
		r.Standards = append(r.Standards, aggregate.StandardResult{ID: s.GetStandardId(), Title: s.GetTitle(), Kind: s.GetKind(),
			Rating: s.GetRating(), Points: int(s.GetPoints()), Lowest: s.GetLowestKeyQuestionId(), LowestPercent: int(s.GetLowestPercent()),
			HasLowest: s.GetHasLowest(), Rationale: s.GetRationale(),
			Share:     aggregate.Share{Yes: int(s.GetYes()), Relevant: int(s.GetRelevant()), Percent: int(s.GetPercent()), HasPercent: s.GetHasPercent()},
			Sensitive: s.GetSensitive(), CasesUp: int(s.GetCasesUp()), UpTo: s.GetUpTo(), CasesDown: int(s.GetCasesDown()), DownTo: s.GetDownTo()})
	}
	r.Units = m.GetUnits()
	for _, p := range m.GetProfile() {
		ap := aggregate.AttributeProfile{Attribute: p.GetAttribute(), Title: p.GetTitle()}
		for _, v := range p.GetValues() {
			ap.Values = append(ap.Values, aggregate.ValueCount{Value: v.GetValue(), Count: int(v.GetCount())})
		}
		r.Profile = append(r.Profile, ap)
	}
	for _, b := range m.GetBreakdowns() {
		bd := aggregate.Breakdown{Attribute: b.GetAttribute(), Title: b.GetTitle(), Values: b.GetValues()}
		for _, row := range b.GetRows() {
			br := aggregate.BreakdownRow{QuestionID: row.GetQuestionId(), All: shareFromProto(row.GetAll())}
			for _, c := range row.GetCells() {
				br.Cells = append(br.Cells, shareFromProto(c))
			}
			bd.Rows = append(bd.Rows, br)
		}
		r.Breakdowns = append(r.Breakdowns, bd)
	}
	for _, c := range m.GetCaseProgress() {
		r.CaseProgress = append(r.CaseProgress, aggregate.CaseProgress{Ref: c.GetCaseRef(), Unit: c.GetUnit(), Inspector: c.GetInspector(),
			Status: c.GetStatus(), Answered: int(c.GetAnswered()), Required: int(c.GetRequired())})
	}
	for _, i := range m.GetInspectorProgress() {
		r.InspectorProgress = append(r.InspectorProgress, aggregate.InspectorProgress{Inspector: i.GetInspector(), Cases: int(i.GetCases()),
			Submitted: int(i.GetSubmitted()), Answered: int(i.GetAnswered()), Required: int(i.GetRequired()), CasesComplete: int(i.GetCasesComplete())})
	}
	for _, a := range m.GetNoLongerApplies() {
		r.NoLongerApplies = append(r.NoLongerApplies, aggregate.StaleAnswer{CaseRef: a.GetCaseRef(), QuestionID: a.GetQuestionId(), Value: a.GetValue()})
	}
	for _, q := range m.GetQuestions() {
		f := aggregate.QuestionFigure{ID: q.GetQuestionId(), Text: q.GetText(), Kind: q.GetKind(), Type: framework.TypeYesNo,
			StandardID: q.GetStandardId(), KeyQuestionID: q.GetKeyQuestionId(),
			Share: aggregate.Share{Yes: int(q.GetYes()), Relevant: int(q.GetRelevant()), Percent: int(q.GetPercent()), HasPercent: q.GetHasPercent()},
			No:    int(q.GetNo()), NotApplicable: int(q.GetNotApplicable()), Answered: int(q.GetAnswered()), Band: q.GetRatingBand()}
		if q.GetHasInterval() {
			f.Interval = &aggregate.Interval{Low: q.GetIntervalLow(), High: q.GetIntervalHigh(), CrossesBand: q.GetCrossesBand()}
		}
		if q.GetDistribution() != nil || q.GetAtLeastThreshold() > 0 {
			f.Type = framework.TypeCount
			f.Threshold = int64(q.GetAtLeastThreshold())
			f.Distribution = map[int64]int{}
			for v, n := range q.GetDistribution() {
				f.Distribution[v] = int(n)
			}
		}
		r.Questions = append(r.Questions, f)
	}
	return r
}

func shareFromProto(s *fieldworkv1.Share) aggregate.Share {
	return aggregate.Share{Yes: int(s.GetYes()), Relevant: int(s.GetRelevant()), Percent: int(s.GetPercent()), HasPercent: s.GetHasPercent()}
}

func caseFromProto(c *fieldworkv1.Case) framework.Case {
	return framework.Case{Ref: c.GetCaseRef(), Attributes: c.GetAttributes(), Inspector: c.GetInspector(), Status: c.GetStatus()}
}

func judgementFromProto(j *fieldworkv1.Judgement) framework.Judgement {
	return framework.Judgement{StandardID: j.GetStandardId(), Rating: j.GetRating(), Rationale: j.GetRationale(),
		JudgedBy: j.GetJudgedBy(), JudgedAt: j.GetJudgedAt().AsTime()}
}

func frameworkSummaryFromProto(f *fieldworkv1.FrameworkSummary) FrameworkSummary {
	return FrameworkSummary{ID: f.GetId(), Version: int(f.GetVersion()), Title: f.GetTitle(), Rated: f.GetRated(),
		Checksum: f.GetChecksum(), Questions: int(f.GetQuestionCount())}
}

func auditEntryFromProto(e *fieldworkv1.AuditEntry) AuditEntry {
	return AuditEntry{Seq: e.GetSeq(), At: e.GetAt().AsTime(), User: e.GetUser(), Device: e.GetDeviceId(), Action: e.GetAction(),
		Entity: e.GetEntity(), Before: e.GetBefore(), After: e.GetAfter()}
}
