package framework

import "time"

// Op is one answer write made on a device, possibly offline.
type Op struct {
	ID           string
	InspectionID string
	CaseRef      string
	QuestionID   string
	Value        string
	Note         string
	BaseRevision int64
	DeviceID     string
	DeviceSeq    int64
	ClientTime   time.Time
	// ConflictID, when set, makes the op the resolution of that conflict;
	// Resolution is how the value was chosen: mine, theirs or value.
	ConflictID string
	Resolution Resolution
	// Supersedes lists the earlier edits of the same answer that were still
	// in this device's outbox when the op was made: once the op is applied,
	// each of them that arrives later is superseded by it (docs/sync.md).
	Supersedes []string
	// Written, when set, makes the op a write of a written item instead of
	// an answer: CaseRef, QuestionID, Value and Note are then empty, and
	// BaseRevision, Supersedes and ConflictID are the item's (written.go).
	Written *WrittenOp
	// Status, when set, makes the op a move of the case CaseRef to another
	// status (a submission queued offline) instead of an answer:
	// QuestionID, Value, Note, BaseRevision, Supersedes and ConflictID are
	// then empty (lifecycle.go: CheckStatusChange decides it).
	Status *CaseStatusOp
	// Marking, when set, makes the op a write of the case's second marking
	// (marking.go) instead of its answers, or with Submit its submission.
	Marking *MarkingOp
}

// Bounds on an op's sync fields. device_seq orders a device's outbox and is
// kept for audit; it decides nothing on the server (docs/sync.md), but a
// value beyond what a JSON number holds exactly is a broken client.
const (
	MaxDeviceSeq  = 1<<53 - 1
	MaxSupersedes = 1000
)

// Resolution is how a conflict's value was chosen.
type Resolution string

// Resolutions of a conflict.
const (
	ResolveMine   Resolution = "mine"   // the edit the server refused
	ResolveTheirs Resolution = "theirs" // the value the server kept
	ResolveValue  Resolution = "value"  // a new value
)

// OpResult is the outcome of applying an op.
type OpResult int

// Op results; the numbers are stored, so never renumber them.
const (
	OpApplied  OpResult = 1
	OpConflict OpResult = 2
	OpRejected OpResult = 3
)

// Ack is the server's acknowledgement of one op.
type Ack struct {
	OpID      string
	Result    OpResult
	Duplicate bool
	Revision  int64
	Reason    string
	Conflict  *Conflict
	// Answer is the answer as it stands after the op (applied ops).
	Answer *Answer
	// Err is the rejection as an error, with its code.
	Err error
	// DeviceReused: the op is new but comes at or below the highest
	// device_seq recorded from its device, so the device's store was
	// restored from a backup or copied. The op was decided on its own (applied or a conflict, never
	// superseded); the device should sync as a new device from now on.
	DeviceReused bool
	// Written is the written item as it stands after a written op (for a
	// caller who may write it); WrittenConflict the conflict it made.
	Written         *WrittenItem
	WrittenConflict *WrittenConflict
	// Case is the case as it stands after an applied status op (for a
	// caller who may see it).
	Case *Case
	// Marking is the second marking's answer as it stands after a marking
	// op (for a caller CanSeeMarkingValues lets see it); MarkingConflict
	// the conflict it made; Selection the case's selection after a
	// submission.
	Marking         *Answer
	MarkingConflict *Conflict
	Selection       *QASelection
}

// Conflict is a stale write whose value differed from the server's.
type Conflict struct {
	ID             string
	InspectionID   string
	CaseRef        string
	QuestionID     string
	BaseRevision   int64
	ServerRevision int64
	ServerValue    string
	ServerNote     string
	// ServerUser, ServerDevice and ServerAt are who wrote the server's
	// value (its revision ServerRevision), from which device, and when: a
	// lead resolving the conflict weighs both sides and both authors.
	ServerUser   string
	ServerDevice string
	ServerAt     time.Time
	ClientValue  string
	ClientNote   string
	ClientUser   string
	ClientDevice string
	CreatedAt    time.Time
	Status       string // open or resolved
	ResolvedBy   string
	Resolution   string
}

// Change is the current state of one entity that changed at Seq; exactly
// one of the pointers is set.
type Change struct {
	Seq          int64
	InspectionID string
	Inspection   *Inspection
	Case         *Case
	Answer       *Answer
	Judgement    *Judgement
	Conflict     *Conflict
	Written      *WrittenItem
	// WrittenConflict is an open written conflict, or its resolution, for
	// every laptop of those who may write written items.
	WrittenConflict *WrittenConflict
	// WithdrawnCase is the reference of a case reassigned away from the
	// pulling inspector, whose device should drop it.
	WithdrawnCase string
	// WithdrawnInspection: the pulling user is off the inspection's team;
	// their device should drop the inspection and everything of it.
	WithdrawnInspection bool
	// Marking is an answer of a case's second marking; MarkingConflict a
	// conflict on one; Selection a case's QA selection and its state.
	Marking         *Answer
	MarkingConflict *Conflict
	Selection       *QASelection
}
