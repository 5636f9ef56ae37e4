package client

import (
	"context"
	"errors"
	"slices"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
)

// Offline is the user's work on this laptop: the client's own store of the
// inspections, cases and answers synced to it, and the outbox of edits not
// yet sent. Everything here works without a network. It is the only part
// of the client package that names the store's type, so the CLI and the
// form never see it.
type Offline struct {
	local *localstore.Store
}

// OpenOffline opens (creating) the client store at path.
func OpenOffline(ctx context.Context, path string) (*Offline, error) {
	l, err := localstore.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	return &Offline{local: l}, nil
}

// NewOffline wraps a store the caller opened (tests and tools that also
// read the store directly); the caller still owns and closes it.
func NewOffline(l *localstore.Store) *Offline { return &Offline{local: l} }

// Close closes the store.
func (o *Offline) Close() error { return o.local.Close() }

// Rejection is an edit the server refused, kept on this laptop until its
// author records it again or dismisses it.
type Rejection = localstore.Rejection

// RefusalSelector names refused edits: by op id (or a prefix of 8 or more
// characters), or by case and question (and inspection, where a case ref
// is in several).
type RefusalSelector = localstore.RefusalSelector

// Edit is one answer as its author gives it.
type Edit struct {
	InspectionID, CaseRef, QuestionID string
	Value, Note                       string
}

// Resolution is the author's choice for an open conflict: Choice is
// framework.ResolveMine (the refused edit), ResolveTheirs (the value the
// server kept) or ResolveValue (Value and Note).
type Resolution struct {
	ConflictID  string
	Choice      framework.Resolution
	Value, Note string
}

// Record checks an answer against the inspection's framework, the case's
// attributes and the author's role, and stores it with its outbox op in
// one transaction. user is the author named locally; the server attributes
// by token.
func (o *Offline) Record(ctx context.Context, user string, e Edit) (framework.Op, error) {
	return o.local.Record(ctx, user, e.InspectionID, e.CaseRef, e.QuestionID, e.Value, e.Note)
}

// Resolve queues the resolution of an open conflict (sent on sync): on an
// answer, or on a second marking (resolved as a marking answer).
func (o *Offline) Resolve(ctx context.Context, user string, r Resolution) (framework.Op, error) {
	second, err := o.IsMarkingConflict(ctx, r.ConflictID)
	if err != nil {
		return framework.Op{}, err
	}
	if second {
		return o.local.ResolveMarking(ctx, user, r.ConflictID, r.Choice, r.Value, r.Note)
	}
	return o.local.Resolve(ctx, user, r.ConflictID, r.Choice, r.Value, r.Note)
}

// MarkingConflicts lists the conflicts on second markings this laptop holds,
// of one inspection ("" for all), only the open ones unless all.
func (o *Offline) MarkingConflicts(ctx context.Context, inspectionID string, all bool) ([]framework.Conflict, error) {
	return o.local.MarkingConflicts(ctx, inspectionID, all)
}

// IsMarkingConflict says whether id is a conflict on a second marking held
// here.
func (o *Offline) IsMarkingConflict(ctx context.Context, id string) (bool, error) {
	ms, err := o.local.MarkingConflicts(ctx, "", true)
	return slices.ContainsFunc(ms, func(c framework.Conflict) bool { return c.ID == id }), err
}

// MarkingRefusal is a second-marking edit or submission the server refused,
// kept until the marker records that answer (or submits) again.
type MarkingRefusal = localstore.MarkingRefusal

// MarkingRefusals lists the open refused second-marking edits.
func (o *Offline) MarkingRefusals(ctx context.Context) ([]MarkingRefusal, error) {
	return o.local.MarkingRefusals(ctx)
}

// RecordAgain records the refused edit sel names again, as a new edit.
func (o *Offline) RecordAgain(ctx context.Context, user string, sel RefusalSelector) (framework.Op, error) {
	return o.local.RecordAgain(ctx, user, sel)
}

// Dismiss dismisses the refused edits sel names; the server audits the
// dismissal at the next sync.
func (o *Offline) Dismiss(ctx context.Context, sel RefusalSelector) ([]Rejection, error) {
	return o.local.Dismiss(ctx, sel)
}

// Rejections lists the open refused edits.
func (o *Offline) Rejections(ctx context.Context) ([]Rejection, error) {
	return o.local.Rejections(ctx)
}

// Conflicts lists the conflicts of one inspection ("" for all), only the
// open ones unless all.
func (o *Offline) Conflicts(ctx context.Context, inspectionID string, all bool) ([]framework.Conflict, error) {
	return o.local.Conflicts(ctx, inspectionID, all)
}

// PendingCount is the number of edits not yet acknowledged by the server.
func (o *Offline) PendingCount(ctx context.Context) (int, error) {
	return o.local.PendingCount(ctx)
}

// LastSync is when the last sync finished (RFC 3339), "" before the first.
func (o *Offline) LastSync(ctx context.Context) (string, error) {
	return o.local.Meta(ctx, metaLastSync)
}

// Inspections lists the inspections on this laptop.
func (o *Offline) Inspections(ctx context.Context) ([]framework.Inspection, error) {
	return o.local.Inspections(ctx)
}

// Inspection returns one inspection on this laptop.
func (o *Offline) Inspection(ctx context.Context, id string) (framework.Inspection, error) {
	return o.local.Inspection(ctx, id)
}

// Framework returns a framework version held on this laptop.
func (o *Offline) Framework(ctx context.Context, id string, version int) (*framework.Framework, error) {
	return o.local.Framework(ctx, id, version)
}

// LatestFramework returns the latest version of a framework held on this
// laptop.
func (o *Offline) LatestFramework(ctx context.Context, id string) (*framework.Framework, error) {
	return o.local.LatestFramework(ctx, id)
}

// InspectionFramework returns an inspection on this laptop with its
// framework version.
func (o *Offline) InspectionFramework(ctx context.Context, inspectionID string) (framework.Inspection, *framework.Framework, error) {
	in, err := o.local.Inspection(ctx, inspectionID)
	if err != nil {
		return in, nil, err
	}
	fw, err := o.local.Framework(ctx, in.FrameworkID, in.FrameworkVersion)
	return in, fw, err
}

// Cases lists an inspection's cases on this laptop.
func (o *Offline) Cases(ctx context.Context, inspectionID string) ([]framework.Case, error) {
	return o.local.Cases(ctx, inspectionID)
}

// Answers lists an inspection's answers on this laptop, of one case
// unless caseRef is "".
func (o *Offline) Answers(ctx context.Context, inspectionID, caseRef string) ([]framework.Answer, error) {
	return o.local.Answers(ctx, inspectionID, caseRef)
}

// DeviceID is this store's device id, sent with every write so the server
// can audit where it came from.
func (o *Offline) DeviceID(ctx context.Context) (string, error) {
	return o.local.DeviceID(ctx)
}

// Meta keys the client package keeps in the store.
const (
	metaLastSync = "last_sync"
)

func (o *Offline) meta(ctx context.Context, key string) (string, error) {
	return o.local.Meta(ctx, key)
}

func (o *Offline) setMeta(ctx context.Context, key, value string) error {
	return o.local.SetMeta(ctx, key, value)
}

// errNoStore is a client used without a local store (login, which only
// asks the server who the token belongs to).
var errNoStore = errors.New("no local store open")

// QueueCaseStatus checks a move of a case to another status against the
// server's rule on this laptop's copy (a submission: every applicable
// question answered) and queues it in the outbox, to be decided by the
// server on the next sync; the case shows the new status meanwhile.
func (o *Offline) QueueCaseStatus(ctx context.Context, user, inspectionID, caseRef string, to framework.CaseStatus, reason string) (framework.Op, error) {
	return o.local.QueueCaseStatus(ctx, user, inspectionID, caseRef, to, reason)
}

// QueuedCaseStatus is a case's status change waiting in the outbox ("" if
// none).
func (o *Offline) QueuedCaseStatus(ctx context.Context, inspectionID, caseRef string) (framework.CaseStatus, error) {
	return o.local.QueuedCaseStatus(ctx, inspectionID, caseRef)
}

// metaDefaultInspection is the inspection commands use when none is named
// (fieldwork use ID).
const metaDefaultInspection = "default_inspection"

// DefaultInspection is the inspection day-to-day commands use when none is
// named, and why: the one chosen with UseInspection (if still on this
// laptop), else the only inspection on it. "" when there is no such one;
// n is then how many inspections the laptop holds.
func (o *Offline) DefaultInspection(ctx context.Context) (id, why string, n int, err error) {
	ins, err := o.local.Inspections(ctx)
	if err != nil {
		return "", "", 0, err
	}
	chosen, err := o.local.Meta(ctx, metaDefaultInspection)
	if err != nil {
		return "", "", 0, err
	}
	for _, in := range ins {
		if chosen != "" && in.ID == chosen {
			return in.ID, "chosen with fieldwork use", len(ins), nil
		}
	}
	if len(ins) == 1 {
		return ins[0].ID, "the only inspection on this laptop", 1, nil
	}
	return "", "", len(ins), nil
}

// UseInspection makes id the inspection commands use when none is named
// ("" forgets the choice). It must be on this laptop.
func (o *Offline) UseInspection(ctx context.Context, id string) error {
	if id != "" {
		if _, err := o.local.Inspection(ctx, id); err != nil {
			return err
		}
	}
	return o.local.SetMeta(ctx, metaDefaultInspection, id)
}

// Missing lists a case's unanswered applicable questions on this laptop,
// in framework order (Framework.Missing, the server's rule for a
// submission).
func (o *Offline) Missing(ctx context.Context, inspectionID, caseRef string) ([]string, error) {
	_, fw, err := o.InspectionFramework(ctx, inspectionID)
	if err != nil {
		return nil, err
	}
	facts, err := o.caseFacts(ctx, inspectionID, caseRef)
	if err != nil {
		return nil, err
	}
	return fw.Missing(facts), nil
}
