package server

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
)

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func inspectionToProto(in framework.Inspection) *fieldworkv1.Inspection {
	return &fieldworkv1.Inspection{Id: in.ID, Name: in.Name, Unit: in.Unit, FrameworkId: in.FrameworkID,
		FrameworkVersion: int32(in.FrameworkVersion), Status: in.Status, CreatedAt: ts(in.CreatedAt), Role: in.Role}
}

func caseToProto(inspectionID string, c framework.Case) *fieldworkv1.Case {
	return &fieldworkv1.Case{InspectionId: inspectionID, CaseRef: c.Ref, Attributes: c.Attributes, Inspector: c.Inspector, Status: c.Status}
}

func answerToProto(inspectionID string, a framework.Answer) *fieldworkv1.Answer {
	return &fieldworkv1.Answer{InspectionId: inspectionID, CaseRef: a.CaseRef, QuestionId: a.QuestionID, Value: a.Value, Note: a.Note,
		Revision: a.Revision, UpdatedBy: a.UpdatedBy, DeviceId: a.DeviceID, UpdatedAt: ts(a.UpdatedAt)}
}

func judgementToProto(inspectionID string, j framework.Judgement) *fieldworkv1.Judgement {
	return &fieldworkv1.Judgement{InspectionId: inspectionID, StandardId: j.StandardID, Rating: j.Rating, Rationale: j.Rationale,
		JudgedBy: j.JudgedBy, JudgedAt: ts(j.JudgedAt)}
}

func conflictToProto(c *framework.Conflict) *fieldworkv1.Conflict {
	if c == nil {
		return nil
	}
	return &fieldworkv1.Conflict{Id: c.ID, InspectionId: c.InspectionID, CaseRef: c.CaseRef, QuestionId: c.QuestionID,
		BaseRevision: c.BaseRevision, ServerRevision: c.ServerRevision, ServerValue: c.ServerValue, ServerNote: c.ServerNote,
		ClientValue: c.ClientValue, ClientNote: c.ClientNote, ClientUser: c.ClientUser, ClientDevice: c.ClientDevice,
		CreatedAt: ts(c.CreatedAt), Status: c.Status, ResolvedBy: c.ResolvedBy, Resolution: c.Resolution}
}

func opFromProto(m *fieldworkv1.Op) framework.Op {
	return framework.Op{ID: m.GetOpId(), InspectionID: m.GetInspectionId(), CaseRef: m.GetCaseRef(), QuestionID: m.GetQuestionId(),
		Value: m.GetValue(), Note: m.GetNote(), BaseRevision: m.GetBaseRevision(), DeviceID: m.GetDeviceId(), DeviceSeq: m.GetDeviceSeq(),
		ClientTime: m.GetClientTime().AsTime(), ConflictID: m.GetConflictId(), Resolution: m.GetResolution(), Supersedes: m.GetSupersedes()}
}

func ackToProto(inspectionID string, a framework.Ack) *fieldworkv1.Ack {
	m := &fieldworkv1.Ack{OpId: a.OpID, Result: fieldworkv1.OpResult(a.Result), Duplicate: a.Duplicate, Revision: a.Revision,
		Reason: a.Reason, Conflict: conflictToProto(a.Conflict), DeviceReused: a.DeviceReused}
	if a.Result == framework.OpRejected {
		m.Code = int32(rpcerr.Code(a.Err))
	}
	if a.Answer != nil {
		m.Current = answerToProto(inspectionID, *a.Answer)
	}
	return m
}

func changeToProto(c framework.Change) *fieldworkv1.Change {
	m := &fieldworkv1.Change{Seq: c.Seq}
	switch {
	case c.Inspection != nil:
		m.Entity = &fieldworkv1.Change_Inspection{Inspection: inspectionToProto(*c.Inspection)}
	case c.Case != nil:
		m.Entity = &fieldworkv1.Change_Case{Case: caseToProto(c.InspectionID, *c.Case)}
	case c.Answer != nil:
		m.Entity = &fieldworkv1.Change_Answer{Answer: answerToProto(c.InspectionID, *c.Answer)}
	case c.Judgement != nil:
		m.Entity = &fieldworkv1.Change_Judgement{Judgement: judgementToProto(c.InspectionID, *c.Judgement)}
	case c.Conflict != nil:
		m.Entity = &fieldworkv1.Change_Conflict{Conflict: conflictToProto(c.Conflict)}
	case c.WithdrawnCase != "" || c.WithdrawnInspection:
		m.Entity = &fieldworkv1.Change_Withdrawal{Withdrawal: &fieldworkv1.Withdrawal{InspectionId: c.InspectionID, CaseRef: c.WithdrawnCase,
			WholeInspection: c.WithdrawnInspection}}
	}
	return m
}

func reportToProto(r *aggregate.Report) *fieldworkv1.Report {
	m := &fieldworkv1.Report{
		InspectionId: r.InspectionID, InspectionName: r.InspectionName, FrameworkId: r.FrameworkID,
		FrameworkVersion: int32(r.FrameworkVersion), Rated: r.Rated, AsOfSeq: r.AsOfSeq, GeneratedAt: ts(r.GeneratedAt),
		Cases: int32(r.Cases), Score: int32(r.Score), MaxScore: int32(r.MaxScore), Overall: r.Overall,
		PooledYes: int32(r.Pooled.Yes), PooledRelevant: int32(r.Pooled.Relevant), PooledPercent: int32(r.Pooled.Percent),
		HasPooledPercent: r.Pooled.HasPercent,
	}
	for _, s := range r.Standards {
		m.Standards = append(m.Standards, &fieldworkv1.StandardResult{
			StandardId: s.ID, Title: s.Title, Kind: s.Kind, Rating: s.Rating, Points: int32(s.Points),
			LowestKeyQuestionId: s.Lowest, LowestPercent: int32(s.LowestPercent), HasLowest: s.HasLowest, Rationale: s.Rationale,
			Yes: int32(s.Yes), Relevant: int32(s.Relevant), Percent: int32(s.Percent), HasPercent: s.HasPercent,
			Sensitive: s.Sensitive, CasesUp: int32(s.CasesUp), UpTo: s.UpTo, CasesDown: int32(s.CasesDown), DownTo: s.DownTo,
		})
	}
	m.Units = r.Units
	for _, p := range r.Profile {
		ap := &fieldworkv1.AttributeProfile{Attribute: p.Attribute, Title: p.Title}
		for _, v := range p.Values {
			ap.Values = append(ap.Values, &fieldworkv1.ValueCount{Value: v.Value, Count: int32(v.Count)})
		}
		m.Profile = append(m.Profile, ap)
	}
	for _, b := range r.Breakdowns {
		bm := &fieldworkv1.Breakdown{Attribute: b.Attribute, Title: b.Title, Values: b.Values}
		for _, row := range b.Rows {
			rm := &fieldworkv1.BreakdownRow{QuestionId: row.QuestionID, All: shareToProto(row.All)}
			for _, c := range row.Cells {
				rm.Cells = append(rm.Cells, shareToProto(c))
			}
			bm.Rows = append(bm.Rows, rm)
		}
		m.Breakdowns = append(m.Breakdowns, bm)
	}
	for _, c := range r.CaseProgress {
		m.CaseProgress = append(m.CaseProgress, &fieldworkv1.CaseProgress{CaseRef: c.Ref, Unit: c.Unit, Inspector: c.Inspector, Status: c.Status,
			Answered: int32(c.Answered), Required: int32(c.Required)})
	}
	for _, i := range r.InspectorProgress {
		m.InspectorProgress = append(m.InspectorProgress, &fieldworkv1.InspectorProgress{Inspector: i.Inspector, Cases: int32(i.Cases),
			Submitted: int32(i.Submitted), Answered: int32(i.Answered), Required: int32(i.Required), CasesComplete: int32(i.CasesComplete)})
	}
	for _, a := range r.NoLongerApplies {
		m.NoLongerApplies = append(m.NoLongerApplies, &fieldworkv1.StaleAnswer{CaseRef: a.CaseRef, QuestionId: a.QuestionID, Value: a.Value})
	}
	for _, q := range r.Questions {
		f := &fieldworkv1.QuestionFigure{
			QuestionId: q.ID, Text: q.Text, Kind: q.Kind, StandardId: q.StandardID, KeyQuestionId: q.KeyQuestionID,
			Yes: int32(q.Yes), No: int32(q.No), NotApplicable: int32(q.NotApplicable), Relevant: int32(q.Relevant),
			HasPercent: q.HasPercent, Percent: int32(q.Percent), Answered: int32(q.Answered), RatingBand: q.Band,
		}
		if q.Interval != nil {
			f.HasInterval, f.IntervalLow, f.IntervalHigh, f.CrossesBand = true, q.Interval.Low, q.Interval.High, q.Interval.CrossesBand
		}
		if q.Type == framework.TypeCount {
			f.Distribution = map[int64]int32{}
			for v, n := range q.Distribution {
				f.Distribution[v] = int32(n)
			}
			f.AtLeastThreshold = int32(q.Threshold)
			f.AtLeastCount = int32(q.Yes)
		}
		m.Questions = append(m.Questions, f)
	}
	return m
}

func shareToProto(s aggregate.Share) *fieldworkv1.Share {
	return &fieldworkv1.Share{Yes: int32(s.Yes), Relevant: int32(s.Relevant), Percent: int32(s.Percent), HasPercent: s.HasPercent}
}
