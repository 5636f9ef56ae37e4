package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/store"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

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
	return &fieldworkv1.GetInspectionResponse{Inspection: wire.InspectionToProto(in)}, nil
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
		return nil, err
	}
	created, updated, err := s.db.ImportCases(ctx, actorFrom(ctx, req.GetDeviceId()), req.GetInspectionId(), rows)
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.ImportCasesResponse{Created: int32(created), Updated: int32(updated)}, nil
}

func (s *inspectionService) ImportAnswers(ctx context.Context, req *fieldworkv1.ImportAnswersRequest) (*fieldworkv1.ImportAnswersResponse, error) {
	rows, err := interchange.ReadAnswers(bytes.NewReader(req.GetCsv()))
	if err != nil {
		return nil, err
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
		return nil, err
	}
	if err := s.db.RecordJudgements(ctx, actorFrom(ctx, req.GetDeviceId()), req.GetInspectionId(), rows); err != nil {
		return nil, err
	}
	return &fieldworkv1.ImportJudgementsResponse{Applied: int32(len(rows))}, nil
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

type answerService struct {
	fieldworkv1.UnimplementedAnswerServiceServer
	db *store.DB
}

func (s *answerService) RecordAnswer(ctx context.Context, req *fieldworkv1.RecordAnswerRequest) (*fieldworkv1.RecordAnswerResponse, error) {
	u := userFrom(ctx)
	op := framework.Op{ID: uuid.Must(uuid.NewV7()).String(), InspectionID: req.GetInspectionId(), CaseRef: req.GetCaseRef(),
		QuestionID: req.GetQuestionId(), Value: req.GetValue(), Note: req.GetNote(), BaseRevision: req.GetBaseRevision(),
		DeviceID: req.GetDeviceId(), ClientTime: time.Now()}
	acks, err := s.db.ApplyOps(ctx, u, []framework.Op{op}, answerPolicy(u))
	if err != nil {
		return nil, err
	}
	ack := acks[0]
	switch ack.Result {
	case framework.OpRejected:
		return nil, ack.Err
	case framework.OpConflict:
		return nil, framework.Errorf(framework.CodeConflict, "%s", ack.Reason)
	}
	answers, err := s.db.Answers(ctx, req.GetInspectionId(), req.GetCaseRef())
	if err != nil {
		return nil, err
	}
	for _, a := range answers {
		if a.QuestionID == req.GetQuestionId() {
			return &fieldworkv1.RecordAnswerResponse{Answer: wire.AnswerToProto(req.GetInspectionId(), a)}, nil
		}
	}
	return nil, errors.New("record answer: answer missing after write")
}

func (s *answerService) ListAnswers(ctx context.Context, req *fieldworkv1.ListAnswersRequest) (*fieldworkv1.ListAnswersResponse, error) {
	if _, err := s.db.VisibleCase(ctx, userFrom(ctx), req.GetInspectionId(), req.GetCaseRef()); err != nil {
		return nil, err
	}
	answers, err := s.db.Answers(ctx, req.GetInspectionId(), req.GetCaseRef())
	if err != nil {
		return nil, err
	}
	resp := &fieldworkv1.ListAnswersResponse{}
	for _, a := range answers {
		resp.Answers = append(resp.Answers, wire.AnswerToProto(req.GetInspectionId(), a))
	}
	return resp, nil
}

type syncService struct {
	fieldworkv1.UnimplementedSyncServiceServer
	db        *store.DB
	pageBytes int // a pull page's byte budget (see fitPage)
	pages     *pageGate
}

// MaxOpsPerBatch bounds one pushed batch.
const MaxOpsPerBatch = 5000

// pushWindow is how many received batches a push stream may have queued
// for the committer ahead of the one whose acks it is waiting to send.
const pushWindow = 4

// A pushed batch as queued: its ops and pending result, or the error that
// ends the stream at this point.
type pushedBatch struct {
	ops     []framework.Op
	pending *store.PendingOps
	err     error
}

// Push receives batches on one goroutine and queues each for the committer
// at once, while this goroutine sends each batch's acks in order as they
// are applied: the committer then always finds the next batch waiting
// instead of idling while acks travel and the next batch is decoded.
func (s *syncService) Push(stream fieldworkv1.SyncService_PushServer) error {
	ctx := stream.Context()
	u := userFrom(ctx)
	batches := make(chan pushedBatch, pushWindow)
	go func() {
		defer close(batches)
		for {
			var b pushedBatch
			req, err := stream.Recv()
			switch {
			case errors.Is(err, io.EOF):
				return
			case err != nil:
				b.err = err
			case len(req.GetOps()) > MaxOpsPerBatch:
				b.err = framework.Errorf(framework.CodeInvalid, "batch of %d ops is over the limit of %d", len(req.GetOps()), MaxOpsPerBatch)
			default:
				b.ops = make([]framework.Op, len(req.GetOps()))
				for i, m := range req.GetOps() {
					b.ops[i] = wire.OpFromProto(m)
				}
				b.pending, b.err = s.db.SubmitOps(ctx, u, b.ops, answerPolicy(u))
			}
			select {
			case batches <- b:
			case <-ctx.Done(): // the handler has returned
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	for b := range batches {
		if b.err != nil {
			return b.err
		}
		acks, err := b.pending.Wait()
		if err != nil {
			return err
		}
		resp := &fieldworkv1.PushResponse{Acks: make([]*fieldworkv1.Ack, len(acks))}
		for i, a := range acks {
			resp.Acks[i] = wire.AckToProto(b.ops[i].InspectionID, a)
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
	return nil
}

func (s *syncService) Pull(req *fieldworkv1.PullRequest, stream fieldworkv1.SyncService_PullServer) error {
	ctx := stream.Context()
	u := userFrom(ctx)
	size := int(req.GetPageSize())
	switch {
	case size <= 0:
		size = 500
	case size > 5000:
		size = 5000
	}
	after := req.GetAfter()
	for {
		leave, err := s.pages.enter(ctx, u.Name)
		if err != nil {
			return err
		}
		changes, cursor, more, err := s.db.Changes(ctx, u, after, size)
		leave()
		if err != nil {
			return err
		}
		resp := &fieldworkv1.PullResponse{Cursor: cursor, More: more}
		fitPage(resp, changes, s.pageBytes)
		if len(resp.Changes) == 0 && resp.More {
			// Nothing to deliver in this stretch (all of it comes again later,
			// as store.Changes explains): read on rather than send an empty page.
			after = resp.Cursor
			continue
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
		if !resp.More {
			return nil
		}
		after = resp.Cursor
	}
}

func (s *syncService) DismissRefusals(ctx context.Context, req *fieldworkv1.DismissRefusalsRequest) (*fieldworkv1.DismissRefusalsResponse, error) {
	n, err := s.db.DismissRefusals(ctx, userFrom(ctx), req.GetDeviceId(), req.GetOpIds())
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.DismissRefusalsResponse{Dismissed: int32(n)}, nil
}

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
	if err := s.db.AddTeamMember(ctx, actorFrom(ctx, ""), req.GetInspectionId(), req.GetUser(), req.GetRole()); err != nil {
		return nil, err
	}
	return &fieldworkv1.AddTeamMemberResponse{}, nil
}

func (s *adminService) RemoveTeamMember(ctx context.Context, req *fieldworkv1.RemoveTeamMemberRequest) (*fieldworkv1.RemoveTeamMemberResponse, error) {
	role, n, err := s.db.RemoveTeamMember(ctx, actorFrom(ctx, ""), req.GetInspectionId(), req.GetUser())
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.RemoveTeamMemberResponse{Role: role, WithdrawnCases: int32(n)}, nil
}

func (s *adminService) WhoAmI(ctx context.Context, _ *fieldworkv1.WhoAmIRequest) (*fieldworkv1.WhoAmIResponse, error) {
	u := userFrom(ctx)
	return &fieldworkv1.WhoAmIResponse{Name: u.Name, Admin: u.Admin}, nil
}

func (s *inspectionService) SetCaseStatus(ctx context.Context, req *fieldworkv1.SetCaseStatusRequest) (*fieldworkv1.SetCaseStatusResponse, error) {
	if err := framework.FieldReason.Check(req.GetReason()); err != nil {
		return nil, err
	}
	c, err := s.db.SetCaseStatus(ctx, userFrom(ctx), req.GetDeviceId(), req.GetInspectionId(), req.GetCaseRef(), req.GetStatus(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.SetCaseStatusResponse{Case: wire.CaseToProto(req.GetInspectionId(), c)}, nil
}

func (s *inspectionService) SetInspectionStatus(ctx context.Context, req *fieldworkv1.SetInspectionStatusRequest) (*fieldworkv1.SetInspectionStatusResponse, error) {
	if err := framework.FieldReason.Check(req.GetReason()); err != nil {
		return nil, err
	}
	in, err := s.db.SetInspectionStatus(ctx, userFrom(ctx), req.GetDeviceId(), req.GetInspectionId(), req.GetStatus(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.SetInspectionStatusResponse{Inspection: wire.InspectionToProto(in)}, nil
}

func (s *adminService) RevokeToken(ctx context.Context, req *fieldworkv1.RevokeTokenRequest) (*fieldworkv1.RevokeTokenResponse, error) {
	n, err := s.db.RevokeToken(ctx, actorFrom(ctx, ""), req.GetUser(), req.GetTokenId())
	if err != nil {
		return nil, err
	}
	return &fieldworkv1.RevokeTokenResponse{Revoked: int32(n)}, nil
}

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
