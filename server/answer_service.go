package server

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/store"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// answerService serves AnswerService (answer_service.proto): online answer reads
// and writes, decided like pushed ops.
type answerService struct {
	fieldworkv1.UnimplementedAnswerServiceServer
	db *store.DB
}

func (s *answerService) RecordAnswer(ctx context.Context, req *fieldworkv1.RecordAnswerRequest) (*fieldworkv1.RecordAnswerResponse, error) {
	u := userFrom(ctx)
	op := framework.Op{ID: uuid.Must(uuid.NewV7()).String(), InspectionID: req.GetInspectionId(), CaseRef: req.GetCaseRef(),
		QuestionID: req.GetQuestionId(), Value: req.GetValue(), Note: req.GetNote(), BaseRevision: req.GetBaseRevision(),
		DeviceID: req.GetDeviceId(), ClientTime: time.Now()}
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
	answers, err := s.db.Answers(ctx, req.GetInspectionId(), req.GetCaseRef())
	if err != nil {
		return nil, err
	}
	for _, a := range answers {
		if a.QuestionID == req.GetQuestionId() {
			return &fieldworkv1.RecordAnswerResponse{Answer: wire.AnswerToProto(req.GetInspectionId(), a)}, nil
		}
	}
	return nil, errors.New("record answer: answer missing after write")
}

func (s *answerService) ListAnswers(ctx context.Context, req *fieldworkv1.ListAnswersRequest) (*fieldworkv1.ListAnswersResponse, error) {
	if _, err := s.db.VisibleCase(ctx, userFrom(ctx), req.GetInspectionId(), req.GetCaseRef()); err != nil {
		return nil, err
	}
	blind, err := blindCases(ctx, s.db, userFrom(ctx), req.GetInspectionId())
	if err != nil {
		return nil, err
	}
	if blind[req.GetCaseRef()] {
		return nil, framework.MarkingHiddenError(req.GetInspectionId(), req.GetCaseRef())
	}
	answers, err := s.db.Answers(ctx, req.GetInspectionId(), req.GetCaseRef())
	if err != nil {
		return nil, err
	}
	resp := &fieldworkv1.ListAnswersResponse{}
	for _, a := range answers {
		resp.Answers = append(resp.Answers, wire.AnswerToProto(req.GetInspectionId(), a))
	}
	return resp, nil
}
