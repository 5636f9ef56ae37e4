package server

import (
	"context"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/store"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// adminService serves AdminService (admin_service.proto): users, tokens and teams.
type adminService struct {
	fieldworkv1.UnimplementedAdminServiceServer
	db *store.DB
}

func (s *adminService) CreateUser(ctx context.Context, req *fieldworkv1.CreateUserRequest) (*fieldworkv1.CreateUserResponse, error) {
	if err := s.db.CreateUser(ctx, actorFrom(ctx, ""), req.GetName(), req.GetAdmin()); err != nil {
		return nil, err
	}
	return &fieldworkv1.CreateUserResponse{Name: req.GetName()}, nil
}

func (s *adminService) IssueToken(ctx context.Context, req *fieldworkv1.IssueTokenRequest) (*fieldworkv1.IssueTokenResponse, error) {
	ttl, err := framework.TokenTTL(req.GetTtlSeconds())
	if err != nil {
		return nil, err
	}
	token, exp, err := s.db.IssueToken(ctx, actorFrom(ctx, ""), req.GetUser(), ttl)
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.IssueTokenResponse{Token: token, ExpiresAt: wire.Timestamp(exp), TokenId: store.TokenID(token)}, nil
}

func (s *adminService) AddTeamMember(ctx context.Context, req *fieldworkv1.AddTeamMemberRequest) (*fieldworkv1.AddTeamMemberResponse, error) {
	if err := s.db.AddTeamMember(ctx, actorFrom(ctx, ""), req.GetInspectionId(), req.GetUser(), framework.Role(req.GetRole())); err != nil {
		return nil, err
	}
	return &fieldworkv1.AddTeamMemberResponse{}, nil
}

func (s *adminService) RemoveTeamMember(ctx context.Context, req *fieldworkv1.RemoveTeamMemberRequest) (*fieldworkv1.RemoveTeamMemberResponse, error) {
	role, n, err := s.db.RemoveTeamMember(ctx, actorFrom(ctx, ""), req.GetInspectionId(), req.GetUser())
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.RemoveTeamMemberResponse{Role: string(role), WithdrawnCases: int32(n)}, nil
}

func (s *adminService) WhoAmI(ctx context.Context, _ *fieldworkv1.WhoAmIRequest) (*fieldworkv1.WhoAmIResponse, error) {
	u := userFrom(ctx)
	return &fieldworkv1.WhoAmIResponse{Name: u.Name, Admin: u.Admin}, nil
}

func (s *adminService) RevokeToken(ctx context.Context, req *fieldworkv1.RevokeTokenRequest) (*fieldworkv1.RevokeTokenResponse, error) {
	n, err := s.db.RevokeToken(ctx, actorFrom(ctx, ""), req.GetUser(), req.GetTokenId())
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.RevokeTokenResponse{Revoked: int32(n)}, nil
}
