package server

import (
	"context"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/store"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// reportService serves ReportService (report_service.proto).
type reportService struct {
	fieldworkv1.UnimplementedReportServiceServer
	db        *store.DB
	pageBytes int // a dataset message's byte budget, as a pull page's
	pages     *pageGate
}

// reportIDs are the inspections a report or export request names: one,
// or several to pool.
func reportIDs(one string, many []string) ([]string, error) {
	switch {
	case one != "" && len(many) > 0:
		return nil, framework.Errorf(framework.CodeInvalid, "give inspection_id or inspection_ids, not both")
	case one != "":
		return []string{one}, nil
	case len(many) == 0:
		return nil, framework.Errorf(framework.CodeInvalid, "inspection_id is required")
	}
	return many, nil
}

func (s *reportService) GetReport(ctx context.Context, req *fieldworkv1.GetReportRequest) (*fieldworkv1.GetReportResponse, error) {
	ids, err := reportIDs(req.GetInspectionId(), req.GetInspectionIds())
	if err != nil {
		return nil, err
	}
	if req.GetAgreement() {
		r, err := reportWithAgreement(ctx, s.db, userFrom(ctx), ids, req)
		if err != nil {
			return nil, err
		}
		return &fieldworkv1.GetReportResponse{Report: wire.ReportToProto(r)}, nil
	}
	_, r, err := computeReport(ctx, s.db, ids, req.GetBy(), req.GetCaseProgress())
	if err != nil {
		return nil, err
	}
	if len(ids) == 1 {
		blind, err := blindCases(ctx, s.db, userFrom(ctx), ids[0])
		if err != nil {
			return nil, err
		}
		hideBlind(r, blind)
	}
	return &fieldworkv1.GetReportResponse{Report: wire.ReportToProto(r)}, nil
}

// perCaseGate admits one pooled report with per-case sections at a time.
var perCaseGate = make(chan struct{}, 1)

// computeReport is the report of one inspection or several pooled, broken
// down by the attributes asked for, as GetReport and the live view give
// it. A pooled report reads the kept counts, by attribute too, and no
// answer (regional and national views); its per-case sections only when
// asked, one inspection's answers at a time. The caller has checked that
// the user may read the report of every inspection.
func computeReport(ctx context.Context, db *store.DB, ids, attrs []string, caseProgress bool) (*framework.Framework, *aggregate.Report, error) {
	if len(ids) > 1 && caseProgress {
		// The per-case sections of a pooled report are the one part that
		// reads every answer (about 180 MB of working memory nationally):
		// one such report at a time, so that several at once stay within
		// the server's memory bound (BENCHMARKS.md); the others wait.
		select {
		case perCaseGate <- struct{}{}:
			defer func() { <-perCaseGate }()
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	// Each attribute is one breakdown of every figure: counted once, and
	// no more of them than a framework can have (plus unit).
	var by []string
	for _, attr := range attrs {
		if !slices.Contains(by, attr) {
			by = append(by, attr)
		}
	}
	if len(by) > framework.MaxAttributes+1 {
		return nil, nil, framework.Errorf(framework.CodeInvalid, "by: %d attributes, more than a framework has (%d)", len(by), framework.MaxAttributes)
	}
	// A purged inspection's report is the one kept when it was purged: its
	// case data, from which anything else would be computed, is gone.
	if len(ids) == 1 {
		fw, r, err := frozenReport(ctx, db, ids[0])
		if err != nil || r != nil {
			if err == nil && len(by) > 0 {
				err = purgedError(ids[0], "its figures are no longer broken down afresh")
			}
			return fw, r, err
		}
	} else if err := refusePurged(ctx, db, ids, "its case data can no longer be pooled; leave it out of --inspections"); err != nil {
		return nil, nil, err
	}
	var fw *framework.Framework
	var in aggregate.Input
	var perCase *aggregate.PerCase
	var err error
	if len(ids) > 1 {
		opts := store.PoolOptions{By: by}
		if caseProgress {
			perCase = &aggregate.PerCase{}
			opts.EachUnit = func(fw *framework.Framework, unit framework.Sample) error {
				perCase.Add(fw, unit)
				return nil
			}
		}
		fw, in, err = db.PooledSample(ctx, opts, ids...)
	} else {
		fw, in, err = db.ReportInput(ctx, ids...)
	}
	if err != nil {
		return nil, nil, err
	}
	for _, attr := range by {
		if attr == aggregate.UnitAttribute && len(ids) == 1 {
			return nil, nil, framework.Errorf(framework.CodeInvalid, "by: %s breaks down pooled reports (--inspections) only", attr)
		}
		if _, ok := fw.Attribute(attr); !ok && attr != aggregate.UnitAttribute {
			return nil, nil, framework.Errorf(framework.CodeInvalid, "by: %q is not a case attribute of framework %s", attr, fw.ID)
		}
	}
	r := aggregate.ComputeWith(fw, in, aggregate.Options{By: by})
	if perCase != nil {
		perCase.Fill(fw, r)
	}
	return fw, r, nil
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
	if in.Status == framework.InspectionPurged {
		return nil, nil, purgedError(inspectionID, "the cases behind its figures are gone")
	}
	fw, cases, answers, err := db.QuestionAnswers(ctx, inspectionID, questionID)
	if err != nil {
		return nil, nil, err
	}
	blind, err := db.BlindCases(ctx, u, in.Role, inspectionID)
	if err != nil {
		return nil, nil, err
	}
	visible := cases[:0]
	for _, c := range cases {
		if framework.CanSeeCase(in.Role, c.Inspector == u.Name) && !blind[c.Ref] {
			visible = append(visible, c)
		}
	}
	rows, err := aggregate.Evidence(fw, visible, answers, questionID, f)
	return fw, rows, err
}

// datasetPageCases is how many cases a dataset page reads at most: with the
// PDU framework's 66 questions about 13,000 answers, a few MB with notes.
const datasetPageCases = 200

// ExportDataset streams the case-level dataset: the header, then each
// inspection's cases page by page (store.DatasetPage), each page read
// through the page gate and sent in messages of at most pageBytes. The
// export is audited before anything of it is sent.
func (s *reportService) ExportDataset(req *fieldworkv1.ExportDatasetRequest, stream fieldworkv1.ReportService_ExportDatasetServer) error {
	ctx := stream.Context()
	u := userFrom(ctx)
	ids, err := reportIDs(req.GetInspectionId(), req.GetInspectionIds())
	if err != nil {
		return err
	}
	if err := framework.FieldDeviceID.Check(req.GetDeviceId()); err != nil {
		return err
	}
	if err := refusePurged(ctx, s.db, ids, "its case-level dataset is gone"); err != nil {
		return err
	}
	_, h, err := s.db.DatasetSource(ctx, req.GetNotes(), ids...)
	if err != nil {
		return err
	}
	if err := s.db.AuditDatasetExport(ctx, actorFrom(ctx, req.GetDeviceId()), ids, req.GetNotes()); err != nil {
		return err
	}
	if err := stream.Send(&fieldworkv1.ExportDatasetResponse{Header: wire.DatasetHeaderToProto(h)}); err != nil {
		return err
	}
	for i, id := range ids {
		for after, more := "", true; more; {
			leave, err := s.pages.enter(ctx, u.Name)
			if err != nil {
				return err
			}
			var cases []framework.DatasetCase
			cases, after, more, err = s.db.DatasetPage(ctx, u, id, after, datasetPageCases, req.GetNotes())
			leave()
			if err != nil {
				return err
			}
			if err := sendCases(stream, h.Units[i], cases, s.pageBytes); err != nil {
				return err
			}
		}
	}
	return nil
}

// sendCases sends cases in messages of at most budget bytes, each with at
// least one case (a case is at most a few hundred KB: framework/limits.go).
func sendCases(stream fieldworkv1.ReportService_ExportDatasetServer, unit string, cases []framework.DatasetCase, budget int) error {
	resp := &fieldworkv1.ExportDatasetResponse{}
	size := 0
	for _, c := range cases {
		c.Unit = unit
		m := wire.DatasetCaseToProto(c)
		n := proto.Size(m)
		n += protoLenOverhead(n)
		if len(resp.Cases) > 0 && size+n > budget {
			if err := stream.Send(resp); err != nil {
				return err
			}
			resp, size = &fieldworkv1.ExportDatasetResponse{}, 0
		}
		resp.Cases = append(resp.Cases, m)
		size += n
	}
	if len(resp.Cases) == 0 {
		return nil
	}
	return stream.Send(resp)
}
