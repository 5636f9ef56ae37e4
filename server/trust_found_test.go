package server_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/status"

	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

// pullAll pulls every page from cursor 0 as token.
func (e *testEnv) pullAll(tb testing.TB, token string, pageSize int32) []*fieldworkv1.Change {
	tb.Helper()
	stream, err := fieldworkv1.NewSyncServiceClient(e.conn).Pull(as(context.Background(), token), &fieldworkv1.PullRequest{PageSize: pageSize})
	if err != nil {
		tb.Fatal(err)
	}
	var out []*fieldworkv1.Change
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, resp.GetChanges()...)
	}
}

// Found in review (each failed before its fix): a copied store whose outbox holds more ops than the original sent
// after the copy: only the ops at or below the device's highest seq are
// flagged reused. The copy's later queued ops (same device id) are decided
// as the device's own, so othersSince counts the original's write as "own"
// and a stale-base edit silently replaces it (docs/sync.md rule 7 promises
// a conflict).
func TestReview_CopiedStoreLaterQueuedOpSilentlyOverwrites(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	tok := e.token(t, "insp.a")
	mk := func(q, v string, seq int64) *fieldworkv1.Op {
		return &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-1", QuestionId: q, Value: v, BaseRevision: 0,
			DeviceId: "dev-c", DeviceSeq: seq}
	}
	// The original laptop, after the copy: one edit of 2.1.1.
	if a := e.push(t, tok, mk("2.1.1", "yes", 1))[0]; a.GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED {
		t.Fatalf("original: %v", a)
	}
	// The copy: an edit of another question, then its own edit of 2.1.1,
	// both on the base it had when copied (0).
	acks := e.push(t, tok, mk("2.1.2", "yes", 1), mk("2.1.1", "no", 2))
	t.Logf("copy acks: %v | %v", acks[0], acks[1])
	if !acks[0].GetDeviceReused() {
		t.Fatalf("first op of the copy not flagged reused: %v", acks[0])
	}
	if ans := e.answer(t, id, "T-1", "2.1.1"); ans.GetValue() != "yes" {
		t.Errorf("original's 2.1.1=yes silently replaced by the copy's stale-base edit: now %q rev %d (ack %v, reused=%v)",
			ans.GetValue(), ans.GetRevision(), acks[1].GetResult(), acks[1].GetDeviceReused())
	}
}

// Found in review (each failed before its fix): the highest device_seq is kept per device id only, and raised by
// any op that passes CheckOp, even one refused because its sender is not on
// the inspection's team. Any signed-in user who learns a device id (it is in
// every pulled answer and conflict) makes that device's next genuine edits
// "device_reused": a forged device.reused audit entry under the victim's
// name, a false "restored or copied" message, and a forced device-id change.
func TestReview_OutsiderPoisonsAnotherUsersDeviceSeq(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	if err := e.srv.DB().CreateUser(context.Background(), adminActor, "outsider", false); err != nil {
		t.Fatal(err)
	}
	out := e.token(t, "outsider")
	a := e.push(t, out, &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: "yes",
		DeviceId: "dev-victim", DeviceSeq: 1 << 40})[0]
	if a.GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED {
		t.Fatalf("outsider's op: %v", a)
	}
	v := e.push(t, e.token(t, "insp.a"), &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1",
		Value: "yes", DeviceId: "dev-victim", DeviceSeq: 1})[0]
	if v.GetDeviceReused() {
		t.Errorf("victim's first genuine op flagged device_reused because of an outsider's rejected op: %v", v)
	}
}

// Found in review (each failed before its fix): taking an inspector off a team sends them a withdrawal for every
// case of the inspection, naming each case_ref, including cases that were
// never theirs to see (store.RemoveTeamMember -> withdraw(..., "")).
func TestReview_RemovedInspectorLearnsEveryCaseRef(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t) // T-1 insp.a, T-2 insp.b
	e.addMember(t, id, "insp.c", "inspector")
	tok := e.token(t, "insp.c")
	before := e.pullAll(t, tok, 0)
	for _, ch := range before {
		if strings.Contains(ch.String(), "T-2") {
			t.Fatalf("insp.c sees T-2 before removal: %v", ch)
		}
	}
	if _, err := fieldworkv1.NewAdminServiceClient(e.conn).RemoveTeamMember(as(context.Background(), e.admin),
		&fieldworkv1.RemoveTeamMemberRequest{InspectionId: id, User: "insp.c"}); err != nil {
		t.Fatal(err)
	}
	// A page that ends before the inspection's removal (an inspection with
	// more cases than a page holds; page size 1 here) delivers the
	// withdrawals, each naming a case ref.
	for _, ch := range e.pullAll(t, tok, 1) {
		if s := ch.String(); strings.Contains(s, "T-1") || strings.Contains(s, "T-2") {
			t.Errorf("removed inspector receives a case ref it never could see: %s", s)
		}
	}
}

// Found in review (each failed before its fix): an op carrying the id of a conflict on another case is refused
// (before any visibility check) with a reason naming that conflict's case
// and question, and "not found" vs "is about case …" tells whether the id
// exists. Needs a conflict id (e.g. kept from before a reassignment).
func TestReview_ConflictIDRevealsAnotherCase(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	tokB := e.token(t, "insp.b")
	lead := e.admin
	// A conflict on T-2 (insp.b's): admin writes, insp.b writes on a stale base.
	e.push(t, lead, &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-2", QuestionId: "2.1.1", Value: "yes", DeviceId: "dev-l", DeviceSeq: 1})
	c := e.push(t, tokB, &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-2", QuestionId: "2.1.1", Value: "no", DeviceId: "dev-b", DeviceSeq: 1})[0]
	if c.GetConflict() == nil {
		t.Fatalf("no conflict: %v", c)
	}
	// insp.a, who may not see T-2, sends an op on their own case naming it.
	a := e.push(t, e.token(t, "insp.a"), &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: "yes",
		DeviceId: "dev-a", DeviceSeq: 1, ConflictId: c.GetConflict().GetId(), Resolution: "mine"})[0]
	if strings.Contains(a.GetReason(), "T-2") {
		t.Errorf("ack to insp.a names insp.b's case: %q", a.GetReason())
	}
}

// Found in review (each failed before its fix): an administrator who is on an inspection's team as an inspector
// (cases.csv assigning a case to "admin" puts them there automatically) is
// treated as a plain inspector there: ListCases hides the other cases and
// the inspection cannot be locked. The issue requires the admin to keep
// every lead power on every inspection (roleOn prefers the team role).
func TestReview_AdminOnTeamAsInspectorLosesAdminPowers(t *testing.T) {
	e := newTestServer(t)
	id := e.inspectionFor(t, "admin", "insp.b") // T-1 assigned to the admin
	ctx := as(context.Background(), e.admin)
	resp, err := fieldworkv1.NewInspectionServiceClient(e.conn).ListCases(ctx, &fieldworkv1.ListCasesRequest{InspectionId: id})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.GetCases()); n != 2 {
		t.Errorf("admin lists %d of the inspection's 2 cases", n)
	}
	if _, err := fieldworkv1.NewInspectionServiceClient(e.conn).SetInspectionStatus(ctx,
		&fieldworkv1.SetInspectionStatusRequest{InspectionId: id, Status: "locked"}); err != nil {
		t.Errorf("admin cannot lock the inspection: %v", err)
	}
}

// Found in review (each failed before its fix): a re-sent op that was rejected comes back with code
// INVALID_ARGUMENT whatever the first refusal's code was (prefetchRecorded
// rebuilds every recorded rejection as CodeInvalid): "the recorded result
// again" loses who/what refused it, and the client files it as "invalid".
func TestReview_DuplicateRejectionChangesItsCode(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	tok := e.token(t, "insp.a")
	// Lock T-1 as the admin (lead powers): an inspector's op is then refused
	// with FAILED_PRECONDITION.
	if _, err := fieldworkv1.NewInspectionServiceClient(e.conn).SetInspectionStatus(as(context.Background(), e.admin),
		&fieldworkv1.SetInspectionStatusRequest{InspectionId: id, Status: "locked"}); err != nil {
		t.Fatal(err)
	}
	op := &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: "yes", DeviceId: "dev-a", DeviceSeq: 1}
	first := e.push(t, tok, op)[0]
	again := e.push(t, tok, op)[0]
	if first.GetCode() != again.GetCode() {
		t.Errorf("re-sent rejected op: code %v, first time %v", again.GetCode(), first.GetCode())
	}
}

// Found in review (each failed before its fix): any signed-in user can write entries into any inspection's audit
// trail: push an op for one of its cases (refused, not on the team, but
// recorded with the case's id), then DismissRefusals it, as often as they
// like (each call audits again: no "already dismissed" check).
func TestReview_OutsiderWritesIntoAnInspectionsAuditTrail(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	if err := e.srv.DB().CreateUser(context.Background(), adminActor, "outsider", false); err != nil {
		t.Fatal(err)
	}
	out := e.token(t, "outsider")
	op := &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-2", QuestionId: "2.1.1", Value: "yes", DeviceId: "x", DeviceSeq: 1}
	e.push(t, out, op)
	for range 3 {
		if _, err := fieldworkv1.NewSyncServiceClient(e.conn).DismissRefusals(as(context.Background(), out),
			&fieldworkv1.DismissRefusalsRequest{OpIds: []string{op.GetOpId()}, DeviceId: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := fieldworkv1.NewAuditServiceClient(e.conn).ListAudit(as(context.Background(), e.admin), &fieldworkv1.ListAuditRequest{InspectionId: id})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, en := range resp.GetEntries() {
		if en.GetUser() == "outsider" {
			n++
			t.Logf("%s %s %s %s", en.GetUser(), en.GetAction(), en.GetEntity(), en.GetBefore())
		}
	}
	if n > 0 {
		t.Errorf("a user not on the team put %d entries in the inspection's audit trail", n)
	}
}

// Found in review (each failed before its fix): NotOnTeamError promises the same answer "whether the inspection
// exists or not", and Push keeps it; every unary RPC (authorizeOn) answers
// NOT_FOUND for a missing inspection and PERMISSION_DENIED for an existing
// one: an existence oracle for inspection ids.
func TestReview_UnaryRPCsRevealWhetherAnInspectionExists(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	if err := e.srv.DB().CreateUser(context.Background(), adminActor, "outsider", false); err != nil {
		t.Fatal(err)
	}
	ctx := as(context.Background(), e.token(t, "outsider"))
	c := fieldworkv1.NewInspectionServiceClient(e.conn)
	_, errReal := c.ListCases(ctx, &fieldworkv1.ListCasesRequest{InspectionId: id})
	_, errNone := c.ListCases(ctx, &fieldworkv1.ListCasesRequest{InspectionId: uuid.NewString()})
	if status.Code(errReal) != status.Code(errNone) {
		t.Errorf("existing inspection: %v; missing one: %v", errReal, errNone)
	}
}
