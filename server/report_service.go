package server

import (
	"context"
	"slices"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/store"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// reportService serves ReportService (report_service.proto).
type reportService struct {
	fieldworkv1.UnimplementedReportServiceServer
	db *store.DB
}

func (s *reportService) GetReport(ctx context.Context, req *fieldworkv1.GetReportRequest) (*fieldworkv1.GetReportResponse, error) {
	ids := req.GetInspectionIds()
	switch {
	case req.GetInspectionId() != "" && len(ids) > 0:
		return nil, framework.Errorf(framework.CodeInvalid, "give inspection_id or inspection_ids, not both")
	case req.GetInspectionId() != "":
		ids = []string{req.GetInspectionId()}
	case len(ids) == 0:
		return nil, framework.Errorf(framework.CodeInvalid, "inspection_id is required")
	}
	// Each attribute is one breakdown of every figure: counted once, and
	// no more of them than a framework can have (plus unit).
	var by []string
	for _, attr := range req.GetBy() {
		if !slices.Contains(by, attr) {
			by = append(by, attr)
		}
	}
	if len(by) > framework.MaxAttributes+1 {
		return nil, framework.Errorf(framework.CodeInvalid, "by: %d attributes, more than a framework has (%d)", len(by), framework.MaxAttributes)
	}
	if len(ids) > 1 && len(by) == 1 && by[0] == aggregate.UnitAttribute {
		by = nil // a pooled report always has its per-unit breakdown, from the kept counts
	}
	var fw *framework.Framework
	var in aggregate.Input
	var err error
	if len(ids) > 1 && len(by) == 0 {
		// A pooled report without breakdowns reads the kept per-question
		// counts, not every answer (regional and national views).
		fw, in, err = s.db.PooledCounts(ctx, ids...)
	} else {
		fw, in, err = s.db.ReportInput(ctx, ids...)
	}
	if err != nil {
		return nil, err
	}
	for _, attr := range by {
		if attr == aggregate.UnitAttribute && len(ids) == 1 {
			return nil, framework.Errorf(framework.CodeInvalid, "by: %s breaks down pooled reports (--inspections) only", attr)
		}
		if _, ok := fw.Attribute(attr); !ok && attr != aggregate.UnitAttribute {
			return nil, framework.Errorf(framework.CodeInvalid, "by: %q is not a case attribute of framework %s", attr, fw.ID)
		}
	}
	r := aggregate.ComputeWith(fw, in, aggregate.Options{By: by})
	return &fieldworkv1.GetReportResponse{Report: wire.ReportToProto(r)}, nil
}

func (s *reportService) ListEvidence(ctx context.Context, req *fieldworkv1.ListEvidenceRequest) (*fieldworkv1.ListEvidenceResponse, error) {
	_, rows, err := evidence(ctx, s.db, userFrom(ctx), req.GetInspectionId(), req.GetQuestionId(), aggregate.EvidenceFilter{
		Value: req.GetValue(), Where: req.GetWhere(), Grep: req.GetGrep()})
	if err != nil {
		return nil, err
	}
	resp := &fieldworkv1.ListEvidenceResponse{}
	for _, r := range rows {
		resp.Rows = append(resp.Rows, wire.EvidenceRowToProto(r))
	}
	return resp, nil
}

// evidence lists the cases behind one figure among those u may see
// (framework.CanSeeCase): the API and the live view both call it.
func evidence(ctx context.Context, db *store.DB, u framework.User, inspectionID, questionID string, f aggregate.EvidenceFilter) (*framework.Framework, []aggregate.EvidenceRow, error) {
	if questionID == "" {
		return nil, nil, framework.Errorf(framework.CodeInvalid, "question_id is required")
	}
	in, err := db.Inspection(ctx, u, inspectionID)
	if err != nil {
		return nil, nil, err
	}
	fw, cases, answers, err := db.QuestionAnswers(ctx, inspectionID, questionID)
	if err != nil {
		return nil, nil, err
	}
	visible := cases[:0]
	for _, c := range cases {
		if framework.CanSeeCase(in.Role, c.Inspector == u.Name) {
			visible = append(visible, c)
		}
	}
	rows, err := aggregate.Evidence(fw, visible, answers, questionID, f)
	return fw, rows, err
}
