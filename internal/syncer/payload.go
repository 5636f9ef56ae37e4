package syncer

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Payload is the fingerprint of what an op asks for, as sent by user: an
// op_id names one payload forever, so a re-sent op_id is a duplicate only
// when its payload is the same (the recorded result is returned again) and
// is refused otherwise. Every field that decides the op's outcome is in it;
// client_time is not (it is the device's clock, kept for audit only).
func Payload(user string, op framework.Op) int64 {
	h := sha256.New()
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(user)
	field(op.InspectionID)
	field(op.CaseRef)
	field(op.QuestionID)
	field(op.Value)
	field(op.Note)
	field(strconv.FormatInt(op.BaseRevision, 10))
	field(op.DeviceID)
	field(strconv.FormatInt(op.DeviceSeq, 10))
	field(op.ConflictID)
	field(string(op.Resolution))
	field(strconv.Itoa(len(op.Supersedes)))
	for _, id := range op.Supersedes {
		field(id)
	}
	if w := op.Written; w != nil {
		// Only written ops add these, so every answer op's fingerprint
		// stays as it was recorded.
		field("written")
		field(w.ItemID)
		field(string(w.Kind))
		field(w.StandardID)
		field(w.Text)
		field(strconv.FormatBool(w.Withdrawn))
	}
	if st := op.Status; st != nil {
		// Likewise only status ops (lifecycle.go's CaseStatusOp).
		field("case_status")
		field(string(st.Status))
		field(st.Reason)
	}
	var sum [sha256.Size]byte
	return int64(binary.BigEndian.Uint64(h.Sum(sum[:0])))
}
