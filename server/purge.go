package server

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/store"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// PurgeResult is what a purge removed, and whether the database file was
// left with no deleted text in it (docs/retention.md).
type PurgeResult struct {
	Removed store.Removed
	// WALEmptied: the write-ahead log was truncated after the vacuum. A
	// reader that held it open keeps the log's old frames until the next
	// checkpoint; fieldworkd purge says so.
	WALEmptied bool
	// Again: the inspection was purged before; only the vacuum was redone.
	Again bool
}

// Purge removes a published inspection's case-level personal data and
// keeps its report frozen (fieldworkd purge; docs/retention.md): the
// report is computed now, as GetReport would, without its per-case
// sections, and stored in the same transaction that removes the data, which
// refuses if anything of the inspection changed since. Then the file is
// vacuumed, so no freed page still holds a note.
func (s *Server) Purge(ctx context.Context, a framework.Actor, inspectionID string) (PurgeResult, error) {
	in, err := s.db.Inspection(ctx, framework.User{Name: a.User, Admin: true}, inspectionID)
	if err != nil {
		return PurgeResult{}, err
	}
	if in.Status == framework.InspectionPurged {
		// The same purge again: nothing left to remove; the vacuum is
		// done again, for a purge whose vacuum did not finish.
		emptied, err := s.db.Vacuum(ctx)
		return PurgeResult{WALEmptied: emptied, Again: true}, err
	}
	if err := framework.CheckPurge(inspectionID, in.Status); err != nil {
		return PurgeResult{}, err
	}
	_, r, err := computeReport(ctx, s.db, []string{inspectionID}, nil, false)
	if err != nil {
		return PurgeResult{}, err
	}
	// The per-case sections name cases (and one the values of answers):
	// they go with the case data.
	r.CaseProgress, r.InspectorProgress, r.NoLongerApplies = nil, nil, nil
	frozen, err := proto.Marshal(wire.ReportToProto(r))
	if err != nil {
		return PurgeResult{}, fmt.Errorf("freeze the report: %w", err)
	}
	removed, err := s.db.Purge(ctx, a, inspectionID, frozen, r.AsOfSeq)
	if err != nil {
		return PurgeResult{}, err
	}
	emptied, err := s.db.Vacuum(ctx)
	if err != nil {
		// The purge stands (committed); what is left is free space.
		return PurgeResult{Removed: removed}, fmt.Errorf("inspection %s was purged, but the database file was not vacuumed (%w): run the same fieldworkd purge again to vacuum", inspectionID, err)
	}
	s.log.Info("inspection purged", "inspection", inspectionID, "by", a.User, "cases", removed.Cases, "answers", removed.Answers, "wal_emptied", emptied)
	return PurgeResult{Removed: removed, WALEmptied: emptied}, nil
}

// frozenReport is a purged inspection's report as kept, said to be frozen;
// nil for one that was not purged.
func frozenReport(ctx context.Context, db *store.DB, inspectionID string) (*framework.Framework, *aggregate.Report, error) {
	f, err := db.FrozenReport(ctx, inspectionID)
	if err != nil || f == nil {
		return nil, nil, err
	}
	var m fieldworkv1.Report
	if err := proto.Unmarshal(f.Report, &m); err != nil {
		return nil, nil, fmt.Errorf("frozen report of %s: %w", inspectionID, err)
	}
	r := wire.ReportFromProto(&m)
	r.Frozen = &aggregate.Frozen{PurgedAt: f.PurgedAt}
	fw, _, err := db.Framework(ctx, r.FrameworkID, r.FrameworkVersion)
	if err != nil {
		return nil, nil, err
	}
	return fw, r, nil
}

// purgedError refuses what needs a purged inspection's case data: per-case
// figures, breakdowns computed afresh, evidence, the dataset, pooling.
func purgedError(inspectionID, what string) error {
	return framework.Errorf(framework.CodePrecondition, "inspection %s was purged after publication: %s; its report is kept frozen (fieldwork report --inspection %s)", inspectionID, what, inspectionID)
}

// refusePurged refuses a request over several inspections, or for their
// case data, if any of them was purged.
func refusePurged(ctx context.Context, db *store.DB, ids []string, what string) error {
	id, err := db.FirstPurged(ctx, ids)
	if err == nil && id != "" {
		err = purgedError(id, what)
	}
	return err
}
