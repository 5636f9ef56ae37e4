package server_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

// matrixCall calls one method as token on inspection insp and case ref,
// returning the error (nil when the call went through). Every RPC of the
// API must have an entry: TestAccessMatrix fails for one that does not.
var matrixCall = map[string]func(ctx context.Context, e *testEnv, insp, ref string) error{
	fieldworkv1.FrameworkService_ListFrameworks_FullMethodName: func(ctx context.Context, e *testEnv, _, _ string) error {
		_, err := fieldworkv1.NewFrameworkServiceClient(e.conn).ListFrameworks(ctx, &fieldworkv1.ListFrameworksRequest{})
		return err
	},
	fieldworkv1.FrameworkService_GetFramework_FullMethodName: func(ctx context.Context, e *testEnv, _, _ string) error {
		_, err := fieldworkv1.NewFrameworkServiceClient(e.conn).GetFramework(ctx, &fieldworkv1.GetFrameworkRequest{Id: "probation-pdu-2023"})
		return err
	},
	fieldworkv1.InspectionService_CreateInspection_FullMethodName: func(ctx context.Context, e *testEnv, _, _ string) error {
		_, err := fieldworkv1.NewInspectionServiceClient(e.conn).CreateInspection(ctx, &fieldworkv1.CreateInspectionRequest{Name: "x", FrameworkId: "probation-pdu-2023"})
		return err
	},
	fieldworkv1.InspectionService_GetInspection_FullMethodName: func(ctx context.Context, e *testEnv, insp, _ string) error {
		_, err := fieldworkv1.NewInspectionServiceClient(e.conn).GetInspection(ctx, &fieldworkv1.GetInspectionRequest{Id: insp})
		return err
	},
	fieldworkv1.InspectionService_ListInspections_FullMethodName: func(ctx context.Context, e *testEnv, _, _ string) error {
		_, err := fieldworkv1.NewInspectionServiceClient(e.conn).ListInspections(ctx, &fieldworkv1.ListInspectionsRequest{})
		return err
	},
	fieldworkv1.InspectionService_ImportCases_FullMethodName: func(ctx context.Context, e *testEnv, insp, _ string) error {
		_, err := fieldworkv1.NewInspectionServiceClient(e.conn).ImportCases(ctx, &fieldworkv1.ImportCasesRequest{InspectionId: insp,
			Csv: []byte("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,inspector\n")})
		return err
	},
	fieldworkv1.InspectionService_ImportAnswers_FullMethodName: func(ctx context.Context, e *testEnv, insp, _ string) error {
		_, err := fieldworkv1.NewInspectionServiceClient(e.conn).ImportAnswers(ctx, &fieldworkv1.ImportAnswersRequest{InspectionId: insp, Csv: []byte("case_ref,question_id,answer,note\n")})
		return err
	},
	fieldworkv1.InspectionService_ImportJudgements_FullMethodName: func(ctx context.Context, e *testEnv, insp, _ string) error {
		_, err := fieldworkv1.NewInspectionServiceClient(e.conn).ImportJudgements(ctx, &fieldworkv1.ImportJudgementsRequest{InspectionId: insp, Csv: []byte("standard_id,rating,rationale\n")})
		return err
	},
	fieldworkv1.InspectionService_ImportFindings_FullMethodName: func(ctx context.Context, e *testEnv, insp, _ string) error {
		_, err := fieldworkv1.NewInspectionServiceClient(e.conn).ImportFindings(ctx, &fieldworkv1.ImportFindingsRequest{InspectionId: insp, Csv: []byte("kind,standard_id,text\n")})
		return err
	},
	fieldworkv1.InspectionService_RecordJudgement_FullMethodName: func(ctx context.Context, e *testEnv, insp, _ string) error {
		_, err := fieldworkv1.NewInspectionServiceClient(e.conn).RecordJudgement(ctx, &fieldworkv1.RecordJudgementRequest{InspectionId: insp, StandardId: "P1.1", Rating: "Good", Rationale: "r"})
		return err
	},
	fieldworkv1.InspectionService_ListCases_FullMethodName: func(ctx context.Context, e *testEnv, insp, _ string) error {
		_, err := fieldworkv1.NewInspectionServiceClient(e.conn).ListCases(ctx, &fieldworkv1.ListCasesRequest{InspectionId: insp})
		return err
	},
	fieldworkv1.InspectionService_SetCaseStatus_FullMethodName: func(ctx context.Context, e *testEnv, insp, ref string) error {
		_, err := fieldworkv1.NewInspectionServiceClient(e.conn).SetCaseStatus(ctx, &fieldworkv1.SetCaseStatusRequest{InspectionId: insp, CaseRef: ref, Status: "submitted"})
		return err
	},
	fieldworkv1.InspectionService_SetInspectionStatus_FullMethodName: func(ctx context.Context, e *testEnv, insp, _ string) error {
		_, err := fieldworkv1.NewInspectionServiceClient(e.conn).SetInspectionStatus(ctx, &fieldworkv1.SetInspectionStatusRequest{InspectionId: insp, Status: "fieldwork"})
		return err
	},
	fieldworkv1.AnswerService_RecordAnswer_FullMethodName: func(ctx context.Context, e *testEnv, insp, ref string) error {
		_, err := fieldworkv1.NewAnswerServiceClient(e.conn).RecordAnswer(ctx, &fieldworkv1.RecordAnswerRequest{InspectionId: insp, CaseRef: ref, QuestionId: "M.1", Value: "yes", BaseRevision: -1})
		return err
	},
	fieldworkv1.AnswerService_ListAnswers_FullMethodName: func(ctx context.Context, e *testEnv, insp, ref string) error {
		_, err := fieldworkv1.NewAnswerServiceClient(e.conn).ListAnswers(ctx, &fieldworkv1.ListAnswersRequest{InspectionId: insp, CaseRef: ref})
		return err
	},
	fieldworkv1.SyncService_Push_FullMethodName: func(ctx context.Context, e *testEnv, insp, ref string) error {
		stream, err := fieldworkv1.NewSyncServiceClient(e.conn).Push(ctx)
		if err != nil {
			return err
		}
		op := &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: insp, CaseRef: ref, QuestionId: "M.1", Value: "yes", BaseRevision: -1}
		if err := stream.Send(&fieldworkv1.PushRequest{Ops: []*fieldworkv1.Op{op}}); err != nil {
			return err
		}
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		stream.CloseSend()
		// Per-op decisions come back in the ack, not as the stream's status.
		ack := resp.GetAcks()[0]
		if ack.GetResult() == fieldworkv1.OpResult_OP_RESULT_REJECTED && codes.Code(ack.GetCode()) == codes.PermissionDenied {
			return status.Error(codes.PermissionDenied, ack.GetReason())
		}
		return nil
	},
	fieldworkv1.SyncService_DismissRefusals_FullMethodName: func(ctx context.Context, e *testEnv, _, _ string) error {
		_, err := fieldworkv1.NewSyncServiceClient(e.conn).DismissRefusals(ctx, &fieldworkv1.DismissRefusalsRequest{OpIds: []string{uuid.NewString()}})
		return err
	},
	fieldworkv1.SyncService_Pull_FullMethodName: func(ctx context.Context, e *testEnv, _, _ string) error {
		stream, err := fieldworkv1.NewSyncServiceClient(e.conn).Pull(ctx, &fieldworkv1.PullRequest{})
		if err != nil {
			return err
		}
		for {
			if _, err := stream.Recv(); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
		}
	},
	fieldworkv1.ReportService_GetReport_FullMethodName: func(ctx context.Context, e *testEnv, insp, _ string) error {
		_, err := fieldworkv1.NewReportServiceClient(e.conn).GetReport(ctx, &fieldworkv1.GetReportRequest{InspectionId: insp})
		return err
	},
	fieldworkv1.ReportService_ListEvidence_FullMethodName: func(ctx context.Context, e *testEnv, insp, _ string) error {
		_, err := fieldworkv1.NewReportServiceClient(e.conn).ListEvidence(ctx, &fieldworkv1.ListEvidenceRequest{InspectionId: insp, QuestionId: "2.1.1"})
		return err
	},
	fieldworkv1.ReportService_ExportDataset_FullMethodName: func(ctx context.Context, e *testEnv, insp, _ string) error {
		stream, err := fieldworkv1.NewReportServiceClient(e.conn).ExportDataset(ctx, &fieldworkv1.ExportDatasetRequest{InspectionId: insp})
		if err != nil {
			return err
		}
		for {
			if _, err := stream.Recv(); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
		}
	},
	fieldworkv1.AdminService_CreateUser_FullMethodName: func(ctx context.Context, e *testEnv, _, _ string) error {
		_, err := fieldworkv1.NewAdminServiceClient(e.conn).CreateUser(ctx, &fieldworkv1.CreateUserRequest{Name: "u" + uuid.NewString()[:8]})
		return err
	},
	fieldworkv1.AdminService_IssueToken_FullMethodName: func(ctx context.Context, e *testEnv, _, _ string) error {
		_, err := fieldworkv1.NewAdminServiceClient(e.conn).IssueToken(ctx, &fieldworkv1.IssueTokenRequest{User: "spare"})
		return err
	},
	fieldworkv1.AdminService_RevokeToken_FullMethodName: func(ctx context.Context, e *testEnv, _, _ string) error {
		_, err := fieldworkv1.NewAdminServiceClient(e.conn).RevokeToken(ctx, &fieldworkv1.RevokeTokenRequest{User: "spare"})
		return err
	},
	fieldworkv1.AdminService_AddTeamMember_FullMethodName: func(ctx context.Context, e *testEnv, insp, _ string) error {
		_, err := fieldworkv1.NewAdminServiceClient(e.conn).AddTeamMember(ctx, &fieldworkv1.AddTeamMemberRequest{InspectionId: insp, User: "spare", Role: "analyst"})
		return err
	},
	fieldworkv1.AdminService_RemoveTeamMember_FullMethodName: func(ctx context.Context, e *testEnv, insp, _ string) error {
		_, err := fieldworkv1.NewAdminServiceClient(e.conn).RemoveTeamMember(ctx, &fieldworkv1.RemoveTeamMemberRequest{InspectionId: insp, User: "nobody"})
		return err
	},
	fieldworkv1.AdminService_WhoAmI_FullMethodName: func(ctx context.Context, e *testEnv, _, _ string) error {
		_, err := fieldworkv1.NewAdminServiceClient(e.conn).WhoAmI(ctx, &fieldworkv1.WhoAmIRequest{})
		return err
	},
	fieldworkv1.MarkingService_SelectForQA_FullMethodName: func(ctx context.Context, e *testEnv, insp, ref string) error {
		_, err := fieldworkv1.NewMarkingServiceClient(e.conn).SelectForQA(ctx, &fieldworkv1.SelectForQARequest{InspectionId: insp, Qa: "spare", CaseRefs: []string{ref}}) // spare is not QA: nothing is selected, so nobody is blinded for the other calls
		return err
	},
	fieldworkv1.MarkingService_ListSelections_FullMethodName: func(ctx context.Context, e *testEnv, insp, _ string) error {
		_, err := fieldworkv1.NewMarkingServiceClient(e.conn).ListSelections(ctx, &fieldworkv1.ListSelectionsRequest{InspectionId: insp})
		return err
	},
	fieldworkv1.MarkingService_ListDisagreements_FullMethodName: func(ctx context.Context, e *testEnv, insp, ref string) error {
		_, err := fieldworkv1.NewMarkingServiceClient(e.conn).ListDisagreements(ctx, &fieldworkv1.ListDisagreementsRequest{InspectionId: insp, CaseRef: ref})
		return err
	},
	fieldworkv1.MarkingService_Moderate_FullMethodName: func(ctx context.Context, e *testEnv, insp, ref string) error {
		_, err := fieldworkv1.NewMarkingServiceClient(e.conn).Moderate(ctx, &fieldworkv1.ModerateRequest{InspectionId: insp, CaseRef: ref, QuestionId: "2.1.1", Take: "first"})
		return err
	},
	fieldworkv1.AuditService_ListAudit_FullMethodName: func(ctx context.Context, e *testEnv, insp, _ string) error {
		_, err := fieldworkv1.NewAuditServiceClient(e.conn).ListAudit(ctx, &fieldworkv1.ListAuditRequest{InspectionId: insp})
		return err
	},
}

// matrixAllowed is the intended access: who may call method on their own
// inspection (ownCase: the case assigned to them) or another one.
func matrixAllowed(method, role string, ownInspection, ownCase bool) bool {
	if role == "admin" {
		return true
	}
	all := []string{"lead", "inspector", "qa", "analyst"}
	var roles []string
	switch method {
	case fieldworkv1.FrameworkService_ListFrameworks_FullMethodName, fieldworkv1.FrameworkService_GetFramework_FullMethodName,
		fieldworkv1.InspectionService_ListInspections_FullMethodName, fieldworkv1.AdminService_WhoAmI_FullMethodName,
		fieldworkv1.SyncService_Pull_FullMethodName, fieldworkv1.SyncService_DismissRefusals_FullMethodName:
		return true // not scoped to an inspection; results are filtered (dismissals: the caller's own ops only)
	case fieldworkv1.InspectionService_CreateInspection_FullMethodName, fieldworkv1.AdminService_CreateUser_FullMethodName,
		fieldworkv1.AdminService_IssueToken_FullMethodName, fieldworkv1.AdminService_RevokeToken_FullMethodName,
		fieldworkv1.AdminService_AddTeamMember_FullMethodName, fieldworkv1.AdminService_RemoveTeamMember_FullMethodName:
		return false
	case fieldworkv1.InspectionService_GetInspection_FullMethodName, fieldworkv1.InspectionService_ListCases_FullMethodName:
		roles = all
	case fieldworkv1.AnswerService_ListAnswers_FullMethodName:
		roles = all
		if !ownCase {
			roles = []string{"lead", "qa", "analyst"}
		}
	case fieldworkv1.InspectionService_ImportCases_FullMethodName, fieldworkv1.InspectionService_ImportAnswers_FullMethodName,
		fieldworkv1.InspectionService_ImportJudgements_FullMethodName, fieldworkv1.InspectionService_RecordJudgement_FullMethodName,
		fieldworkv1.InspectionService_ImportFindings_FullMethodName,
		fieldworkv1.InspectionService_SetInspectionStatus_FullMethodName, fieldworkv1.AuditService_ListAudit_FullMethodName,
		fieldworkv1.MarkingService_SelectForQA_FullMethodName:
		roles = []string{"lead"}
	case fieldworkv1.MarkingService_ListSelections_FullMethodName, fieldworkv1.MarkingService_ListDisagreements_FullMethodName,
		fieldworkv1.MarkingService_Moderate_FullMethodName:
		roles = []string{"lead", "qa"}
	case fieldworkv1.AnswerService_RecordAnswer_FullMethodName, fieldworkv1.SyncService_Push_FullMethodName,
		fieldworkv1.InspectionService_SetCaseStatus_FullMethodName:
		roles = []string{"lead", "qa"}
		if ownCase {
			roles = append(roles, "inspector")
		}
	case fieldworkv1.ReportService_GetReport_FullMethodName, fieldworkv1.ReportService_ListEvidence_FullMethodName,
		fieldworkv1.ReportService_ExportDataset_FullMethodName:
		roles = []string{"lead", "qa", "analyst"}
	}
	if !ownInspection {
		return false
	}
	for _, r := range roles {
		if r == role {
			return true
		}
	}
	return false
}

func TestAccessMatrix(t *testing.T) {
	e := newTestServer(t)
	own := e.inspection(t)                          // T-1 → insp.a, T-2 → insp.b
	other := e.inspectionFor(t, "insp.x", "insp.y") // nobody below is on its team
	admin := fieldworkv1.NewAdminServiceClient(e.conn)
	actx := as(t.Context(), e.admin)
	if _, err := admin.CreateUser(actx, &fieldworkv1.CreateUserRequest{Name: "spare"}); err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{"admin": e.admin, "inspector": e.token(t, "insp.a")}
	for _, role := range []string{"lead", "qa", "analyst"} {
		user := "m." + role
		if _, err := admin.AddTeamMember(actx, &fieldworkv1.AddTeamMemberRequest{InspectionId: own, User: user, Role: role}); err != nil {
			t.Fatal(err)
		}
		tokens[role] = e.token(t, user)
	}
	methods := map[string]bool{}
	for name, info := range e.srv.GRPC().GetServiceInfo() {
		if !strings.HasPrefix(name, "fieldwork.") {
			continue
		}
		for _, m := range info.Methods {
			methods["/"+name+"/"+m.Name] = true
		}
	}
	for method := range methods {
		call, ok := matrixCall[method]
		if !ok {
			t.Errorf("%s has no entry in the access matrix test", method)
			continue
		}
		for role, token := range tokens {
			for _, target := range []struct {
				name          string
				insp, ref     string
				ownInspection bool
				ownCase       bool
			}{
				{"own case", own, "T-1", true, true},
				{"other case", own, "T-2", true, false},
				{"other inspection", other, "T-1", false, false},
			} {
				err := call(as(t.Context(), token), e, target.insp, target.ref)
				want := matrixAllowed(method, role, target.ownInspection, target.ownCase)
				got := status.Code(err)
				switch {
				case want && (got == codes.PermissionDenied || got == codes.Unauthenticated):
					t.Errorf("%s as %s on %s: %v, want allowed", method, role, target.name, err)
				case !want && got != codes.PermissionDenied:
					t.Errorf("%s as %s on %s: code %v (%v), want PermissionDenied", method, role, target.name, got, err)
				}
			}
		}
	}
}
