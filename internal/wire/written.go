package wire

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

// The written judgements' messages (types.proto WrittenItem and
// WrittenConflict, sync_service.proto WrittenOp).

// WrittenItemToProto is the wire form of a written item (nil for none).
func WrittenItemToProto(it *framework.WrittenItem) *fieldworkv1.WrittenItem {
	if it == nil {
		return nil
	}
	return &fieldworkv1.WrittenItem{Id: it.ID, InspectionId: it.InspectionID, Kind: string(it.Kind), StandardId: it.StandardID,
		Text: it.Text, Withdrawn: it.Withdrawn, Revision: it.Revision, Order: it.Order, Number: int32(it.Number),
		CreatedBy: it.CreatedBy, CreatedAt: Timestamp(it.CreatedAt), UpdatedBy: it.UpdatedBy, DeviceId: it.DeviceID,
		UpdatedAt: Timestamp(it.UpdatedAt)}
}

// WrittenItemFromProto converts a written item message (nil for none).
func WrittenItemFromProto(m *fieldworkv1.WrittenItem) *framework.WrittenItem {
	if m == nil {
		return nil
	}
	return &framework.WrittenItem{ID: m.GetId(), InspectionID: m.GetInspectionId(), Kind: framework.WrittenKind(m.GetKind()),
		StandardID: m.GetStandardId(), Text: m.GetText(), Withdrawn: m.GetWithdrawn(), Revision: m.GetRevision(), Order: m.GetOrder(),
		Number: int(m.GetNumber()), CreatedBy: m.GetCreatedBy(), CreatedAt: timeOf(m.GetCreatedAt()), UpdatedBy: m.GetUpdatedBy(),
		DeviceID: m.GetDeviceId(), UpdatedAt: timeOf(m.GetUpdatedAt())}
}

// WrittenConflictToProto is the wire form of a written conflict (nil for none).
func WrittenConflictToProto(c *framework.WrittenConflict) *fieldworkv1.WrittenConflict {
	if c == nil {
		return nil
	}
	return &fieldworkv1.WrittenConflict{Id: c.ID, InspectionId: c.InspectionID, ItemId: c.ItemID, Kind: string(c.Kind), StandardId: c.StandardID,
		BaseRevision: c.BaseRevision, ServerRevision: c.ServerRevision, ServerText: c.ServerText, ServerWithdrawn: c.ServerWithdrawn,
		ClientText: c.ClientText, ClientWithdrawn: c.ClientWithdrawn, ClientUser: c.ClientUser, ClientDevice: c.ClientDevice,
		CreatedAt: Timestamp(c.CreatedAt), Status: c.Status, ResolvedBy: c.ResolvedBy}
}

// WrittenConflictFromProto converts a written conflict message (nil for none).
func WrittenConflictFromProto(m *fieldworkv1.WrittenConflict) *framework.WrittenConflict {
	if m == nil {
		return nil
	}
	return &framework.WrittenConflict{ID: m.GetId(), InspectionID: m.GetInspectionId(), ItemID: m.GetItemId(), Kind: framework.WrittenKind(m.GetKind()),
		StandardID: m.GetStandardId(), BaseRevision: m.GetBaseRevision(), ServerRevision: m.GetServerRevision(), ServerText: m.GetServerText(),
		ServerWithdrawn: m.GetServerWithdrawn(), ClientText: m.GetClientText(), ClientWithdrawn: m.GetClientWithdrawn(),
		ClientUser: m.GetClientUser(), ClientDevice: m.GetClientDevice(), CreatedAt: timeOf(m.GetCreatedAt()), Status: m.GetStatus(),
		ResolvedBy: m.GetResolvedBy()}
}

func writtenOpToProto(w *framework.WrittenOp) *fieldworkv1.WrittenOp {
	if w == nil {
		return nil
	}
	return &fieldworkv1.WrittenOp{ItemId: w.ItemID, Kind: string(w.Kind), StandardId: w.StandardID, Text: w.Text, Withdrawn: w.Withdrawn}
}

func writtenOpFromProto(m *fieldworkv1.WrittenOp) *framework.WrittenOp {
	if m == nil {
		return nil
	}
	return &framework.WrittenOp{ItemID: m.GetItemId(), Kind: framework.WrittenKind(m.GetKind()), StandardID: m.GetStandardId(),
		Text: m.GetText(), Withdrawn: m.GetWithdrawn()}
}

// timeOf is Timestamp's inverse: the zero time for an unset timestamp.
func timeOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}
