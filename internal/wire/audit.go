package wire

import (
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

// The messages of audit_service.proto.

// AuditEntryToProto is the wire form of an audit entry.
func AuditEntryToProto(e framework.AuditEntry) *fieldworkv1.AuditEntry {
	return &fieldworkv1.AuditEntry{Seq: e.Seq, At: Timestamp(e.At), User: e.User, DeviceId: e.Device,
		Action: e.Action, Entity: e.Entity, Before: e.Before, After: e.After}
}

// AuditEntryFromProto converts an audit entry message.
func AuditEntryFromProto(m *fieldworkv1.AuditEntry) framework.AuditEntry {
	return framework.AuditEntry{Seq: m.GetSeq(), At: m.GetAt().AsTime(), User: m.GetUser(), Device: m.GetDeviceId(),
		Action: m.GetAction(), Entity: m.GetEntity(), Before: m.GetBefore(), After: m.GetAfter()}
}
