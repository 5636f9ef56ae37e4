package wire

import (
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

// The messages of framework_service.proto.

// FrameworkInfoToProto is the wire summary of a stored framework version.
// Builtin is not on the wire.
func FrameworkInfoToProto(f framework.Summary) *fieldworkv1.FrameworkSummary {
	return &fieldworkv1.FrameworkSummary{Id: f.ID, Version: int32(f.Version), Title: f.Title,
		Rated: f.Rated, Checksum: f.Checksum, QuestionCount: int32(f.Questions)}
}

// FrameworkInfoFromProto converts a framework summary.
func FrameworkInfoFromProto(m *fieldworkv1.FrameworkSummary) framework.Summary {
	return framework.Summary{ID: m.GetId(), Version: int(m.GetVersion()), Title: m.GetTitle(),
		Rated: m.GetRated(), Checksum: m.GetChecksum(), Questions: int(m.GetQuestionCount())}
}

// FrameworkToProto is the wire summary of a loaded framework.
func FrameworkToProto(fw *framework.Framework) *fieldworkv1.FrameworkSummary {
	return FrameworkInfoToProto(framework.Summary{ID: fw.ID, Version: fw.Version, Title: fw.Title,
		Rated: fw.Rated(), Checksum: fw.Checksum(), Questions: len(fw.Questions())})
}
