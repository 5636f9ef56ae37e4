package server

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

// access is what a method requires of its caller.
type access int

const (
	anyUser access = iota + 1 // any authenticated user; handlers check resources
	adminOnly
	inspectionRead  // framework.CanReadInspection on the request's inspection
	inspectionLead  // framework.CanLead on the request's inspection
	inspectionWrite // framework.CanWriteInspection on the inspection; cases checked per write
	reportRead      // framework.CanReadReport on the inspection
	// reportOrAgreement is reportRead, except that a request for agreement
	// figures (GetReportRequest.agreement) is let through for whoever
	// framework.AgreementView lets read some: the handler then sends an
	// inspector only their own (report_service.go).
	reportOrAgreement
	public // no token needed (health only)
)

// policy is the one table deciding who may call what. A method missing
// from it is refused, so a new RPC cannot ship without a decision.
var policy = map[string]access{
	fieldworkv1.FrameworkService_ListFrameworks_FullMethodName:       anyUser,
	fieldworkv1.FrameworkService_GetFramework_FullMethodName:         anyUser,
	fieldworkv1.InspectionService_CreateInspection_FullMethodName:    adminOnly,
	fieldworkv1.InspectionService_GetInspection_FullMethodName:       inspectionRead,
	fieldworkv1.InspectionService_ListInspections_FullMethodName:     anyUser,
	fieldworkv1.InspectionService_ImportCases_FullMethodName:         inspectionLead,
	fieldworkv1.InspectionService_ImportAnswers_FullMethodName:       inspectionLead,
	fieldworkv1.InspectionService_ImportJudgements_FullMethodName:    inspectionLead,
	fieldworkv1.InspectionService_RecordJudgement_FullMethodName:     inspectionLead,
	fieldworkv1.InspectionService_ImportFindings_FullMethodName:      inspectionLead,
	fieldworkv1.InspectionService_ListCases_FullMethodName:           inspectionRead,
	fieldworkv1.InspectionService_SetCaseStatus_FullMethodName:       inspectionWrite,
	fieldworkv1.InspectionService_SetInspectionStatus_FullMethodName: inspectionLead,
	fieldworkv1.AuditService_ListAudit_FullMethodName:                inspectionLead,
	fieldworkv1.AdminService_RevokeToken_FullMethodName:              adminOnly,
	fieldworkv1.AnswerService_RecordAnswer_FullMethodName:            inspectionWrite,
	fieldworkv1.AnswerService_ListAnswers_FullMethodName:             inspectionRead,
	fieldworkv1.SyncService_Push_FullMethodName:                      anyUser,
	fieldworkv1.SyncService_Pull_FullMethodName:                      anyUser,
	fieldworkv1.SyncService_DismissRefusals_FullMethodName:           anyUser, // only the caller's own refused ops
	fieldworkv1.ReportService_GetReport_FullMethodName:               reportOrAgreement,
	fieldworkv1.ReportService_ListEvidence_FullMethodName:            reportRead,
	fieldworkv1.ReportService_ExportDataset_FullMethodName:           reportRead,
	fieldworkv1.AdminService_CreateUser_FullMethodName:               adminOnly,
	fieldworkv1.AdminService_IssueToken_FullMethodName:               adminOnly,
	fieldworkv1.AdminService_AddTeamMember_FullMethodName:            adminOnly,
	fieldworkv1.AdminService_RemoveTeamMember_FullMethodName:         adminOnly,
	fieldworkv1.AdminService_WhoAmI_FullMethodName:                   anyUser,
	fieldworkv1.MarkingService_SelectForQA_FullMethodName:            inspectionLead,
	fieldworkv1.MarkingService_ListSelections_FullMethodName:         inspectionRead,  // lead and QA: checked in the handler
	fieldworkv1.MarkingService_ListDisagreements_FullMethodName:      inspectionWrite, // lead and QA: checked in the store
	fieldworkv1.MarkingService_Moderate_FullMethodName:               inspectionWrite, // lead and QA: checked in the store
	"/grpc.health.v1.Health/Check":                                   public,
	"/grpc.health.v1.Health/Watch":                                   public,
	"/grpc.health.v1.Health/List":                                    public,
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      anyUser,
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": anyUser,
}

type userKey struct{}

func userFrom(ctx context.Context) framework.User {
	u, _ := ctx.Value(userKey{}).(framework.User)
	return u
}

func actorFrom(ctx context.Context, device string) framework.Actor {
	u := userFrom(ctx)
	return framework.Actor{User: u.Name, Device: device, Admin: u.Admin}
}

// authenticate resolves the bearer token in the request metadata.
func (s *Server) authenticate(ctx context.Context) (framework.User, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) == 0 {
		return framework.User{}, status.Error(codes.Unauthenticated, "missing authorization metadata: send \"authorization: Bearer TOKEN\"")
	}
	token, ok := strings.CutPrefix(vals[0], "Bearer ")
	if !ok || token == "" {
		return framework.User{}, status.Error(codes.Unauthenticated, "authorization metadata must be \"Bearer TOKEN\"")
	}
	u, err := s.db.Authenticate(ctx, token)
	if err != nil {
		return framework.User{}, err // finish maps it (an internal one is logged)
	}
	return u, nil
}

// authorize checks the method's policy entry against the caller and, for
// inspection-scoped methods, the caller's role on that inspection.
func (s *Server) authorize(ctx context.Context, method string, u framework.User, req any) error {
	acc, ok := policy[method]
	if !ok {
		return status.Errorf(codes.PermissionDenied, "method %s has no access policy", method)
	}
	switch acc {
	case public, anyUser:
		return nil
	case adminOnly:
		if !u.Admin {
			return status.Errorf(codes.PermissionDenied, "%s: administrators only", method)
		}
		return nil
	}
	// An administrator's effective role on every inspection is admin
	// (framework.EffectiveRole), which every access class allows; skipping
	// the per-inspection read also lets them learn that an inspection does
	// not exist (the handler's NotFound), which nobody else may.
	if framework.EffectiveRole("", u.Admin) == framework.RoleAdmin {
		return nil
	}
	if r, ok := req.(*fieldworkv1.GetReportRequest); acc == reportOrAgreement && !(ok && r.GetAgreement()) {
		acc = reportRead
	}
	ids := inspectionIDsOf(req)
	if len(ids) == 0 {
		return status.Error(codes.InvalidArgument, "inspection_id is required")
	}
	for _, id := range ids {
		if err := s.authorizeOn(ctx, method, u, acc, id); err != nil {
			return err
		}
	}
	return nil
}

// authorizeOn checks the caller's role on one inspection against acc.
func (s *Server) authorizeOn(ctx context.Context, method string, u framework.User, acc access, id string) error {
	in, err := s.db.Inspection(ctx, u, id)
	if framework.ErrorCode(err) == framework.CodeNotFound {
		// The same words whether it exists or not (only administrators,
		// who pass before this, learn that an inspection does not exist).
		return framework.NotOnTeamError(id)
	}
	if err != nil {
		return err
	}
	allowed := map[access]func(framework.Role) bool{
		inspectionRead:  framework.CanReadInspection,
		inspectionLead:  framework.CanLead,
		inspectionWrite: framework.CanWriteInspection,
		reportRead:      framework.CanReadReport,
		reportOrAgreement: func(r framework.Role) bool {
			return framework.AgreementView(r) != framework.AgreementNone
		},
	}[acc]
	if allowed != nil && allowed(in.Role) {
		return nil
	}
	if in.Role == "" {
		return framework.NotOnTeamError(id)
	}
	return status.Errorf(codes.PermissionDenied, "%s: not allowed for role %s on inspection %s", method, in.Role, id)
}

// inspectionIDsOf returns the inspections a request is about.
func inspectionIDsOf(req any) []string {
	var ids []string
	if r, ok := req.(interface{ GetInspectionIds() []string }); ok {
		ids = append(ids, r.GetInspectionIds()...)
	}
	switch r := req.(type) {
	case interface{ GetInspectionId() string }:
		if r.GetInspectionId() != "" {
			ids = append(ids, r.GetInspectionId())
		}
	case *fieldworkv1.GetInspectionRequest:
		if r.GetId() != "" {
			ids = append(ids, r.GetId())
		}
	}
	return ids
}

// unaryInterceptor authenticates and authorizes a call, checks its
// request, and runs the handler; finish maps the error to its status and
// logs the call's one line.
func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	c := newCall()
	c.setDevice(deviceOf(req))
	resp, err := s.unary(ctx, req, info, handler, c)
	return resp, s.finish(ctx, info.FullMethod, c, err)
}

func (s *Server) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler, c *call) (any, error) {
	if policy[info.FullMethod] != public {
		u, err := s.authenticate(ctx)
		if err != nil {
			return nil, err
		}
		c.setUser(u.Name)
		if err := s.authorize(ctx, info.FullMethod, u, req); err != nil {
			return nil, err
		}
		ctx = context.WithValue(ctx, userKey{}, u)
	}
	if err := checkRequest(req); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// streamInterceptor authenticates and authorizes a stream like a unary
// call, counts it against the stream limits (refusing it if over), and
// runs the handler on a stream that the idle and stall limits can end;
// finish logs it when it ends.
func (s *Server) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	c := newCall()
	// The device is named in the messages (a push's ops, a pull's request).
	err := s.stream(srv, &devicePeek{ServerStream: ss, c: c}, info, handler, c)
	return s.finish(ss.Context(), info.FullMethod, c, err)
}

func (s *Server) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler, c *call) error {
	ctx := ss.Context()
	acc := policy[info.FullMethod]
	// A server stream's one request names its inspections: those methods
	// are authorized when it arrives (authorizedStream), before the
	// handler sees it. Other streams are not scoped to an inspection.
	onRequest := info.IsServerStream && !info.IsClientStream && inspectionScoped(acc)
	var u framework.User
	if acc != public {
		var err error
		if u, err = s.authenticate(ctx); err != nil {
			return err
		}
		c.setUser(u.Name)
		if !onRequest {
			if err := s.authorize(ctx, info.FullMethod, u, nil); err != nil {
				return err
			}
		}
		ctx = context.WithValue(ctx, userKey{}, u)
	}
	release, err := s.streams.acquire(info.FullMethod, streamCaller(ctx))
	if err != nil {
		return err
	}
	defer release()
	bs := s.bound(ss, ctx, info.FullMethod)
	var hs grpc.ServerStream = bs
	if onRequest {
		hs = &authorizedStream{ServerStream: bs, authorize: func(req any) error { return s.authorize(ctx, info.FullMethod, u, req) }}
	}
	return bs.run(func() error { return handler(srv, hs) })
}

// inspectionScoped says whether an access class is decided per inspection.
func inspectionScoped(acc access) bool {
	switch acc {
	case inspectionRead, inspectionLead, inspectionWrite, reportRead, reportOrAgreement:
		return true
	}
	return false
}

// authorizedStream authorizes a server stream's request as it is received,
// as the unary interceptor does before its handler: a refused request
// never reaches the handler.
type authorizedStream struct {
	grpc.ServerStream
	authorize func(req any) error
	done      bool
	err       error // a refusal sticks
}

func (a *authorizedStream) RecvMsg(m any) error {
	if a.err != nil {
		return a.err
	}
	if err := a.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if !a.done {
		a.done = true
		a.err = a.authorize(m)
	}
	return a.err
}
