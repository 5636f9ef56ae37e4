package wire

import (
	"github.com/fieldworkhq/fieldwork/internal/agreement"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

// The agreement figures of a report (report_service.proto: Agreement).

// AgreementToProto is the wire form of agreement figures; nil for none.
func AgreementToProto(r *agreement.Result) *fieldworkv1.Agreement {
	if r == nil {
		return nil
	}
	m := &fieldworkv1.Agreement{Threshold: r.Threshold, KeyQuestions: agreementFigureToProto(r.KeyQuestions), OnlyInspector: r.OnlyInspector}
	for _, q := range r.Questions {
		m.Questions = append(m.Questions, &fieldworkv1.QuestionAgreement{QuestionId: q.ID, Kind: string(q.Kind), Figure: agreementFigureToProto(q.Figure)})
	}
	for _, i := range r.Inspectors {
		m.Inspectors = append(m.Inspectors, &fieldworkv1.InspectorAgreement{Inspector: i.Name, Figure: agreementFigureToProto(i.Figure),
			SubmittedAnswers: int32(i.Submitted), AmendedAnswers: int32(i.Amended)})
	}
	return m
}

// AgreementFromProto is AgreementToProto's inverse; nil for none.
func AgreementFromProto(m *fieldworkv1.Agreement) *agreement.Result {
	if m == nil {
		return nil
	}
	r := &agreement.Result{Threshold: m.GetThreshold(), KeyQuestions: agreementFigureFromProto(m.GetKeyQuestions()), OnlyInspector: m.GetOnlyInspector()}
	for _, q := range m.GetQuestions() {
		r.Questions = append(r.Questions, agreement.Question{ID: q.GetQuestionId(), Kind: framework.QuestionKind(q.GetKind()), Figure: agreementFigureFromProto(q.GetFigure())})
	}
	for _, i := range m.GetInspectors() {
		r.Inspectors = append(r.Inspectors, agreement.Inspector{Name: i.GetInspector(), Figure: agreementFigureFromProto(i.GetFigure()),
			Amendments: agreement.Amendments{Submitted: int(i.GetSubmittedAnswers()), Amended: int(i.GetAmendedAnswers())}})
	}
	return r
}

func agreementFigureToProto(f agreement.Figure) *fieldworkv1.AgreementFigure {
	return &fieldworkv1.AgreementFigure{Cases: int32(f.Cases), Pairs: int32(f.Pairs), Agree: int32(f.Agree),
		Kappa: coefficientToProto(f.Kappa), Ac1: coefficientToProto(f.AC1), Flagged: f.Flagged}
}

func agreementFigureFromProto(m *fieldworkv1.AgreementFigure) agreement.Figure {
	return agreement.Figure{Cases: int(m.GetCases()), Pairs: int(m.GetPairs()), Agree: int(m.GetAgree()),
		Kappa: coefficientFromProto(m.GetKappa()), AC1: coefficientFromProto(m.GetAc1()), Flagged: m.GetFlagged()}
}

func coefficientToProto(c agreement.Coefficient) *fieldworkv1.AgreementCoefficient {
	return &fieldworkv1.AgreementCoefficient{Defined: c.Defined, Undefined: c.Undefined, Value: c.Value, Se: c.SE, Low: c.Low, High: c.High}
}

func coefficientFromProto(m *fieldworkv1.AgreementCoefficient) agreement.Coefficient {
	return agreement.Coefficient{Defined: m.GetDefined(), Undefined: m.GetUndefined(), Value: m.GetValue(), SE: m.GetSe(), Low: m.GetLow(), High: m.GetHigh()}
}
