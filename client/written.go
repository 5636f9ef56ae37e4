package client

import (
	"context"
	"strconv"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/localstore"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
)

// Written judgements: the lead's summary, findings and recommendations,
// recorded offline like answers and sent on sync.

// WrittenRefusal is a written edit the server refused, kept on this laptop.
type WrittenRefusal = localstore.WrittenRefusal

// WrittenView is an inspection's written items as this laptop holds them.
type WrittenView struct {
	// Items are in report order, numbered (framework.OrderWritten),
	// withdrawn ones left out.
	Items []framework.WrittenItem
	// Pending names the items with a local edit not yet acknowledged.
	Pending map[string]bool
	// Conflicts are the open conflicts on this laptop's edits: both texts.
	Conflicts []framework.WrittenConflict
	// Refused are the refused edits, kept whole.
	Refused []WrittenRefusal
	Rated   bool
}

// RecordWritten checks a written item (the caller must lead the
// inspection, which must not be locked) and queues it for sync. A new
// finding or recommendation gets its item id here.
func (o *Offline) RecordWritten(ctx context.Context, user, inspectionID string, w framework.WrittenOp) (framework.Op, error) {
	return o.local.RecordWritten(ctx, user, inspectionID, w)
}

// Written is an inspection's written items on this laptop.
func (o *Offline) Written(ctx context.Context, inspectionID string) (WrittenView, error) {
	_, fw, err := o.InspectionFramework(ctx, inspectionID)
	if err != nil {
		return WrittenView{}, err
	}
	local, err := o.local.Written(ctx, inspectionID)
	if err != nil {
		return WrittenView{}, err
	}
	v := WrittenView{Pending: map[string]bool{}, Rated: fw.Rated()}
	items := make([]framework.WrittenItem, len(local))
	for i, it := range local {
		items[i] = it.WrittenItem
		if it.Pending > 0 {
			v.Pending[it.ID] = true
		}
	}
	v.Items = framework.OrderWritten(fw, items)
	if v.Conflicts, err = o.local.WrittenConflicts(ctx, inspectionID); err != nil {
		return v, err
	}
	v.Refused, err = o.local.WrittenRefused(ctx, inspectionID)
	return v, err
}

// Find picks one item: "summary", a recommendation's number as shown
// ("3"), or an item id (or 8 or more characters of one, from either end).
func (v WrittenView) Find(sel string) (framework.WrittenItem, error) {
	var found []framework.WrittenItem
	for _, it := range v.Items {
		switch {
		case sel == framework.SummaryItemID && it.Kind == framework.WrittenSummary,
			it.Kind == framework.WrittenRecommendation && sel == strconv.Itoa(it.Number),
			sel == it.ID,
			len(sel) >= 8 && (strings.HasPrefix(it.ID, sel) || strings.HasSuffix(it.ID, sel)):
			found = append(found, it)
		}
	}
	switch len(found) {
	case 0:
		return framework.WrittenItem{}, framework.Errorf(framework.CodeNotFound, "no written item %q on this laptop (fieldwork written list)", sel)
	case 1:
		return found[0], nil
	}
	return framework.WrittenItem{}, framework.Errorf(framework.CodeInvalid, "%q names %d written items: give more of the id", sel, len(found))
}

// ResolveWritten queues the resolution of an open written conflict: mine
// (this laptop's text) or theirs (the server's).
func (o *Offline) ResolveWritten(ctx context.Context, user, conflictID string, choice framework.Resolution) (framework.Op, error) {
	return o.local.ResolveWritten(ctx, user, conflictID, choice)
}

// DismissWrittenRefusal stops listing a refused written edit (kept).
// WrittenOpenCounts counts the open written conflicts and refused written
// edits on this device, over every inspection.
func (o *Offline) WrittenOpenCounts(ctx context.Context) (conflicts, refused int, err error) {
	return o.local.WrittenOpenCounts(ctx)
}

func (o *Offline) DismissWrittenRefusal(ctx context.Context, inspectionID, opID string) error {
	return o.local.DismissWrittenRefusal(ctx, inspectionID, opID)
}

// ImportFindings imports a findings.csv file into an inspection (online).
func (c *Client) ImportFindings(ctx context.Context, inspectionID string, csv []byte) (ImportResult, error) {
	device, err := c.deviceID(ctx)
	if err != nil {
		return ImportResult{}, err
	}
	resp, err := c.inspections.ImportFindings(ctx, &fieldworkv1.ImportFindingsRequest{InspectionId: inspectionID, Csv: csv, DeviceId: device})
	if err != nil {
		return ImportResult{}, rpcerr.FromStatus(err)
	}
	return ImportResult{Applied: int(resp.GetApplied()), Unchanged: int(resp.GetUnchanged())}, nil
}
