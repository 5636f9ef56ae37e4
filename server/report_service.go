package server

import (
	"context"

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
	var fw *framework.Framework
	var in aggregate.Input
	var err error
	if len(ids) > 1 && len(req.GetBy()) == 0 {
		// A pooled report without breakdowns reads the kept per-question
		// counts, not every answer (regional and national views).
		fw, in, err = s.db.PooledCounts(ctx, ids...)
	} else {
		fw, in, err = s.db.ReportInput(ctx, ids...)
	}
	if err != nil {
		return nil, err
	}
	for _, attr := range req.GetBy() {
		if _, ok := fw.Attribute(attr); !ok && attr != aggregate.UnitAttribute {
			return nil, framework.Errorf(framework.CodeInvalid, "by: %q is not a case attribute of framework %s", attr, fw.ID)
		}
	}
	r := aggregate.ComputeWith(fw, in, aggregate.Options{By: req.GetBy()})
	return &fieldworkv1.GetReportResponse{Report: wire.ReportToProto(r)}, nil
}
