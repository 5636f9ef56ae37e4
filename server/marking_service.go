package server

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/sampling"
	"github.com/fieldworkhq/fieldwork/internal/store"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// markingService serves MarkingService (marking_service.proto): selecting
// cases for second marking and moderating them (docs/qa.md). The second
// marking itself arrives on Push.
type markingService struct {
	fieldworkv1.UnimplementedMarkingServiceServer
	db *store.DB
}

func (s *markingService) SelectForQA(ctx context.Context, req *fieldworkv1.SelectForQARequest) (*fieldworkv1.SelectForQAResponse, error) {
	refs := req.GetCaseRefs()
	for _, ref := range refs {
		if err := framework.FieldCaseRef.CheckAs("case_ref", ref); err != nil {
			return nil, err
		}
	}
	if err := framework.FieldUserName.CheckAs("qa", req.GetQa()); err != nil {
		return nil, err
	}
	switch {
	case len(refs) > 0 && req.GetShare() != 0:
		return nil, framework.Errorf(framework.CodeInvalid, "select named cases or a share, not both")
	case len(refs) == 0:
		if err := framework.CheckQAShare(int(req.GetShare())); err != nil {
			return nil, err
		}
		cases, err := s.db.Cases(ctx, req.GetInspectionId(), "")
		if err != nil {
			return nil, err
		}
		refs = sampling.QADraw(cases, int(req.GetShare()), req.GetSeed())
	}
	sels, added, err := s.db.SelectForQA(ctx, actorFrom(ctx, ""), req.GetInspectionId(), req.GetQa(), refs)
	if err != nil {
		return nil, err
	}
	resp := &fieldworkv1.SelectForQAResponse{Added: int32(added)}
	for i := range sels {
		resp.Selections = append(resp.Selections, wire.SelectionToProto(&sels[i]))
	}
	return resp, nil
}

func (s *markingService) ListSelections(ctx context.Context, req *fieldworkv1.ListSelectionsRequest) (*fieldworkv1.ListSelectionsResponse, error) {
	in, err := s.db.Inspection(ctx, userFrom(ctx), req.GetInspectionId())
	if err != nil {
		return nil, err
	}
	if !framework.CanLead(in.Role) && in.Role != framework.RoleQA {
		return nil, framework.Errorf(framework.CodePermission, "the QA selections of inspection %s are for QA and the lead", req.GetInspectionId())
	}
	sels, err := s.db.Selections(ctx, req.GetInspectionId())
	if err != nil {
		return nil, err
	}
	resp := &fieldworkv1.ListSelectionsResponse{}
	for i := range sels {
		resp.Selections = append(resp.Selections, wire.SelectionToProto(&sels[i]))
	}
	return resp, nil
}

func (s *markingService) ListDisagreements(ctx context.Context, req *fieldworkv1.ListDisagreementsRequest) (*fieldworkv1.ListDisagreementsResponse, error) {
	m, err := s.db.Moderation(ctx, userFrom(ctx), req.GetInspectionId(), req.GetCaseRef())
	if err != nil {
		return nil, err
	}
	resp := &fieldworkv1.ListDisagreementsResponse{Selection: wire.SelectionToProto(&m.Selection)}
	for _, d := range m.Disagreements {
		if d.Decided != nil {
			resp.Decided = append(resp.Decided, wire.DisagreementToProto(req.GetInspectionId(), d))
		} else {
			resp.Open = append(resp.Open, wire.DisagreementToProto(req.GetInspectionId(), d))
		}
	}
	return resp, nil
}

// Moderate records the agreed answer of one question: the answer through
// the push path (store.ApplyOps: the same checks, revision, history, audit
// and kept counts as any correction of a submitted case), then the
// decision beside both markings.
func (s *markingService) Moderate(ctx context.Context, req *fieldworkv1.ModerateRequest) (*fieldworkv1.ModerateResponse, error) {
	u := userFrom(ctx)
	id, ref, qid := req.GetInspectionId(), req.GetCaseRef(), req.GetQuestionId()
	if err := framework.CheckAnswerNote(ref, qid, req.GetNote()); err != nil {
		return nil, err
	}
	m, err := s.db.Moderation(ctx, u, id, ref)
	if err != nil {
		return nil, err
	}
	var d *framework.Disagreement
	for i := range m.Disagreements {
		if m.Disagreements[i].QuestionID == qid {
			d = &m.Disagreements[i]
		}
	}
	if d == nil {
		return nil, framework.Errorf(framework.CodeInvalid, "case %s question %s: the two markings agree, or the question is not one of the case's", ref, qid)
	}
	value, err := framework.CheckModeration(ref, *d, req.GetTake(), req.GetValue())
	if err != nil {
		return nil, err
	}
	note := req.GetNote()
	if note == "" {
		switch {
		case req.GetTake() == framework.TakeFirst && d.First != nil:
			note = d.First.Note
		case req.GetTake() == framework.TakeSecond && d.Second != nil:
			note = d.Second.Note
		}
	}
	var base int64
	var firstValue, secondValue string
	cur, err := s.db.Answers(ctx, id, ref)
	if err != nil {
		return nil, err
	}
	for _, a := range cur {
		if a.QuestionID == qid {
			base = a.Revision
		}
	}
	if d.First != nil {
		firstValue = d.First.Value
	}
	if d.Second != nil {
		secondValue = d.Second.Value
	}
	op := framework.Op{ID: uuid.Must(uuid.NewV7()).String(), InspectionID: id, CaseRef: ref, QuestionID: qid, Value: value, Note: note,
		BaseRevision: base, DeviceID: req.GetDeviceId(), ClientTime: time.Now()}
	acks, err := s.db.ApplyOps(ctx, u, []framework.Op{op})
	if err != nil {
		return nil, err
	}
	ack := acks[0]
	switch ack.Result {
	case framework.OpRejected:
		return nil, ack.Err
	case framework.OpConflict:
		return nil, framework.Errorf(framework.CodeConflict, "%s", ack.Reason)
	}
	rec, err := s.db.RecordModeration(ctx, actorFrom(ctx, req.GetDeviceId()), id, framework.Moderation{CaseRef: ref, QuestionID: qid,
		Take: req.GetTake(), Value: value, Note: note, First: firstValue, Second: secondValue, Revision: ack.Revision})
	if err != nil {
		return nil, err
	}
	resp := &fieldworkv1.ModerateResponse{Moderation: wire.ModerationToProto(&rec)}
	if ack.Answer != nil {
		resp.Answer = wire.AnswerToProto(id, *ack.Answer)
	}
	return resp, nil
}

// blindCases is the cases of an inspection whose first marking u may not
// see (framework.CanSeeMarkingValues), for the case-level reads.
func blindCases(ctx context.Context, db *store.DB, u framework.User, inspectionID string) (map[string]bool, error) {
	in, err := db.Inspection(ctx, u, inspectionID)
	if err != nil {
		return nil, err
	}
	return db.BlindCases(ctx, u, in.Role, inspectionID)
}

// hideBlind leaves the case-level parts of a report that carry values
// (answers that no longer apply) out for the blind cases.
func hideBlind(r *aggregate.Report, blind map[string]bool) {
	if len(blind) == 0 {
		return
	}
	kept := r.NoLongerApplies[:0]
	for _, a := range r.NoLongerApplies {
		if !blind[a.CaseRef] {
			kept = append(kept, a)
		}
	}
	r.NoLongerApplies = kept
}

// hideBlindConflicts leaves conflicts on blind cases out.
func hideBlindConflicts(cs []framework.Conflict, blind map[string]bool) []framework.Conflict {
	if len(blind) == 0 {
		return cs
	}
	kept := cs[:0]
	for _, c := range cs {
		if !blind[c.CaseRef] {
			kept = append(kept, c)
		}
	}
	return kept
}
