package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

// Found in review 13: an op that names a conflict id (any string) is refused
// "conflict X not found" before any visibility check, and withCurrent only
// rewrites that refusal to CaseHiddenError when the op's case exists. So a
// caller who may not see a case (an outsider, or an inspector of the team
// asking about another's case) tells an existing case from a missing one by
// the ack's code and reason: README "Security" promises the same answer
// whether the case exists or not.
func TestConflictID_TellsNothingOfACaseTheCallerMayNotSee(t *testing.T) {
	e := newTestServer(t)
	id := e.inspection(t) // T-1 insp.a, T-2 insp.b
	if err := e.srv.DB().CreateUser(context.Background(), adminActor, "outsider", false); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"outsider", "insp.a"} {
		tok := e.token(t, who)
		probe := func(ref string) *fieldworkv1.Ack {
			return e.push(t, tok, &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: ref, QuestionId: "2.1.1", Value: "yes",
				DeviceId: "dev-" + who, DeviceSeq: 1, ConflictId: uuid.NewString(), Resolution: "mine"})[0]
		}
		exists, missing := probe("T-2"), probe("NO-SUCH-CASE")
		if exists.GetCode() != missing.GetCode() || exists.GetReason() != strings.ReplaceAll(missing.GetReason(), "NO-SUCH-CASE", "T-2") {
			t.Errorf("%s tells an existing case it may not see from a missing one:\n existing: %v %q\n missing:  %v %q",
				who, exists.GetCode(), exists.GetReason(), missing.GetCode(), missing.GetReason())
		}
	}
	// Without a conflict id the two are told apart by nobody (control).
	tok := e.token(t, "insp.a")
	plain := func(ref string) *fieldworkv1.Ack {
		return e.push(t, tok, &fieldworkv1.Op{OpId: uuid.NewString(), InspectionId: id, CaseRef: ref, QuestionId: "2.1.1", Value: "yes", DeviceId: "dev-p", DeviceSeq: 1})[0]
	}
	if a, b := plain("T-2"), plain("NO-SUCH-CASE"); a.GetCode() != b.GetCode() {
		t.Errorf("control: %v %q vs %v %q", a.GetCode(), a.GetReason(), b.GetCode(), b.GetReason())
	}
}
