package report

import (
	"encoding/json"
	"io"
	"math"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/agreement"
)

// The agreement figures in the report's JSON (docs/report-json.md,
// docs/agreement.md).

type agreementFigureDoc struct {
	Cases   int  `json:"cases"`
	Pairs   int  `json:"pairs"`
	Agree   int  `json:"agree"`
	Percent *int `json:"percent"`
	coefficientDocs
	Flagged bool `json:"flagged"`
}

// coefficientDocs are kappa and AC1, each null with a reason when not
// defined.
type coefficientDocs struct {
	Kappa          *float64    `json:"kappa"`
	KappaSE        *float64    `json:"kappa_se"`
	KappaCI95      *[2]float64 `json:"kappa_ci95"`
	KappaUndefined string      `json:"kappa_undefined,omitempty"`
	AC1            *float64    `json:"ac1"`
	AC1SE          *float64    `json:"ac1_se"`
	AC1CI95        *[2]float64 `json:"ac1_ci95"`
	AC1Undefined   string      `json:"ac1_undefined,omitempty"`
}

type questionAgreementDoc struct {
	QuestionID string `json:"question_id"`
	Kind       string `json:"kind"`
	agreementFigureDoc
}

type inspectorAgreementDoc struct {
	Inspector string `json:"inspector"`
	agreementFigureDoc
	SubmittedAnswers int  `json:"submitted_answers"`
	AmendedAnswers   int  `json:"amended_answers"`
	AmendedPercent   *int `json:"amended_percent"`
}

type agreementDoc struct {
	Threshold     float64                 `json:"threshold"`
	OnlyInspector *string                 `json:"only_inspector"`
	KeyQuestions  agreementFigureDoc      `json:"key_questions"`
	Questions     []questionAgreementDoc  `json:"questions"`
	Inspectors    []inspectorAgreementDoc `json:"inspectors"`
}

// round4 is a coefficient to four decimals, half up.
func round4(x float64) float64 { return math.Floor(x*1e4+0.5) / 1e4 }

func coefficientDoc(c agreement.Coefficient) (v, se *float64, ci *[2]float64, why string) {
	if !c.Defined {
		return nil, nil, nil, c.Undefined
	}
	return ptr(round4(c.Value)), ptr(round4(c.SE)), &[2]float64{round4(c.Low), round4(c.High)}, ""
}

func figureDoc(f agreement.Figure) agreementFigureDoc {
	d := agreementFigureDoc{Cases: f.Cases, Pairs: f.Pairs, Agree: f.Agree, Flagged: f.Flagged}
	if p, ok := f.Percent(); ok {
		d.Percent = ptr(p)
	}
	d.Kappa, d.KappaSE, d.KappaCI95, d.KappaUndefined = coefficientDoc(f.Kappa)
	d.AC1, d.AC1SE, d.AC1CI95, d.AC1Undefined = coefficientDoc(f.AC1)
	return d
}

// agreementJSON is the report's "agreement", nil when not asked for.
func agreementJSON(r *aggregate.Report) *agreementDoc {
	a := r.Agreement
	if a == nil {
		return nil
	}
	d := &agreementDoc{Threshold: a.Threshold, KeyQuestions: figureDoc(a.KeyQuestions),
		Questions: []questionAgreementDoc{}, Inspectors: []inspectorAgreementDoc{}}
	if a.OnlyInspector != "" {
		d.OnlyInspector = ptr(a.OnlyInspector)
	}
	for _, q := range a.Questions {
		d.Questions = append(d.Questions, questionAgreementDoc{QuestionID: q.ID, Kind: string(q.Kind), agreementFigureDoc: figureDoc(q.Figure)})
	}
	for _, i := range a.Inspectors {
		id := inspectorAgreementDoc{Inspector: i.Name, agreementFigureDoc: figureDoc(i.Figure), SubmittedAnswers: i.Submitted, AmendedAnswers: i.Amended}
		if p, ok := i.Amendments.Percent(); ok {
			id.AmendedPercent = ptr(p)
		}
		d.Inspectors = append(d.Inspectors, id)
	}
	return d
}

// agreementOnlyJSON is the JSON of a report that holds only its reader's
// own agreement figures: no figure of the report is in it, not even as 0.
func agreementOnlyJSON(w io.Writer, r *aggregate.Report) error {
	d := struct {
		InspectionID     string        `json:"inspection_id"`
		Inspection       string        `json:"inspection"`
		Framework        string        `json:"framework"`
		FrameworkVersion int           `json:"framework_version"`
		GeneratedAt      time.Time     `json:"generated_at"`
		AgreementOnly    bool          `json:"agreement_only"`
		Agreement        *agreementDoc `json:"agreement"`
	}{r.InspectionID, r.InspectionName, r.FrameworkID, r.FrameworkVersion, r.GeneratedAt, true, agreementJSON(r)}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}
