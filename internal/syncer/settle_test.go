package syncer

import (
	"reflect"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

func TestSettle(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	local := LocalAnswer{Value: "no", Note: "mine", Revision: 2, UpdatedBy: "u", UpdatedAt: at.Add(-time.Hour), Pending: 2}
	server := &framework.Answer{Value: "yes", Note: "theirs", Revision: 5, UpdatedBy: "v", UpdatedAt: at}
	for _, tc := range []struct {
		name  string
		local LocalAnswer
		s     Settlement
		want  LocalAnswer
		keep  bool
	}{
		{"an edit still pending: the inspector's value stays", local, Settlement{Acked: 1, Last: server},
			LocalAnswer{Value: "no", Note: "mine", Revision: 2, UpdatedBy: "u", UpdatedAt: at.Add(-time.Hour), Pending: 1}, true},
		{"all acknowledged: the server's answer", local, Settlement{Acked: 2, Last: server},
			LocalAnswer{Value: "yes", Note: "theirs", Revision: 5, UpdatedBy: "v", UpdatedAt: at}, true},
		{"acknowledged twice over: no negative pending", local, Settlement{Acked: 5, Last: server},
			LocalAnswer{Value: "yes", Note: "theirs", Revision: 5, UpdatedBy: "v", UpdatedAt: at}, true},
		{"refused first write, nothing pending: the answer goes", local, Settlement{Acked: 2}, LocalAnswer{}, false},
		{"refused, but a later edit pending: stays", local, Settlement{Acked: 1}, LocalAnswer{Value: "no", Note: "mine", Revision: 2, UpdatedBy: "u", UpdatedAt: at.Add(-time.Hour), Pending: 1}, true},
	} {
		got, keep := Settle(tc.local, tc.s)
		if keep != tc.keep || keep && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Settle = %+v, %v; want %+v, %v", tc.name, got, keep, tc.want, tc.keep)
		}
	}
}

func TestSettlements(t *testing.T) {
	op := func(id, q string) framework.Op {
		return framework.Op{ID: id, InspectionID: "I", CaseRef: "C", QuestionID: q}
	}
	a1, a2 := &framework.Answer{Revision: 1}, &framework.Answer{Revision: 2}
	ops := []framework.Op{op("1", "A"), op("2", "B"), op("3", "A"), op("4", "B")}
	acks := []framework.Ack{{OpID: "1", Answer: a1}, {OpID: "2", Answer: a1}, {OpID: "3", Answer: a2}, {OpID: "4"}, {OpID: "not-sent", Answer: a2}}
	got := Settlements(ops, acks, func(id string) bool { return id != "2" }) // 2 was settled by an earlier batch
	want := []Settlement{{Key: AnswerKey{"I", "C", "A"}, Acked: 2, Last: a2}, {Key: AnswerKey{"I", "C", "B"}, Acked: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Settlements = %+v, want %+v", got, want)
	}
}
