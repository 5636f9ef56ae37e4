package server_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
)

// A client older than the server serves — here one sending no protocol, as
// v0.3.0 does, or protocol 0 — is refused on every fieldwork call, unary or
// stream, with FailedPrecondition saying "update fieldwork" and the
// release needed; health needs no version. A protocol that is no number is
// invalid. The refusal comes after the token's check.
func TestOlderClientIsToldToUpdate(t *testing.T) {
	e := newTestServer(t)
	bare := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+e.admin)
	zero := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+e.admin, "fieldwork-protocol", "0")
	for name, ctx := range map[string]context.Context{"no protocol": bare, "protocol 0": zero} {
		_, err := fieldworkv1.NewAdminServiceClient(e.conn).WhoAmI(ctx, &fieldworkv1.WhoAmIRequest{})
		ue, ok := rpcerr.UpdateNeeded(err)
		if status.Code(err) != codes.FailedPrecondition || !ok || ue.MinRelease != "v0.4.0" || ue.MinProtocol != 1 ||
			!strings.HasPrefix(status.Convert(err).Message(), "update fieldwork: this server needs fieldwork v0.4.0 or later") {
			t.Errorf("%s: WhoAmI = %v (update needed %v %+v)", name, err, ok, ue)
		}
		if back := rpcerr.FromStatus(err); framework.ErrorCode(back) != framework.CodePrecondition || !strings.Contains(back.Error(), "update fieldwork") {
			t.Errorf("%s: FromStatus = %v, want a precondition saying update fieldwork", name, back)
		} else if _, ok := rpcerr.UpdateNeeded(back); !ok {
			t.Errorf("%s: FromStatus lost that it is a version refusal", name)
		}
		stream, err := fieldworkv1.NewSyncServiceClient(e.conn).Pull(ctx, &fieldworkv1.PullRequest{})
		if err == nil {
			_, err = stream.Recv()
		}
		if _, ok := rpcerr.UpdateNeeded(err); !ok {
			t.Errorf("%s: Pull = %v, want the version refusal", name, err)
		}
	}
	// Not a version refusal: a lock is a FailedPrecondition too.
	if _, ok := rpcerr.UpdateNeeded(status.Error(codes.FailedPrecondition, "update fieldwork: inspection I is locked")); ok {
		t.Error("a FailedPrecondition without the detail was taken for a version refusal")
	}
	junk := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+e.admin, "fieldwork-protocol", "one")
	if _, err := fieldworkv1.NewAdminServiceClient(e.conn).WhoAmI(junk, &fieldworkv1.WhoAmIRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a protocol that is no number: %v, want InvalidArgument", err)
	}
	noToken := metadata.AppendToOutgoingContext(t.Context(), "fieldwork-protocol", "0")
	if _, err := fieldworkv1.NewAdminServiceClient(e.conn).WhoAmI(noToken, &fieldworkv1.WhoAmIRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("an old client without a token: %v, want the token refused first", err)
	}
	if _, err := fieldworkv1.NewAdminServiceClient(e.conn).WhoAmI(as(t.Context(), e.admin), &fieldworkv1.WhoAmIRequest{}); err != nil {
		t.Errorf("this client: %v", err)
	}
}

// After a purge GetReport serves the report as it was before, figure for
// figure, said to be frozen and without its per-case sections; what needs
// the gone case data is refused, saying so; the team still reads it.
func TestPurgeKeepsTheReportFrozen(t *testing.T) {
	e := newTestServer(t)
	ids := pooledFixture(t, e)
	id := ids[1]
	ctx := as(t.Context(), e.admin)
	ins := fieldworkv1.NewInspectionServiceClient(e.conn)
	reports := fieldworkv1.NewReportServiceClient(e.conn)
	if _, err := e.srv.Purge(ctx, adminActor, id); framework.ErrorCode(err) != framework.CodePrecondition {
		t.Fatalf("purge before publication: %v, want refused", err)
	}
	if _, err := ins.SetInspectionStatus(ctx, &fieldworkv1.SetInspectionStatusRequest{InspectionId: id, Status: "locked", DeviceId: "test"}); err != nil {
		t.Fatal(err)
	}
	before, err := reports.GetReport(ctx, &fieldworkv1.GetReportRequest{InspectionId: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(before.GetReport().GetCaseProgress()) == 0 {
		t.Fatal("the fixture's report has no per-case section to lose")
	}
	res, err := e.srv.Purge(ctx, adminActor, id)
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed.Cases != 2 || res.Removed.Answers != 10 || !res.WALEmptied {
		t.Errorf("purge = %+v", res)
	}
	if _, err := fieldworkv1.NewAdminServiceClient(e.conn).AddTeamMember(ctx, &fieldworkv1.AddTeamMemberRequest{InspectionId: id, User: "lead.p", Role: "lead"}); err != nil {
		t.Fatal(err)
	}
	lead := e.token(t, "lead.p")
	after, err := reports.GetReport(as(t.Context(), lead), &fieldworkv1.GetReportRequest{InspectionId: id})
	if err != nil {
		t.Fatal(err)
	}
	got := after.GetReport()
	if got.GetFrozen().GetPurgedAt() == nil {
		t.Errorf("the report after the purge does not say it is frozen")
	}
	if len(got.GetCaseProgress())+len(got.GetInspectorProgress())+len(got.GetNoLongerApplies()) != 0 {
		t.Errorf("the frozen report keeps per-case sections")
	}
	want := proto.Clone(before.GetReport()).(*fieldworkv1.Report)
	want.CaseProgress, want.InspectorProgress, want.NoLongerApplies = nil, nil, nil
	got = proto.Clone(got).(*fieldworkv1.Report)
	got.Frozen, got.GeneratedAt, want.GeneratedAt = nil, nil, nil
	if !proto.Equal(want, got) {
		t.Errorf("frozen report differs from the report before the purge:\nbefore: %s\nfrozen: %s", prototext.Format(want), prototext.Format(got))
	}
	for name, call := range map[string]func() error{
		"by": func() error {
			_, err := reports.GetReport(ctx, &fieldworkv1.GetReportRequest{InspectionId: id, By: []string{"sex"}})
			return err
		},
		"pooled": func() error {
			_, err := reports.GetReport(ctx, &fieldworkv1.GetReportRequest{InspectionIds: ids})
			return err
		},
		"evidence": func() error {
			_, err := reports.ListEvidence(ctx, &fieldworkv1.ListEvidenceRequest{InspectionId: id, QuestionId: "2.1.1"})
			return err
		},
		"dataset": func() error {
			s, err := reports.ExportDataset(ctx, &fieldworkv1.ExportDatasetRequest{InspectionId: id, DeviceId: "test"})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		},
		"answer": func() error {
			_, err := fieldworkv1.NewAnswerServiceClient(e.conn).RecordAnswer(ctx, &fieldworkv1.RecordAnswerRequest{InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: "no"})
			return err
		},
		"unlock": func() error {
			_, err := ins.SetInspectionStatus(ctx, &fieldworkv1.SetInspectionStatusRequest{InspectionId: id, Status: "moderation", Reason: "again", DeviceId: "test"})
			return err
		},
	} {
		if err := call(); status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "purged") {
			t.Errorf("%s on a purged inspection: %v, want FailedPrecondition saying it was purged", name, err)
		}
	}
	cases, err := ins.ListCases(ctx, &fieldworkv1.ListCasesRequest{InspectionId: id})
	if err != nil || len(cases.GetCases()) != 0 {
		t.Errorf("cases after the purge: %v, %v", cases, err)
	}
	// The other inspections are untouched, and pool without it.
	if _, err := reports.GetReport(ctx, &fieldworkv1.GetReportRequest{InspectionIds: []string{ids[0], ids[2]}}); err != nil {
		t.Errorf("pooling the others: %v", err)
	}
	again, err := e.srv.Purge(ctx, adminActor, id)
	if err != nil || !again.Again {
		t.Errorf("the same purge again = %+v, %v; want told it was purged before", again, err)
	}
}
