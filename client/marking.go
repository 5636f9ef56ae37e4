package client

import (
	"context"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// Second marking (docs/qa.md): selecting cases for QA and moderating them
// online; recording and submitting the second marking offline.

// RecordMarking records one answer of a case's second marking on this
// laptop (sent on sync).
func (o *Offline) RecordMarking(ctx context.Context, user string, e Edit) (framework.Op, error) {
	return o.local.RecordMarking(ctx, user, e.InspectionID, e.CaseRef, e.QuestionID, e.Value, e.Note)
}

// SubmitMarking queues the submission of a case's second marking.
func (o *Offline) SubmitMarking(ctx context.Context, user, inspectionID, caseRef string) (framework.Op, error) {
	return o.local.SubmitMarking(ctx, user, inspectionID, caseRef)
}

// MarkingAnswers is the second marking of a case on this laptop.
func (o *Offline) MarkingAnswers(ctx context.Context, inspectionID, caseRef string) ([]framework.Answer, error) {
	return o.local.MarkingAnswers(ctx, inspectionID, caseRef)
}

// MarkingMissing lists what the second marking of a case has left.
func (o *Offline) MarkingMissing(ctx context.Context, user, inspectionID, caseRef string) ([]string, error) {
	return o.local.MarkingMissing(ctx, user, inspectionID, caseRef)
}

// Selections lists the QA selections this laptop holds.
func (o *Offline) Selections(ctx context.Context, inspectionID string) ([]framework.QASelection, error) {
	return o.local.Selections(ctx, inspectionID)
}

// QASelect selects cases for second marking by qa: refs, or share percent
// of each inspector's cases drawn with seed.
func (c *Client) QASelect(ctx context.Context, inspectionID, qa string, refs []string, share int, seed uint64) ([]framework.QASelection, int, error) {
	resp, err := c.marking.SelectForQA(ctx, &fieldworkv1.SelectForQARequest{InspectionId: inspectionID, Qa: qa, CaseRefs: refs, Share: int32(share), Seed: seed})
	if err != nil {
		return nil, 0, rpcerr.FromStatus(err)
	}
	var out []framework.QASelection
	for _, m := range resp.GetSelections() {
		out = append(out, *wire.SelectionFromProto(m))
	}
	return out, int(resp.GetAdded()), nil
}

// QASelections lists an inspection's selections and their markings' state.
func (c *Client) QASelections(ctx context.Context, inspectionID string) ([]framework.QASelection, error) {
	resp, err := c.marking.ListSelections(ctx, &fieldworkv1.ListSelectionsRequest{InspectionId: inspectionID})
	if err != nil {
		return nil, rpcerr.FromStatus(err)
	}
	var out []framework.QASelection
	for _, m := range resp.GetSelections() {
		out = append(out, *wire.SelectionFromProto(m))
	}
	return out, nil
}

// Disagreements lists a double-marked case's disagreements: open (to
// decide) and decided.
func (c *Client) Disagreements(ctx context.Context, inspectionID, caseRef string) (open, decided []framework.Disagreement, err error) {
	resp, err := c.marking.ListDisagreements(ctx, &fieldworkv1.ListDisagreementsRequest{InspectionId: inspectionID, CaseRef: caseRef})
	if err != nil {
		return nil, nil, rpcerr.FromStatus(err)
	}
	for _, m := range resp.GetOpen() {
		open = append(open, wire.DisagreementFromProto(m))
	}
	for _, m := range resp.GetDecided() {
		decided = append(decided, wire.DisagreementFromProto(m))
	}
	return open, decided, nil
}

// Moderate records the agreed answer of one question (take first, second
// or value), which becomes the case's answer; it then syncs, so this
// laptop shows it.
func (c *Client) Moderate(ctx context.Context, inspectionID, caseRef, questionID, take, value, note string) (framework.Moderation, error) {
	device, err := c.deviceID(ctx)
	if err != nil {
		return framework.Moderation{}, err
	}
	resp, err := c.marking.Moderate(ctx, &fieldworkv1.ModerateRequest{InspectionId: inspectionID, CaseRef: caseRef, QuestionId: questionID,
		Take: take, Value: value, Note: note, DeviceId: device})
	if err != nil {
		return framework.Moderation{}, rpcerr.FromStatus(err)
	}
	return *wire.ModerationFromProto(resp.GetModeration()), nil
}
