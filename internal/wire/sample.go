package wire

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
)

// SampleInfoToProto is the wire form of how a case sample was drawn.
func SampleInfoToProto(s framework.SampleInfo) *fieldworkv1.SampleInfo {
	m := &fieldworkv1.SampleInfo{Method: s.Method, Seed: s.Seed, SizeRule: s.SizeRule, Confidence: int32(s.Confidence), Margin: s.Margin,
		Requested: int32(s.Requested), Population: int32(s.Population), Size: int32(s.Size), Strata: s.Strata,
		WindowFrom: s.From, WindowTo: s.To, Inspectors: s.Inspectors, FrameworkId: s.FrameworkID,
		CaseloadSha256: s.CaseloadSHA256, SampleSha256: s.SampleSHA256, ImportedBy: s.ImportedBy, DeviceId: s.DeviceID}
	if !s.ImportedAt.IsZero() {
		m.ImportedAt = timestamppb.New(s.ImportedAt)
	}
	return m
}

// SampleInfoFromProto converts a sample info message.
func SampleInfoFromProto(m *fieldworkv1.SampleInfo) framework.SampleInfo {
	s := framework.SampleInfo{Method: m.GetMethod(), Seed: m.GetSeed(), SizeRule: m.GetSizeRule(), Confidence: int(m.GetConfidence()), Margin: m.GetMargin(),
		Requested: int(m.GetRequested()), Population: int(m.GetPopulation()), Size: int(m.GetSize()), Strata: m.GetStrata(),
		From: m.GetWindowFrom(), To: m.GetWindowTo(), Inspectors: m.GetInspectors(), FrameworkID: m.GetFrameworkId(),
		CaseloadSHA256: m.GetCaseloadSha256(), SampleSHA256: m.GetSampleSha256(), ImportedBy: m.GetImportedBy(), DeviceID: m.GetDeviceId()}
	if m.GetImportedAt() != nil {
		s.ImportedAt = m.GetImportedAt().AsTime()
	}
	return s
}
