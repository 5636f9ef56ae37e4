package server

import (
	"context"

	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/store"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// auditService serves AuditService (audit_service.proto).
type auditService struct {
	fieldworkv1.UnimplementedAuditServiceServer
	db *store.DB
}

func (s *auditService) ListAudit(ctx context.Context, req *fieldworkv1.ListAuditRequest) (*fieldworkv1.ListAuditResponse, error) {
	limit := int(req.GetLimit())
	switch {
	case limit <= 0:
		limit = 1000
	case limit > 10000:
		limit = 10000
	}
	entries, err := s.db.Audit(ctx, req.GetInspectionId(), req.GetCaseRef(), req.GetAfter(), limit)
	if err != nil {
		return nil, err
	}
	resp := &fieldworkv1.ListAuditResponse{}
	for _, e := range entries {
		resp.Entries = append(resp.Entries, wire.AuditEntryToProto(e))
	}
	if len(entries) == limit {
		resp.Next = entries[len(entries)-1].Seq
	}
	return resp, nil
}
