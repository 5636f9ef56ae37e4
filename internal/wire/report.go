package wire

import (
	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

// The messages of report_service.proto: a computed report and its figures.

// ReportToProto is the wire form of a computed report.
func ReportToProto(r *aggregate.Report) *fieldworkv1.Report {
	m := &fieldworkv1.Report{
		InspectionId: r.InspectionID, InspectionName: r.InspectionName, FrameworkId: r.FrameworkID,
		FrameworkVersion: int32(r.FrameworkVersion), Rated: r.Rated, AsOfSeq: r.AsOfSeq, GeneratedAt: Timestamp(r.GeneratedAt),
		Cases: int32(r.Cases), Score: int32(r.Score), MaxScore: int32(r.MaxScore), Overall: r.Overall, ScoreComplete: r.ScoreComplete,
		PooledYes: int32(r.Pooled.Yes), PooledRelevant: int32(r.Pooled.Relevant), PooledPercent: int32(r.Pooled.Percent),
		HasPooledPercent: r.Pooled.HasPercent,
	}
	if r.Frozen != nil {
		m.Frozen = &fieldworkv1.FrozenReport{PurgedAt: Timestamp(r.Frozen.PurgedAt)}
	}
	for _, s := range r.Standards {
		m.Standards = append(m.Standards, &fieldworkv1.StandardResult{
			StandardId: s.ID, Title: s.Title, Kind: string(s.Kind), Rating: s.Rating, Points: int32(s.Points), HasPoints: s.HasPoints,
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
			rm := &fieldworkv1.BreakdownRow{QuestionId: row.ID, Kind: string(row.Kind), All: ShareToProto(row.All)}
			for _, c := range row.Cells {
				rm.Cells = append(rm.Cells, ShareToProto(c))
			}
			bm.Rows = append(bm.Rows, rm)
		}
		m.Breakdowns = append(m.Breakdowns, bm)
	}
	for _, c := range r.CaseProgress {
		m.CaseProgress = append(m.CaseProgress, &fieldworkv1.CaseProgress{CaseRef: c.Ref, Unit: c.Unit, Inspector: c.Inspector, Status: string(c.Status),
			Answered: int32(c.Answered), Required: int32(c.Required)})
	}
	for _, i := range r.InspectorProgress {
		m.InspectorProgress = append(m.InspectorProgress, &fieldworkv1.InspectorProgress{Inspector: i.Inspector, Cases: int32(i.Cases),
			Submitted: int32(i.Submitted), Answered: int32(i.Answered), Required: int32(i.Required), CasesComplete: int32(i.CasesComplete)})
	}
	for i := range r.Written {
		m.Written = append(m.Written, WrittenItemToProto(&r.Written[i]))
	}
	for _, a := range r.NoLongerApplies {
		m.NoLongerApplies = append(m.NoLongerApplies, &fieldworkv1.StaleAnswer{CaseRef: a.CaseRef, QuestionId: a.QuestionID, Value: a.Value})
	}
	for _, q := range r.Questions {
		f := &fieldworkv1.QuestionFigure{
			QuestionId: q.ID, Text: q.Text, Kind: string(q.Kind), StandardId: q.StandardID, KeyQuestionId: q.KeyQuestionID,
			Yes: int32(q.Yes), No: int32(q.No), NotApplicable: int32(q.NotApplicable), Relevant: int32(q.Relevant),
			HasPercent: q.HasPercent, Percent: int32(q.Percent), Answered: int32(q.Answered), RatingBand: q.Band, Type: q.Type,
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
		}
		m.Questions = append(m.Questions, f)
	}
	m.Agreement, m.AgreementOnly = AgreementToProto(r.Agreement), r.AgreementOnly
	return m
}

// ReportFromProto converts a report message back to the aggregate form the
// renderers take.
func ReportFromProto(m *fieldworkv1.Report) *aggregate.Report {
	r := &aggregate.Report{
		InspectionID: m.GetInspectionId(), InspectionName: m.GetInspectionName(), FrameworkID: m.GetFrameworkId(),
		FrameworkVersion: int(m.GetFrameworkVersion()), Rated: m.GetRated(), AsOfSeq: m.GetAsOfSeq(),
		GeneratedAt: m.GetGeneratedAt().AsTime(), Cases: int(m.GetCases()), Score: int(m.GetScore()), MaxScore: int(m.GetMaxScore()), ScoreComplete: m.GetScoreComplete(),
		Overall: m.GetOverall(),
		Pooled:  aggregate.Share{Yes: int(m.GetPooledYes()), Relevant: int(m.GetPooledRelevant()), Percent: int(m.GetPooledPercent()), HasPercent: m.GetHasPooledPercent()},
	}
	if f := m.GetFrozen(); f != nil {
		r.Frozen = &aggregate.Frozen{PurgedAt: f.GetPurgedAt().AsTime()}
	}
	for _, s := range m.GetStandards() {
		r.Standards = append(r.Standards, aggregate.StandardResult{ID: s.GetStandardId(), Title: s.GetTitle(), Kind: framework.StandardKind(s.GetKind()),
			Rating: s.GetRating(), Points: int(s.GetPoints()), HasPoints: s.GetHasPoints(), Lowest: s.GetLowestKeyQuestionId(), LowestPercent: int(s.GetLowestPercent()),
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
			br := aggregate.BreakdownRow{ID: row.GetQuestionId(), Kind: aggregate.RowKind(row.GetKind()), All: ShareFromProto(row.GetAll())}
			for _, c := range row.GetCells() {
				br.Cells = append(br.Cells, ShareFromProto(c))
			}
			bd.Rows = append(bd.Rows, br)
		}
		r.Breakdowns = append(r.Breakdowns, bd)
	}
	for _, c := range m.GetCaseProgress() {
		r.CaseProgress = append(r.CaseProgress, aggregate.CaseProgress{Ref: c.GetCaseRef(), Unit: c.GetUnit(), Inspector: c.GetInspector(),
			Status: framework.CaseStatus(c.GetStatus()), Answered: int(c.GetAnswered()), Required: int(c.GetRequired())})
	}
	for _, i := range m.GetInspectorProgress() {
		r.InspectorProgress = append(r.InspectorProgress, aggregate.InspectorProgress{Inspector: i.GetInspector(), Cases: int(i.GetCases()),
			Submitted: int(i.GetSubmitted()), Answered: int(i.GetAnswered()), Required: int(i.GetRequired()), CasesComplete: int(i.GetCasesComplete())})
	}
	for _, w := range m.GetWritten() {
		r.Written = append(r.Written, *WrittenItemFromProto(w))
	}
	for _, a := range m.GetNoLongerApplies() {
		r.NoLongerApplies = append(r.NoLongerApplies, aggregate.StaleAnswer{CaseRef: a.GetCaseRef(), QuestionID: a.GetQuestionId(), Value: a.GetValue()})
	}
	for _, q := range m.GetQuestions() {
		f := aggregate.QuestionFigure{ID: q.GetQuestionId(), Text: q.GetText(), Kind: framework.QuestionKind(q.GetKind()), Type: q.GetType(),
			StandardID: q.GetStandardId(), KeyQuestionID: q.GetKeyQuestionId(),
			Share: aggregate.Share{Yes: int(q.GetYes()), Relevant: int(q.GetRelevant()), Percent: int(q.GetPercent()), HasPercent: q.GetHasPercent()},
			No:    int(q.GetNo()), NotApplicable: int(q.GetNotApplicable()), Answered: int(q.GetAnswered()), Band: q.GetRatingBand()}
		if q.GetHasInterval() {
			f.Interval = &aggregate.Interval{Low: q.GetIntervalLow(), High: q.GetIntervalHigh(), CrossesBand: q.GetCrossesBand()}
		}
		if f.Type == "" { // a server from before the type was sent
			f.Type = framework.TypeYesNo
		}
		// Only count questions have these. The distribution stays nil
		// until a case is counted, as aggregate leaves it.
		f.Threshold = int64(q.GetAtLeastThreshold())
		if len(q.GetDistribution()) > 0 {
			f.Distribution = make(map[int64]int, len(q.GetDistribution()))
			for v, n := range q.GetDistribution() {
				f.Distribution[v] = int(n)
			}
		}
		r.Questions = append(r.Questions, f)
	}
	r.Agreement, r.AgreementOnly = AgreementFromProto(m.GetAgreement()), m.GetAgreementOnly()
	return r
}

// ShareToProto is the wire form of a share.
func ShareToProto(s aggregate.Share) *fieldworkv1.Share {
	return &fieldworkv1.Share{Yes: int32(s.Yes), Relevant: int32(s.Relevant), Percent: int32(s.Percent), HasPercent: s.HasPercent}
}

// ShareFromProto converts a share message.
func ShareFromProto(s *fieldworkv1.Share) aggregate.Share {
	return aggregate.Share{Yes: int(s.GetYes()), Relevant: int(s.GetRelevant()), Percent: int(s.GetPercent()), HasPercent: s.GetHasPercent()}
}

// EvidenceRowToProto is one case behind a figure, on the wire.
func EvidenceRowToProto(r aggregate.EvidenceRow) *fieldworkv1.EvidenceRow {
	return &fieldworkv1.EvidenceRow{CaseRef: r.CaseRef, Inspector: r.Inspector, Value: r.Value, Note: r.Note}
}

// EvidenceRowFromProto is EvidenceRowToProto's inverse.
func EvidenceRowFromProto(m *fieldworkv1.EvidenceRow) aggregate.EvidenceRow {
	return aggregate.EvidenceRow{CaseRef: m.GetCaseRef(), Inspector: m.GetInspector(), Value: m.GetValue(), Note: m.GetNote()}
}

// DatasetHeaderToProto is the header of a dataset export, on the wire.
func DatasetHeaderToProto(h framework.DatasetHeader) *fieldworkv1.DatasetHeader {
	return &fieldworkv1.DatasetHeader{FrameworkId: h.FrameworkID, FrameworkVersion: int32(h.FrameworkVersion),
		InspectionIds: h.InspectionIDs, Units: h.Units, Cases: int32(h.Cases), AsOfSeq: h.AsOfSeq, Notes: h.Notes}
}

// DatasetHeaderFromProto is DatasetHeaderToProto's inverse.
func DatasetHeaderFromProto(m *fieldworkv1.DatasetHeader) framework.DatasetHeader {
	return framework.DatasetHeader{FrameworkID: m.GetFrameworkId(), FrameworkVersion: int(m.GetFrameworkVersion()),
		InspectionIDs: m.GetInspectionIds(), Units: m.GetUnits(), Cases: int(m.GetCases()), AsOfSeq: m.GetAsOfSeq(), Notes: m.GetNotes()}
}

// DatasetCaseToProto is one case of a dataset export, on the wire.
func DatasetCaseToProto(c framework.DatasetCase) *fieldworkv1.DatasetCase {
	m := &fieldworkv1.DatasetCase{InspectionId: c.InspectionID, Unit: c.Unit, CaseRef: c.Ref, Status: string(c.Status),
		Attributes: c.Attributes, Answers: make([]*fieldworkv1.DatasetAnswer, len(c.Answers))}
	for i, a := range c.Answers {
		m.Answers[i] = &fieldworkv1.DatasetAnswer{QuestionId: a.QuestionID, Value: a.Value, Note: a.Note}
	}
	return m
}

// DatasetCaseFromProto is DatasetCaseToProto's inverse.
func DatasetCaseFromProto(m *fieldworkv1.DatasetCase) framework.DatasetCase {
	c := framework.DatasetCase{InspectionID: m.GetInspectionId(), Unit: m.GetUnit(), Ref: m.GetCaseRef(),
		Status: framework.CaseStatus(m.GetStatus()), Attributes: m.GetAttributes()}
	if n := len(m.GetAnswers()); n > 0 {
		c.Answers = make([]framework.DatasetAnswer, n)
		for i, a := range m.GetAnswers() {
			c.Answers[i] = framework.DatasetAnswer{QuestionID: a.GetQuestionId(), Value: a.GetValue(), Note: a.GetNote()}
		}
	}
	return c
}
