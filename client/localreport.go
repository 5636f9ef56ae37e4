package client

import (
	"context"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// LocalReport is a report computed on this laptop, and what it is a copy of.
type LocalReport struct {
	*aggregate.Report
	// Unsynced counts the inspection's edits made here and not yet
	// acknowledged by the server: they are in the figures, and not yet in
	// the server's.
	Unsynced int
	// LastSync is when this laptop last synced ("" never).
	LastSync string
}

// Report computes an inspection's report from this laptop's store with the
// aggregation the server runs (aggregate.ComputeWith), for a lead on a
// train: the cases and answers as of the last sync with the edits made
// here since. The same roles as on the server may read it
// (framework.CanReadReport); the store holds only the cases its user may
// see, so it shows nothing the server's report would not.
func (o *Offline) Report(ctx context.Context, inspectionID string, by []string) (LocalReport, error) {
	in, fw, err := o.InspectionFramework(ctx, inspectionID)
	if err != nil {
		return LocalReport{}, err
	}
	if !framework.CanReadReport(in.Role) {
		return LocalReport{}, framework.Errorf(framework.CodePermission, "inspection %s: a %s does not read its report", inspectionID, in.Role)
	}
	if in.Status == framework.InspectionPurged {
		// Its cases were dropped from this laptop: figures computed here
		// would be of nothing. The server keeps its report, frozen.
		return LocalReport{}, framework.Errorf(framework.CodePrecondition, "inspection %s was purged after publication and its cases were removed from this laptop: there is no local copy; its frozen report is on the server (fieldwork report --inspection %s, online)", inspectionID, inspectionID)
	}
	for _, attr := range by {
		if _, ok := fw.Attribute(attr); !ok {
			if attr == aggregate.UnitAttribute {
				return LocalReport{}, framework.Errorf(framework.CodeInvalid, "by: %s breaks down pooled reports (--inspections) only", attr)
			}
			return LocalReport{}, framework.Errorf(framework.CodeInvalid, "by: %q is not a case attribute of framework %s", attr, fw.ID)
		}
	}
	sample, pending, err := o.local.ReportInput(ctx, inspectionID)
	if err != nil {
		return LocalReport{}, err
	}
	sample.InspectionName = in.Name
	sample.GeneratedAt = time.Now().UTC()
	last, err := o.LastSync(ctx)
	if err != nil {
		return LocalReport{}, err
	}
	return LocalReport{Report: aggregate.ComputeWith(fw, sample, aggregate.Options{By: by}), Unsynced: pending, LastSync: last}, nil
}
