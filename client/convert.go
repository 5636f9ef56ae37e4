package client

import (
	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// ReportFromProto converts a report message back to the aggregate form the
// renderers take. The mapping is wire.ReportFromProto; this name remains
// for the CLI until it reaches reports through the client's own methods.
func ReportFromProto(m *fieldworkv1.Report) *aggregate.Report { return wire.ReportFromProto(m) }
