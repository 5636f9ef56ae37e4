package syncer

import (
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// LocalAnswer is an answer as a client's offline store holds it: what the
// inspector sees, and how many of its edits still wait to be acknowledged.
type LocalAnswer struct {
	Value, Note string
	Revision    int64
	UpdatedBy   string
	UpdatedAt   time.Time
	Pending     int
}

// AnswerKey names one answer.
type AnswerKey struct{ InspectionID, CaseRef, QuestionID string }

// Settlement is what one acknowledged batch says about one answer: how
// many of its pending edits were acknowledged, and the server's answer
// after the last of them (nil when the server holds none, or the case is
// no longer the caller's to see).
type Settlement struct {
	Key   AnswerKey
	Acked int
	Last  *framework.Answer
}

// Settlements groups a batch's acknowledgements by answer, in the order
// the answers first appear. Acks come in op order, so the last one of an
// answer carries the server's answer after all of them. Only ops that
// were still queued count (queued reports it): the others were
// acknowledged before, by a batch sent twice, and settle nothing again.
func Settlements(ops []framework.Op, acks []framework.Ack, queued func(opID string) bool) []Settlement {
	byID := make(map[string]framework.Op, len(ops))
	for _, op := range ops {
		byID[op.ID] = op
	}
	at := map[AnswerKey]int{}
	var out []Settlement
	for _, ack := range acks {
		op, ok := byID[ack.OpID]
		if !ok || !queued(op.ID) {
			continue
		}
		k := AnswerKey{op.InspectionID, op.CaseRef, op.QuestionID}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, Settlement{Key: k})
		}
		out[i].Acked++
		out[i].Last = ack.Answer
	}
	return out
}

// Settle is the client's rule for its local answer once s.Acked of its
// pending edits are acknowledged: while an edit is still pending the
// inspector's latest value stays (it will reach the server); once none is,
// the answer is the server's after the last acknowledged op, and it goes
// (keep false) if the server holds none (a refused first write). A refused
// or conflicting edit therefore never lingers as if it were stored: it is
// kept apart, as a refusal or a conflict.
func Settle(local LocalAnswer, s Settlement) (after LocalAnswer, keep bool) {
	after = local
	after.Pending = max(local.Pending-s.Acked, 0)
	if after.Pending > 0 {
		return after, true
	}
	if s.Last == nil {
		return LocalAnswer{}, false
	}
	a := s.Last
	after.Value, after.Note, after.Revision, after.UpdatedBy, after.UpdatedAt = a.Value, a.Note, a.Revision, a.UpdatedBy, a.UpdatedAt
	return after, true
}
