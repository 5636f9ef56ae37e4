// Package syncer holds the sync protocol's rules, both ends, as pure
// functions testable without a network or a database: how the server
// decides a pushed op (Decide, CheckResolution, Replay) and how the client
// settles its local answer from the acknowledgements (Settle). The stores
// gather the facts and keep the outcome; docs/sync.md states the rules in
// words.
package syncer

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Current is the server's current answer, if any.
type Current struct {
	Exists   bool
	Value    string
	Note     string
	Revision int64
}

// Revision is who wrote one stored version of an answer.
type Revision struct {
	OpID   string // "" for a version not written by a pushed op (imports, RecordAnswer)
	Device string
	User   string
}

// Supersession is an applied edit that named an earlier op in its
// supersedes list.
type Supersession struct {
	By, User, Device string
	// SameAnswer says the naming edit wrote the same case and question.
	SameAnswer bool
}

// Facts is what the server knows, when an op arrives, about the answer it
// writes. The op has passed every check of who may write what (access,
// lifecycle, answer checks): Decide only decides between revisions.
type Facts struct {
	Current Current
	// SupersededBy is the applied edit that named this op in its
	// supersedes list, nil if none.
	SupersededBy *Supersession
	// Reused says the op comes from a store seen before at or above its
	// device sequence (restored from a backup or copied).
	Reused bool
	// Since lists the revisions of the answer written after base. It is
	// asked only when the op's base is stale, which is rare, so the store
	// reads them only then.
	Since func(base int64) ([]Revision, error)
}

// Decide decides a write op by user, whose value is already normalised,
// and returns its acknowledgement (without the server's current answer,
// which the store adds for callers who may see it). The rule is "never
// lose, never silently overwrite":
//
//   - a base revision the server never issued is refused;
//   - an op superseded by a later edit of the same answer, from the same
//     user and device, that named it, is applied without writing (the
//     later edit stands);
//   - revisions the op's own device wrote since its base do not make the
//     base stale, as the device has seen them — except for a restored or
//     copied store, which has seen only the edits its op names;
//   - a write that says what the answer already says converges;
//   - a write on the current revision applies as the next revision;
//   - any other write is a conflict: the server's answer stays and both
//     are kept for someone to resolve. Clocks play no part.
func Decide(op framework.Op, user, value string, f Facts) (framework.Ack, error) {
	cur := f.Current
	out, reason, err := decideRevision(op, user, cur.Exists && cur.Value == value && cur.Note == op.Note, f)
	if err != nil {
		return framework.Ack{}, err
	}
	ack := framework.Ack{OpID: op.ID}
	switch out {
	case badBase:
		err := framework.Errorf(framework.CodeInvalid, "case %s question %s: %s", op.CaseRef, op.QuestionID, reason)
		return framework.Ack{OpID: op.ID, Result: framework.OpRejected, Reason: err.Error(), Err: err}, nil
	case superseded:
		return framework.Ack{OpID: op.ID, Result: framework.OpApplied, Revision: cur.Revision, Reason: reason}, nil
	case converged:
		ack.Result, ack.Revision = framework.OpApplied, cur.Revision
	case applyNext:
		ack.Result, ack.Revision = framework.OpApplied, cur.Revision+1
		ack.Answer = &framework.Answer{CaseRef: op.CaseRef, QuestionID: op.QuestionID, Value: value, Note: op.Note,
			Revision: cur.Revision + 1, UpdatedBy: user, DeviceID: op.DeviceID}
	default:
		ack.Result, ack.Revision = framework.OpConflict, cur.Revision
		ack.Conflict = &framework.Conflict{
			ID: uuid.Must(uuid.NewV7()).String(), InspectionID: op.InspectionID, CaseRef: op.CaseRef, QuestionID: op.QuestionID,
			BaseRevision: op.BaseRevision, ServerRevision: cur.Revision, ServerValue: cur.Value, ServerNote: cur.Note,
			ClientValue: value, ClientNote: op.Note, ClientUser: user, ClientDevice: op.DeviceID, Status: "open",
		}
		ack.Reason = fmt.Sprintf("case %s question %s: changed on the server since revision %d (now %d: %q); conflict %s recorded",
			op.CaseRef, op.QuestionID, op.BaseRevision, cur.Revision, cur.Value, ack.Conflict.ID)
	}
	return ack, nil
}

// outcome is what the rules decide for a write to a revisioned entity (an
// answer, a written item).
type outcome int

const (
	badBase     outcome = iota + 1 // a base the server never issued: refused
	superseded                     // a later edit from the same device and user named it
	converged                      // says what the entity already says
	applyNext                      // on the current revision: the next one
	conflicting                    // stale and different: both kept
)

// decideRevision is the rule Decide and DecideWritten share, in order: a
// base the server never issued; superseded by a later edit that named the
// op; the device's own revisions since its base do not make it stale
// (except a reused store's, beyond the edits it names); converge; apply
// on the current revision; else conflict. same says the op writes what
// the entity already holds.
func decideRevision(op framework.Op, user string, same bool, f Facts) (outcome, string, error) {
	cur := f.Current
	if op.BaseRevision > cur.Revision || op.BaseRevision < 0 {
		return badBase, fmt.Sprintf("base revision %d is not one the server issued (current %d)", op.BaseRevision, cur.Revision), nil
	}
	if sp := f.SupersededBy; sp != nil && sp.SameAnswer && sp.User == user && sp.Device == op.DeviceID {
		// The ops arrived out of order. Only an op that named this op_id
		// can supersede it, so a restored or copied store's new edits never
		// are (docs/sync.md).
		return superseded, fmt.Sprintf("superseded by this device's later edit %s", sp.By), nil
	}
	base := op.BaseRevision
	if base < cur.Revision && op.DeviceID != "" {
		// A device that edits the same answer twice before syncing bases both
		// ops on the revision it last pulled.
		since, err := f.Since(base)
		if err != nil {
			return 0, "", err
		}
		if !slices.ContainsFunc(since, func(r Revision) bool { return !ownRevision(op, user, f.Reused, r) }) {
			base = cur.Revision
		}
	}
	switch {
	case cur.Exists && same:
		return converged, "", nil
	case cur.Revision == base:
		return applyNext, "", nil
	}
	return conflicting, "", nil
}

// DecideWritten decides an op that writes a written item (op.Written,
// already checked against the framework and the caller's role) by the same
// rules as an answer (decideRevision); cur is the item as it stands (nil
// if none), and f's Current is left for this function to fill. On a
// conflict the server keeps its text and the ack carries both, for the
// lead to resolve: an edit on a stale base never silently overwrites.
func DecideWritten(op framework.Op, user string, cur *framework.WrittenItem, f Facts) (framework.Ack, error) {
	w := op.Written
	f.Current = Current{}
	if cur != nil {
		f.Current = Current{Exists: true, Value: cur.Text, Note: withdrawnMark(cur.Withdrawn), Revision: cur.Revision}
	}
	same := cur != nil && cur.Text == w.Text && cur.Withdrawn == w.Withdrawn
	out, reason, err := decideRevision(op, user, same, f)
	if err != nil {
		return framework.Ack{}, err
	}
	rev := f.Current.Revision
	ack := framework.Ack{OpID: op.ID, Result: framework.OpApplied, Revision: rev}
	switch out {
	case badBase:
		err := framework.Errorf(framework.CodeInvalid, "written item %s: %s", w.ItemID, reason)
		return framework.Ack{OpID: op.ID, Result: framework.OpRejected, Reason: err.Error(), Err: err}, nil
	case superseded:
		ack.Reason = reason
	case converged:
	case applyNext:
		next := framework.WrittenItem{ID: w.ItemID, InspectionID: op.InspectionID, Kind: w.Kind, StandardID: w.StandardID,
			Text: w.Text, Withdrawn: w.Withdrawn, Revision: rev + 1, UpdatedBy: user, DeviceID: op.DeviceID}
		if cur != nil {
			next.Order, next.CreatedBy, next.CreatedAt = cur.Order, cur.CreatedBy, cur.CreatedAt
		}
		ack.Revision, ack.Written = rev+1, &next
	default:
		ack.Result = framework.OpConflict
		ack.WrittenConflict = &framework.WrittenConflict{ID: uuid.Must(uuid.NewV7()).String(), InspectionID: op.InspectionID, ItemID: w.ItemID,
			Kind: w.Kind, StandardID: w.StandardID, BaseRevision: op.BaseRevision, ServerRevision: rev,
			ServerText: cur.Text, ServerWithdrawn: cur.Withdrawn, ClientText: w.Text, ClientWithdrawn: w.Withdrawn,
			ClientUser: user, ClientDevice: op.DeviceID, Status: "open"}
		ack.Reason = fmt.Sprintf("written item %s (%s): changed on the server since revision %d (now %d); conflict %s recorded, both texts kept",
			w.ItemID, w.Kind, op.BaseRevision, rev, ack.WrittenConflict.ID)
	}
	return ack, nil
}

// withdrawnMark is a written item's withdrawal as the shared rule compares
// it (with its text): a withdrawal is a change like any other.
func withdrawnMark(withdrawn bool) string {
	if withdrawn {
		return "withdrawn"
	}
	return ""
}

// ownRevision says whether a revision written since an op's base is one
// the op's device has seen: its own writes, from the same device and
// user; for a reused (restored or copied) store only the edits the op
// names, since the store's other copy wrote under the same device id.
func ownRevision(op framework.Op, user string, reused bool, r Revision) bool {
	if reused {
		return r.OpID != "" && slices.Contains(op.Supersedes, r.OpID)
	}
	return r.Device == op.DeviceID && r.User == user
}

// CheckResolution checks an op that resolves a conflict against the
// conflict it names (nil when there is none the caller may see: the two
// are told apart by nobody). It returns the conflict the op resolves, or
// nil when someone else resolved it meanwhile: the op is then an ordinary
// write on its base revision, so a different choice made concurrently
// becomes a new conflict instead of being lost.
func CheckResolution(op framework.Op, c *framework.Conflict) (*framework.Conflict, error) {
	if c == nil {
		return nil, framework.Errorf(framework.CodeNotFound, "conflict %s not found", op.ConflictID)
	}
	if c.InspectionID != op.InspectionID || c.CaseRef != op.CaseRef || c.QuestionID != op.QuestionID {
		return nil, framework.Errorf(framework.CodeInvalid, "conflict %s is about case %s question %s, not case %s question %s",
			c.ID, c.CaseRef, c.QuestionID, op.CaseRef, op.QuestionID)
	}
	switch op.Resolution {
	case framework.ResolveMine, framework.ResolveTheirs, framework.ResolveValue:
	default:
		return nil, framework.Errorf(framework.CodeInvalid, "resolution %q is not mine, theirs or value", op.Resolution)
	}
	if c.Status != "open" {
		return nil, nil
	}
	return c, nil
}

// Recorded is what the server kept of an op it decided before.
type Recorded struct {
	// Payload is the op's fingerprint; records older than fingerprints
	// have none.
	Payload    int64
	HasPayload bool
	// Without a fingerprint, what the record does say.
	User, Device string
	Seq          int64
	QuestionID   string
}

// Replay decides an op whose op_id the server has seen: an op_id names one
// payload forever, so the same payload is a duplicate (the recorded result
// is returned again) and any other is refused — without anything of the
// first op, whose record stands and whose author the sender may not be.
func Replay(rec Recorded, user string, op framework.Op, payload int64) error {
	same := rec.Payload == payload
	if !rec.HasPayload {
		same = rec.User == user && rec.Device == op.DeviceID && rec.Seq == op.DeviceSeq && rec.QuestionID == op.QuestionID
	}
	if !same {
		return framework.Errorf(framework.CodeInvalid, "op_id %s was already used for a different change; a new change needs a new op_id", op.ID)
	}
	return nil
}
