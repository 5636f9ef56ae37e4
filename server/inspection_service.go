package server

import (
	"bytes"
	"context"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/store"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// inspectionService serves InspectionService (inspection_service.proto): inspections,
// their cases and judgements, imports and status changes.
type inspectionService struct {
	fieldworkv1.UnimplementedInspectionServiceServer
	db *store.DB
}

func (s *inspectionService) CreateInspection(ctx context.Context, req *fieldworkv1.CreateInspectionRequest) (*fieldworkv1.CreateInspectionResponse, error) {
	if req.GetFrameworkId() == "" {
		return nil, framework.Errorf(framework.CodeInvalid, "framework_id is required")
	}
	in, err := s.db.CreateInspection(ctx, actorFrom(ctx, ""), req.GetName(), req.GetUnit(), req.GetFrameworkId(), int(req.GetFrameworkVersion()))
	if err != nil {
		return nil, err
	}
	in.Role = framework.RoleAdmin
	return &fieldworkv1.CreateInspectionResponse{Inspection: wire.InspectionToProto(in)}, nil
}

func (s *inspectionService) GetInspection(ctx context.Context, req *fieldworkv1.GetInspectionRequest) (*fieldworkv1.GetInspectionResponse, error) {
	in, err := s.db.Inspection(ctx, userFrom(ctx), req.GetId())
	if err != nil {
		return nil, err
	}
	resp := &fieldworkv1.GetInspectionResponse{Inspection: wire.InspectionToProto(in)}
	// How the sample was drawn is the report's method: shown to those who
	// read the report, not to an inspector.
	if framework.CanReadReport(in.Role) {
		samples, err := s.db.Samples(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		for _, si := range samples {
			resp.Samples = append(resp.Samples, wire.SampleInfoToProto(si))
		}
	}
	return resp, nil
}

func (s *inspectionService) ListInspections(ctx context.Context, _ *fieldworkv1.ListInspectionsRequest) (*fieldworkv1.ListInspectionsResponse, error) {
	ins, err := s.db.Inspections(ctx, userFrom(ctx))
	if err != nil {
		return nil, err
	}
	resp := &fieldworkv1.ListInspectionsResponse{}
	for _, in := range ins {
		resp.Inspections = append(resp.Inspections, wire.InspectionToProto(in))
	}
	return resp, nil
}

func (s *inspectionService) ImportCases(ctx context.Context, req *fieldworkv1.ImportCasesRequest) (*fieldworkv1.ImportCasesResponse, error) {
	rows, err := interchange.ReadCases(bytes.NewReader(req.GetCsv()))
	if err != nil {
		return nil, onePass(err, func() error { return s.db.CheckCases(ctx, req.GetInspectionId(), rows) })
	}
	a := actorFrom(ctx, req.GetDeviceId())
	var created, updated int
	if req.GetSampleInfo() != nil {
		info := wire.SampleInfoFromProto(req.GetSampleInfo())
		info.ImportedAt, info.ImportedBy, info.DeviceID = time.Time{}, "", "" // the server's to set
		if err := framework.CheckSampleInfo(info, req.GetCsv()); err != nil {
			return nil, err
		}
		created, updated, err = s.db.ImportSample(ctx, a, req.GetInspectionId(), rows, info)
	} else {
		created, updated, err = s.db.ImportCases(ctx, a, req.GetInspectionId(), rows)
	}
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.ImportCasesResponse{Created: int32(created), Updated: int32(updated)}, nil
}

func (s *inspectionService) ImportAnswers(ctx context.Context, req *fieldworkv1.ImportAnswersRequest) (*fieldworkv1.ImportAnswersResponse, error) {
	rows, err := interchange.ReadAnswers(bytes.NewReader(req.GetCsv()))
	if err != nil {
		return nil, onePass(err, func() error { return s.db.CheckAnswers(ctx, req.GetInspectionId(), rows) })
	}
	applied, unchanged, err := s.db.ImportAnswers(ctx, actorFrom(ctx, req.GetDeviceId()), req.GetInspectionId(), rows)
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.ImportAnswersResponse{Applied: int32(applied), Unchanged: int32(unchanged)}, nil
}

func (s *inspectionService) ImportJudgements(ctx context.Context, req *fieldworkv1.ImportJudgementsRequest) (*fieldworkv1.ImportJudgementsResponse, error) {
	rows, err := interchange.ReadJudgements(bytes.NewReader(req.GetCsv()))
	if err != nil {
		return nil, onePass(err, func() error { return s.db.CheckJudgements(ctx, req.GetInspectionId(), rows) })
	}
	if err := s.db.RecordJudgements(ctx, actorFrom(ctx, req.GetDeviceId()), req.GetInspectionId(), rows); err != nil {
		return nil, err
	}
	return &fieldworkv1.ImportJudgementsResponse{Applied: int32(len(rows))}, nil
}

func (s *inspectionService) ImportFindings(ctx context.Context, req *fieldworkv1.ImportFindingsRequest) (*fieldworkv1.ImportFindingsResponse, error) {
	rows, err := interchange.ReadFindings(bytes.NewReader(req.GetCsv()))
	if err != nil {
		return nil, onePass(err, func() error {
			return s.db.CheckFindings(ctx, actorFrom(ctx, req.GetDeviceId()), req.GetInspectionId(), rows)
		})
	}
	applied, unchanged, err := s.db.ImportFindings(ctx, actorFrom(ctx, req.GetDeviceId()), req.GetInspectionId(), rows)
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.ImportFindingsResponse{Applied: int32(applied), Unchanged: int32(unchanged)}, nil
}

// onePass is an import's error when the file's reader found problems
// (readErr): the rows it could read are still checked against the
// framework by the store's own checks (check, which writes nothing), so
// that one run reports every problem of the file, the reader's and the
// store's, in line order. A refusal whatever the rows (the inspection
// locked) is the answer alone; the caller holds the import's permission
// (the same policy entry), so the checks tell it nothing it may not see.
func onePass(readErr error, check func() error) error {
	file := framework.RowProblemsOf(readErr)
	if file == nil { // the file could not be read at all: no rows
		return readErr
	}
	err := check()
	if err == nil {
		return readErr
	}
	more := framework.RowProblemsOf(err)
	if more == nil {
		return err
	}
	file.Merge(more)
	if file.File == "answers.csv" {
		// Each answer is judged on its case as the whole file leaves it,
		// and the rows that could not be read are not in it.
		file.Note = "Rows that could not be read were left out of the checks against the framework: " +
			"an answer to a question that depends on one of them may show as not asked yet until that row is fixed."
	}
	return file.Err()
}

func (s *inspectionService) RecordJudgement(ctx context.Context, req *fieldworkv1.RecordJudgementRequest) (*fieldworkv1.RecordJudgementResponse, error) {
	if err := framework.FieldRationale.Check(req.GetRationale()); err != nil {
		return nil, err
	}
	rows := []interchange.JudgementRow{{StandardID: req.GetStandardId(), Rating: req.GetRating(), Rationale: req.GetRationale()}}
	if err := s.db.RecordJudgements(ctx, actorFrom(ctx, req.GetDeviceId()), req.GetInspectionId(), rows); err != nil {
		return nil, err
	}
	j, err := s.db.Judgement(ctx, req.GetInspectionId(), req.GetStandardId())
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.RecordJudgementResponse{Judgement: wire.JudgementToProto(req.GetInspectionId(), j)}, nil
}

func (s *inspectionService) ListCases(ctx context.Context, req *fieldworkv1.ListCasesRequest) (*fieldworkv1.ListCasesResponse, error) {
	u := userFrom(ctx)
	in, err := s.db.Inspection(ctx, u, req.GetInspectionId())
	if err != nil {
		return nil, err
	}
	cs, err := s.db.Cases(ctx, req.GetInspectionId(), "")
	if err != nil {
		return nil, err
	}
	resp := &fieldworkv1.ListCasesResponse{}
	for _, c := range cs {
		if !framework.CanSeeCase(in.Role, c.Inspector == u.Name) {
			continue
		}
		resp.Cases = append(resp.Cases, wire.CaseToProto(req.GetInspectionId(), c))
	}
	return resp, nil
}

func (s *inspectionService) SetCaseStatus(ctx context.Context, req *fieldworkv1.SetCaseStatusRequest) (*fieldworkv1.SetCaseStatusResponse, error) {
	if err := framework.FieldReason.Check(req.GetReason()); err != nil {
		return nil, err
	}
	c, err := s.db.SetCaseStatus(ctx, userFrom(ctx), req.GetDeviceId(), req.GetInspectionId(), req.GetCaseRef(), framework.CaseStatus(req.GetStatus()), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.SetCaseStatusResponse{Case: wire.CaseToProto(req.GetInspectionId(), c)}, nil
}

func (s *inspectionService) SetInspectionStatus(ctx context.Context, req *fieldworkv1.SetInspectionStatusRequest) (*fieldworkv1.SetInspectionStatusResponse, error) {
	if err := framework.FieldReason.Check(req.GetReason()); err != nil {
		return nil, err
	}
	in, err := s.db.SetInspectionStatus(ctx, userFrom(ctx), req.GetDeviceId(), req.GetInspectionId(), framework.InspectionStatus(req.GetStatus()), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.SetInspectionStatusResponse{Inspection: wire.InspectionToProto(in)}, nil
}
