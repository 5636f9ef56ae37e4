package server

import (
	"context"
	"math"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/agreement"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// markingPairs is where the agreement figures' pairs come from: the
// store's double-marked, submitted markings. Tests feed pairs in directly
// (export_test.go).
var markingPairs = func(ctx context.Context, db *store.DB, inspectionID string) ([]framework.MarkingPair, error) {
	return db.MarkingPairs(ctx, inspectionID)
}

// agreementThreshold is the request's flag threshold, checked.
func agreementThreshold(req *fieldworkv1.GetReportRequest) (float64, error) {
	if !req.GetHasAgreementBelow() {
		return agreement.DefaultThreshold, nil
	}
	t := req.GetAgreementBelow()
	if math.IsNaN(t) || t < -1 || t > 1 {
		return 0, framework.Errorf(framework.CodeInvalid, "agreement_below: %v is not an agreement between -1 and 1", t)
	}
	return t, nil
}

// reportWithAgreement is GetReport with the agreement figures. Who reads
// which is framework.AgreementView's: whoever reads the report gets it
// whole with every figure; an inspector gets a report holding only the
// figures computed over their own cases (agreement_only), so that neither
// the report's figures nor another inspector's agreement reach them.
func reportWithAgreement(ctx context.Context, db *store.DB, u framework.User, ids []string, req *fieldworkv1.GetReportRequest) (*aggregate.Report, error) {
	if len(ids) != 1 {
		return nil, framework.Errorf(framework.CodeInvalid, "agreement: the figures are an inspection's own; give inspection_id, not inspection_ids")
	}
	threshold, err := agreementThreshold(req)
	if err != nil {
		return nil, err
	}
	in, err := db.Inspection(ctx, u, ids[0])
	if err != nil {
		return nil, err
	}
	scope := framework.AgreementView(in.Role)
	var fw *framework.Framework
	var r *aggregate.Report
	switch scope {
	case framework.AgreementAll:
		if fw, r, err = computeReport(ctx, db, ids, req.GetBy(), req.GetCaseProgress()); err != nil {
			return nil, err
		}
	case framework.AgreementOwn:
		if fw, _, err = db.Framework(ctx, in.FrameworkID, in.FrameworkVersion); err != nil {
			return nil, err
		}
		r = &aggregate.Report{InspectionID: in.ID, InspectionName: in.Name, FrameworkID: in.FrameworkID, FrameworkVersion: in.FrameworkVersion,
			Rated: fw.Rated(), GeneratedAt: db.Now().UTC(), AgreementOnly: true}
	default:
		return nil, framework.NotOnTeamError(ids[0]) // the policy refused it already
	}
	if r.Agreement, err = agreementFigures(ctx, db, u, in.ID, fw, scope, threshold); err != nil {
		return nil, err
	}
	return r, nil
}

// agreementFigures computes an inspection's agreement figures as scope
// lets u read them: all, or over u's own cases alone.
func agreementFigures(ctx context.Context, db *store.DB, u framework.User, inspectionID string, fw *framework.Framework, scope framework.AgreementScope, threshold float64) (*agreement.Result, error) {
	pairs, err := markingPairs(ctx, db, inspectionID)
	if err != nil {
		return nil, err
	}
	amended, err := db.QAAmendments(ctx, inspectionID)
	if err != nil {
		return nil, err
	}
	opt := agreement.Options{Threshold: threshold, Amendments: map[string]agreement.Amendments{}}
	own := func(inspector string) bool { return scope == framework.AgreementAll || inspector == u.Name }
	var mine []framework.MarkingPair
	for _, p := range pairs {
		if own(p.FirstMarker) {
			mine = append(mine, p)
		}
	}
	for _, a := range amended {
		if own(a.Inspector) {
			opt.Amendments[a.Inspector] = agreement.Amendments{Submitted: a.Submitted, Amended: a.Amended}
		}
	}
	res := agreement.Compute(fw, mine, opt)
	if scope == framework.AgreementOwn {
		res.OnlyInspector = u.Name
	}
	return res, nil
}

// liveAgreement is the live view's agreement table: every figure (the
// live view opens for report readers only), at the default threshold, and
// none until a case is double-marked or an answer amended.
func liveAgreement(ctx context.Context, db *store.DB, u framework.User, inspectionID string, fw *framework.Framework) (*agreement.Result, error) {
	res, err := agreementFigures(ctx, db, u, inspectionID, fw, framework.AgreementAll, agreement.DefaultThreshold)
	if err != nil || res.KeyQuestions.Pairs > 0 {
		return res, err
	}
	for _, q := range res.Questions {
		if q.Pairs > 0 {
			return res, nil
		}
	}
	for _, i := range res.Inspectors {
		if i.Amended > 0 {
			return res, nil
		}
	}
	return nil, nil
}
