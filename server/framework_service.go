package server

import (
	"context"

	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/store"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// frameworkService serves FrameworkService (framework_service.proto): the frameworks the server holds.
type frameworkService struct {
	fieldworkv1.UnimplementedFrameworkServiceServer
	db *store.DB
}

func (s *frameworkService) ListFrameworks(ctx context.Context, _ *fieldworkv1.ListFrameworksRequest) (*fieldworkv1.ListFrameworksResponse, error) {
	fws, err := s.db.Frameworks(ctx)
	if err != nil {
		return nil, err
	}
	resp := &fieldworkv1.ListFrameworksResponse{}
	for _, f := range fws {
		resp.Frameworks = append(resp.Frameworks, wire.FrameworkInfoToProto(f))
	}
	return resp, nil
}

func (s *frameworkService) GetFramework(ctx context.Context, req *fieldworkv1.GetFrameworkRequest) (*fieldworkv1.GetFrameworkResponse, error) {
	fw, raw, err := s.db.Framework(ctx, req.GetId(), int(req.GetVersion()))
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.GetFrameworkResponse{
		Framework:  wire.FrameworkToProto(fw),
		Definition: raw,
	}, nil
}
