package client

import (
	"context"
	"fmt"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// NotApplicableTargets lists, in framework order, the questions that
// marking target not applicable answers na: target's key question and its
// prompts, or every question of a standard, as far as they apply to the
// case. It refuses, naming them, when one already holds another answer:
// an answer the inspector gave is changed only on its own, never swept up
// with others.
func NotApplicableTargets(fw *framework.Framework, facts framework.Facts, target string) ([]*framework.Question, error) {
	inScope := func(q *framework.Question) bool { return q.StandardID == target }
	if q, ok := fw.Question(target); ok {
		if q.Kind != framework.QuestionKey {
			return nil, framework.Errorf(framework.CodeInvalid, "%s is a %s question: only a key question is marked not applicable with its prompts (answer it na on its own)", target, q.Kind)
		}
		inScope = func(o *framework.Question) bool {
			return o.ID == target || o.KeyQuestionID == target && o.Kind == framework.QuestionPrompt
		}
	} else if _, ok := fw.Standard(target); !ok {
		return nil, framework.Errorf(framework.CodeInvalid, "no key question or standard %q in %s", target, fw.ID)
	}
	var out []*framework.Question
	var given []string
	for _, q := range fw.Applicable(facts) {
		if !inScope(q) {
			continue
		}
		if v, ok := facts.Answer(q.ID); ok && v != "na" {
			given = append(given, q.ID+" is "+v)
		}
		out = append(out, q)
	}
	if len(given) > 0 {
		return nil, framework.Errorf(framework.CodePrecondition, "not marked: %s already answered (%s); answer those na on their own if they do not apply",
			target, strings.Join(given, ", "))
	}
	if len(out) == 0 {
		return nil, framework.Errorf(framework.CodeInvalid, "%s: no question of it applies to this case", target)
	}
	return out, nil
}

// RecordNotApplicable marks a key question and its prompts, or a whole
// standard, not applicable to a case in one action: each question gets
// its own na answer (its own op, audited like any other), note included.
// Questions that the na answers bring in (a rule on an answer) are asked
// of the caller, not guessed; the ops recorded are returned, in order, even
// when a later one fails.
func (o *Offline) RecordNotApplicable(ctx context.Context, user, inspectionID, caseRef, target, note string) ([]framework.Op, error) {
	_, fw, err := o.InspectionFramework(ctx, inspectionID)
	if err != nil {
		return nil, err
	}
	facts, err := o.caseFacts(ctx, inspectionID, caseRef)
	if err != nil {
		return nil, err
	}
	qs, err := NotApplicableTargets(fw, facts, target)
	if err != nil {
		return nil, err
	}
	var ops []framework.Op
	for _, q := range qs {
		if v, ok := facts.Answer(q.ID); ok && v == "na" {
			if cur, _ := o.answer(ctx, inspectionID, caseRef, q.ID); cur.Note == note {
				continue // already so: nothing to record
			}
		}
		op, err := o.Record(ctx, user, Edit{InspectionID: inspectionID, CaseRef: caseRef, QuestionID: q.ID, Value: "na", Note: note})
		if err != nil {
			return ops, fmt.Errorf("%s: %w", q.ID, err)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// caseFacts are a case's facts on this laptop: its attributes and answers.
func (o *Offline) caseFacts(ctx context.Context, inspectionID, caseRef string) (framework.Facts, error) {
	cases, err := o.Cases(ctx, inspectionID)
	if err != nil {
		return framework.Facts{}, err
	}
	for _, c := range cases {
		if c.Ref != caseRef {
			continue
		}
		as, err := o.Answers(ctx, inspectionID, caseRef)
		if err != nil {
			return framework.Facts{}, err
		}
		values := map[string]string{}
		for _, a := range as {
			values[a.QuestionID] = a.Value
		}
		return framework.CaseFacts(c.Attributes, values), nil
	}
	return framework.Facts{}, framework.Errorf(framework.CodeNotFound, "case %q is not in inspection %s on this device (run fieldwork sync)", caseRef, inspectionID)
}

func (o *Offline) answer(ctx context.Context, inspectionID, caseRef, questionID string) (framework.Answer, error) {
	as, err := o.Answers(ctx, inspectionID, caseRef)
	for _, a := range as {
		if a.QuestionID == questionID {
			return a, err
		}
	}
	return framework.Answer{}, err
}
