package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

// push sends one batch on a new stream and returns its acks.
func (e *testEnv) push(tb testing.TB, token string, ops ...*fieldworkv1.Op) []*fieldworkv1.Ack {
	tb.Helper()
	stream, err := fieldworkv1.NewSyncServiceClient(e.conn).Push(as(context.Background(), token))
	if err != nil {
		tb.Fatal(err)
	}
	defer stream.CloseSend()
	if err := stream.Send(&fieldworkv1.PushRequest{Ops: ops}); err != nil {
		tb.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		tb.Fatal(err)
	}
	if len(resp.GetAcks()) != len(ops) {
		tb.Fatalf("%d acks for %d ops", len(resp.GetAcks()), len(ops))
	}
	return resp.GetAcks()
}

func (e *testEnv) addMember(tb testing.TB, inspection, user, role string) {
	tb.Helper()
	if _, err := fieldworkv1.NewAdminServiceClient(e.conn).AddTeamMember(as(context.Background(), e.admin),
		&fieldworkv1.AddTeamMemberRequest{InspectionId: inspection, User: user, Role: role}); err != nil {
		tb.Fatal(err)
	}
}

func (e *testEnv) answer(tb testing.TB, inspection, ref, question string) *fieldworkv1.Answer {
	tb.Helper()
	resp, err := fieldworkv1.NewAnswerServiceClient(e.conn).ListAnswers(as(context.Background(), e.admin),
		&fieldworkv1.ListAnswersRequest{InspectionId: inspection, CaseRef: ref})
	if err != nil {
		tb.Fatal(err)
	}
	for _, a := range resp.GetAnswers() {
		if a.GetQuestionId() == question {
			return a
		}
	}
	return nil
}

// What a caller who may not see a case learns of it from a refused push,
// a re-sent op, ListAnswers or SetCaseStatus: nothing but that it is not
// theirs, in words that are the same whether the case exists or not.
func TestRefusalsRevealNothingOfACaseTheCallerMayNotSee(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t) // T-1 is insp.a's, T-2 insp.b's
	const secret = "SECRET-evidence-note"
	// T-2 holds insp.b's answer with a note, and is submitted.
	if a := e.push(t, e.token(t, "insp.b"), &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-2", QuestionId: "2.1.1",
		Value: "no", Note: secret, DeviceId: "dev-b", DeviceSeq: 1}); a[0].GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED {
		t.Fatalf("insp.b's own write: %v", a[0])
	}
	if err := e.srv.DB().CreateUser(context.Background(), adminActor, "outsider", false); err != nil {
		t.Fatal(err)
	}
	e.addMember(t, id, "qa.gone", "qa")
	// qa.gone writes an answer of T-2 while on the team, then is taken off it.
	gone := e.token(t, "qa.gone")
	goneOp := &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-2", QuestionId: "2.1.2", Value: "yes", Note: secret,
		DeviceId: "dev-q", DeviceSeq: 1}
	if a := e.push(t, gone, goneOp); a[0].GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED {
		t.Fatalf("qa's write: %v", a[0])
	}
	if _, err := fieldworkv1.NewAdminServiceClient(e.conn).RemoveTeamMember(as(context.Background(), e.admin),
		&fieldworkv1.RemoveTeamMemberRequest{InspectionId: id, User: "qa.gone"}); err != nil {
		t.Fatal(err)
	}
	leaks := func(t *testing.T, what, text string) {
		t.Helper()
		for _, s := range []string{secret, "insp.b", "in_progress", "submitted", "not_started"} {
			if strings.Contains(text, s) {
				t.Errorf("%s reveals %q: %s", what, s, text)
			}
		}
	}
	callers := map[string]string{"another inspector": e.token(t, "insp.a"), "not on the team": e.token(t, "outsider"), "taken off the team": gone}
	for who, tok := range callers {
		t.Run(who, func(t *testing.T) {
			mk := func(ref, q string) *fieldworkv1.Op {
				return &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: ref, QuestionId: q, Value: "yes", BaseRevision: 0, DeviceId: "dev-x", DeviceSeq: 9}
			}
			acks := e.push(t, tok, mk("T-2", "2.1.1"), mk("T-2", "2.1.3"), mk("NO-SUCH", "2.1.1"))
			for i, a := range acks {
				if a.GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED || codes.Code(a.GetCode()) != codes.PermissionDenied {
					t.Errorf("ack %d = %v, want rejected with PERMISSION_DENIED", i, a)
				}
				if a.GetCurrent() != nil || a.GetConflict() != nil {
					t.Errorf("ack %d carries the case's answer: %v", i, a)
				}
				leaks(t, "push ack", a.String())
			}
			// A case that exists and one that does not are refused alike.
			if strings.ReplaceAll(acks[0].GetReason(), "T-2", "X") != strings.ReplaceAll(acks[2].GetReason(), "NO-SUCH", "X") {
				t.Errorf("refusals differ for an existing and a missing case: %q, %q", acks[0].GetReason(), acks[2].GetReason())
			}
			_, err := fieldworkv1.NewAnswerServiceClient(e.conn).ListAnswers(as(context.Background(), tok),
				&fieldworkv1.ListAnswersRequest{InspectionId: id, CaseRef: "T-2"})
			if status.Code(err) != codes.PermissionDenied {
				t.Errorf("ListAnswers of T-2: %v, want PermissionDenied", err)
			}
			leaks(t, "ListAnswers error", status.Convert(err).Message())
			_, err = fieldworkv1.NewInspectionServiceClient(e.conn).SetCaseStatus(as(context.Background(), tok),
				&fieldworkv1.SetCaseStatusRequest{InspectionId: id, CaseRef: "T-2", Status: "submitted"})
			if status.Code(err) != codes.PermissionDenied {
				t.Errorf("SetCaseStatus of T-2: %v, want PermissionDenied", err)
			}
			leaks(t, "SetCaseStatus error", status.Convert(err).Message())
		})
	}
	// The removed QA re-sends the op they made while on the team: the
	// recorded result comes back, but nothing of the case with it.
	a := e.push(t, gone, goneOp)[0]
	if !a.GetDuplicate() || a.GetCurrent() != nil || a.GetConflict() != nil {
		t.Errorf("re-sent op after removal: %v, want a duplicate with no answer", a)
	}
	leaks(t, "re-sent op's ack", a.String())
	// Someone who may see the case still gets the server's answer in a refusal.
	lead := e.push(t, e.admin, &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-2", QuestionId: "2.1.1", Value: "maybe", DeviceId: "d"})[0]
	if lead.GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED || lead.GetCurrent().GetNote() != secret {
		t.Errorf("admin's refused op: %v, want rejected with the current answer", lead)
	}
}

// An op_id names one payload: re-sent as it was, it gets its recorded
// result; with anything else changed (or by anyone else) it is refused,
// naming the op_id, and the answer it wrote stands.
func TestAnOpIDNamesOnePayload(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	tokA := e.token(t, "insp.a")
	opID := uuid.NewString()
	orig := func() *fieldworkv1.Op {
		return &fieldworkv1.Op{OpId: opID, InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: "yes", Note: "first", DeviceId: "dev-a", DeviceSeq: 1}
	}
	if a := e.push(t, tokA, orig())[0]; a.GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED || a.GetRevision() != 1 {
		t.Fatalf("first push: %v", a)
	}
	if a := e.push(t, tokA, orig())[0]; !a.GetDuplicate() || a.GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED || a.GetRevision() != 1 {
		t.Errorf("same payload again: %v, want the recorded result (applied, revision 1) as a duplicate", a)
	}
	other := id2(t, e)
	variants := map[string]func(*fieldworkv1.Op){
		"value":      func(o *fieldworkv1.Op) { o.Value = "no" },
		"note":       func(o *fieldworkv1.Op) { o.Note = "second" },
		"question":   func(o *fieldworkv1.Op) { o.QuestionId = "2.1.2" },
		"case":       func(o *fieldworkv1.Op) { o.CaseRef = "T-2" },
		"inspection": func(o *fieldworkv1.Op) { o.InspectionId = other },
		"device_seq": func(o *fieldworkv1.Op) { o.DeviceSeq = 2 },
	}
	for name, change := range variants {
		op := orig()
		change(op)
		a := e.push(t, tokA, op)[0]
		if a.GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED || codes.Code(a.GetCode()) != codes.InvalidArgument ||
			!strings.Contains(a.GetReason(), opID) || a.GetDuplicate() || a.GetCurrent() != nil {
			t.Errorf("op_id re-used with another %s: %v, want rejected INVALID_ARGUMENT naming the op_id", name, a)
		}
	}
	// By another user, with the very same fields.
	if a := e.push(t, e.admin, orig())[0]; a.GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED || a.GetCurrent() != nil {
		t.Errorf("op_id re-used by another user: %v, want rejected", a)
	}
	// Twice in one batch with different payloads.
	twin := uuid.NewString()
	acks := e.push(t, tokA,
		&fieldworkv1.Op{OpId: twin, InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.3", Value: "yes", DeviceId: "dev-a", DeviceSeq: 3},
		&fieldworkv1.Op{OpId: twin, InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.3", Value: "no", DeviceId: "dev-a", DeviceSeq: 3})
	if acks[0].GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED || acks[1].GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED {
		t.Errorf("one op_id twice in a batch: %v, want applied then rejected", acks)
	}
	if a := e.answer(t, id, "T-1", "2.1.1"); a.GetValue() != "yes" || a.GetNote() != "first" || a.GetRevision() != 1 {
		t.Errorf("answer after the re-used op_ids = %v, want the original yes/first at revision 1", a)
	}
	if a := e.answer(t, id, "T-1", "2.1.3"); a.GetValue() != "yes" || a.GetRevision() != 1 {
		t.Errorf("answer after the twin op = %v, want yes at revision 1", a)
	}
	if a := e.answer(t, id, "T-1", "2.1.2"); a != nil {
		t.Errorf("a re-used op_id wrote %v", a)
	}
}

func id2(t *testing.T, e *testEnv) string { return e.inspectionFor(t, "insp.a", "insp.b") }

// device_seq decides nothing on the server: a store restored from a backup
// (its counter behind what the server has seen), a copied store, or one
// counter jump never make a new edit "superseded". Only an op that named an
// earlier one supersedes it.
func TestADeviceCounterGoingBackOrJumpingLosesNoEdit(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	tok := e.token(t, "insp.a")
	mk := func(q, v string, base, seq int64, supersedes ...string) *fieldworkv1.Op {
		return &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-1", QuestionId: q, Value: v, BaseRevision: base,
			DeviceId: "dev-a", DeviceSeq: seq, Supersedes: supersedes}
	}
	want := func(a *fieldworkv1.Ack, rev int64, what string) {
		t.Helper()
		if a.GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED || a.GetRevision() != rev || a.GetReason() != "" {
			t.Errorf("%s: %v, want applied at revision %d", what, a, rev)
		}
	}
	want(e.push(t, tok, mk("2.1.1", "yes", 0, 5))[0], 1, "first edit")
	want(e.push(t, tok, mk("2.1.1", "no", 1, 6))[0], 2, "second edit")
	// The store is restored from a backup taken at seq 4, pulls, and edits.
	want(e.push(t, tok, mk("2.1.1", "na", 2, 5))[0], 3, "restored store's edit")
	// One huge counter value, then the counter back to normal.
	want(e.push(t, tok, mk("2.1.1", "yes", 3, 1_000_000_000_000))[0], 4, "edit after a counter jump")
	want(e.push(t, tok, mk("2.1.1", "no", 4, 7))[0], 5, "next edit")
	if a := e.answer(t, id, "T-1", "2.1.1"); a.GetValue() != "no" || a.GetRevision() != 5 {
		t.Errorf("answer = %v, want the last edit (no) at revision 5", a)
	}
	for _, seq := range []int64{-1, 1 << 53} {
		if a := e.push(t, tok, mk("2.1.2", "yes", 0, seq))[0]; a.GetResult() != fieldworkv1.OpResult_OP_RESULT_REJECTED ||
			codes.Code(a.GetCode()) != codes.InvalidArgument || !strings.Contains(a.GetReason(), "device_seq") {
			t.Errorf("device_seq %d: %v, want rejected naming device_seq", seq, a)
		}
	}
	// Out of order: the later edit, which named the earlier as unsent when it
	// was made, arrives first; the earlier is then superseded, not applied.
	older := mk("2.1.3", "yes", 0, 10)
	newer := mk("2.1.3", "no", 0, 11, older.GetOpId())
	want(e.push(t, tok, newer)[0], 1, "later edit first")
	if a := e.push(t, tok, older)[0]; a.GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED || !strings.Contains(a.GetReason(), "superseded") {
		t.Errorf("earlier edit after the later: %v, want applied as superseded", a)
	}
	if a := e.answer(t, id, "T-1", "2.1.3"); a.GetValue() != "no" || a.GetRevision() != 1 {
		t.Errorf("answer = %v, want the later edit (no) at revision 1", a)
	}
	// Another device (or user) cannot supersede an op by naming it.
	victim := mk("2.1.2", "yes", 0, 20)
	thief := &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.2", Value: "no", DeviceId: "dev-other",
		DeviceSeq: 1, Supersedes: []string{victim.GetOpId()}}
	want(e.push(t, e.admin, thief)[0], 1, "another device's edit")
	if a := e.push(t, tok, victim)[0]; a.GetResult() != fieldworkv1.OpResult_OP_RESULT_CONFLICT {
		t.Errorf("edit named by another device's op: %v, want a conflict (not superseded)", a)
	}
}

// Only the author of a refused op can dismiss it, and the answer says no
// more than how many of the ids were theirs.
func TestOnlyTheAuthorDismissesARefusal(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	tokA, tokB := e.token(t, "insp.a"), e.token(t, "insp.b")
	refused := &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: "maybe", DeviceId: "dev-a", DeviceSeq: 1}
	applied := &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: "yes", DeviceId: "dev-a", DeviceSeq: 2}
	e.push(t, tokA, refused, applied)
	dismiss := func(tok string, ids ...string) int32 {
		t.Helper()
		resp, err := fieldworkv1.NewSyncServiceClient(e.conn).DismissRefusals(as(context.Background(), tok),
			&fieldworkv1.DismissRefusalsRequest{OpIds: ids, DeviceId: "d"})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetDismissed()
	}
	if n := dismiss(tokB, refused.GetOpId()); n != 0 {
		t.Errorf("another user dismissed %d of insp.a's refusals", n)
	}
	if n := dismiss(tokA, applied.GetOpId(), uuid.NewString()); n != 0 {
		t.Errorf("dismissing an applied op and an unknown one counted %d", n)
	}
	if n := dismiss(tokA, refused.GetOpId()); n != 1 {
		t.Errorf("the author's dismissal counted %d, want 1", n)
	}
}

// Two copies of one store (a laptop's store copied to another, or restored
// from a backup while the original goes on) send different ops under the
// same device sequence numbers: the server detects it, says so in the ack
// and the audit trail, and no longer counts the other copy's writes as the
// device's own, so an edit on a stale base becomes a conflict instead of
// silently replacing the other copy's answer.
func TestACopiedStoreIsDetectedAndConflictsRatherThanOverwrites(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t)
	tok := e.token(t, "insp.a")
	mk := func(v string, seq int64) *fieldworkv1.Op {
		return &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: "T-1", QuestionId: "2.1.1", Value: v, BaseRevision: 0,
			DeviceId: "dev-c", DeviceSeq: seq}
	}
	if a := e.push(t, tok, mk("yes", 1))[0]; a.GetResult() != fieldworkv1.OpResult_OP_RESULT_APPLIED || a.GetDeviceReused() {
		t.Fatalf("the original's edit: %v", a)
	}
	a := e.push(t, tok, mk("no", 1))[0] // the copy, same device id and seq, another op
	if a.GetResult() != fieldworkv1.OpResult_OP_RESULT_CONFLICT || !a.GetDeviceReused() {
		t.Errorf("the copy's edit on the same base: %v, want a conflict flagged device_reused", a)
	}
	if ans := e.answer(t, id, "T-1", "2.1.1"); ans.GetValue() != "yes" || ans.GetRevision() != 1 {
		t.Errorf("answer = %v, want the original's yes kept", ans)
	}
	resp, err := fieldworkv1.NewAuditServiceClient(e.conn).ListAudit(as(context.Background(), e.admin), &fieldworkv1.ListAuditRequest{InspectionId: id})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, en := range resp.GetEntries() {
		found = found || en.GetAction() == "device.reused"
	}
	if !found {
		t.Error("no device.reused entry in the audit trail")
	}
}
