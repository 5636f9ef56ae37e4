package store_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/store"
)

// markingTeam is an inspection with cases T-1 (insp.a) and T-2 (insp.b),
// a lead, a QA marker and a second QA user.
func markingTeam(t *testing.T, db *store.DB) string {
	t.Helper()
	id := mustInspection(t, db)
	mustCases(t, db, id)
	for _, m := range []struct {
		user string
		role framework.Role
	}{{"lead.l", framework.RoleLead}, {"qa.q", framework.RoleQA}, {"qa.r", framework.RoleQA}} {
		if err := db.AddTeamMember(context.Background(), admin, id, m.user, m.role); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func builtinFW(t *testing.T, id string) *framework.Framework {
	t.Helper()
	fws, _, err := framework.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var out *framework.Framework
	for _, fw := range fws {
		if fw.ID == id && (out == nil || fw.Version > out.Version) {
			out = fw
		}
	}
	return out
}

// answerAll answers every applicable question of a case (as the first or
// the second marking) with value(q), batch by batch until none is missing.
func answerAll(t *testing.T, db *store.DB, user, insp, ref string, attrs map[string]string, second bool, value func(q *framework.Question) string) map[string]string {
	t.Helper()
	fw := builtinFW(t, "probation-pdu-2023")
	got := map[string]string{}
	for range 10 {
		missing := fw.Missing(framework.CaseFacts(attrs, got))
		if len(missing) == 0 {
			return got
		}
		var ops []framework.Op
		for _, qid := range missing {
			q, _ := fw.Question(qid)
			o := op(insp, ref, qid, value(q), 0)
			o.DeviceID = "dev-" + user
			if second {
				o.Marking = &framework.MarkingOp{}
			}
			ops = append(ops, o)
			got[qid] = o.Value
		}
		acks, err := db.ApplyOps(context.Background(), framework.User{Name: user}, ops)
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range acks {
			if a.Result != framework.OpApplied {
				t.Fatalf("%s answering %s %s: %+v", user, ref, ops[i].QuestionID, a)
			}
		}
	}
	t.Fatal("answers never complete")
	return nil
}

func yes(q *framework.Question) string {
	if q.Type == framework.TypeCount {
		return "3"
	}
	return "yes"
}

// pullAll pulls every change after cursor for u.
func pullAll(t *testing.T, db *store.DB, u string, after int64) ([]framework.Change, int64) {
	t.Helper()
	var out []framework.Change
	for {
		chs, cur, more, err := db.Changes(context.Background(), framework.User{Name: u}, after, 500)
		if err != nil {
			t.Fatal(err)
		}
		out, after = append(out, chs...), cur
		if !more {
			return out, after
		}
	}
}

// seen counts, in pulled changes, the case's first-marking answers and
// second-marking answers.
func seen(chs []framework.Change, ref string) (first, second int) {
	for _, c := range chs {
		if c.Answer != nil && c.Answer.CaseRef == ref {
			first++
		}
		if c.Marking != nil && c.Marking.CaseRef == ref {
			second++
		}
	}
	return
}

func TestSelectForQA_IdempotentAndClearErrors(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := markingTeam(t, db)
	lead := framework.Actor{User: "lead.l", Device: "dev-l"}
	sels, added, err := db.SelectForQA(ctx, lead, id, "qa.q", []string{"T-1"})
	if err != nil || added != 1 || len(sels) != 1 || sels[0].QA != "qa.q" || sels[0].SelectedBy != "lead.l" || sels[0].Status != framework.MarkingOpen {
		t.Fatalf("select: %+v %d %v", sels, added, err)
	}
	if _, added, err := db.SelectForQA(ctx, lead, id, "qa.q", []string{"T-1"}); err != nil || added != 0 {
		t.Fatalf("again: %d %v", added, err)
	}
	if _, _, err := db.SelectForQA(ctx, lead, id, "qa.r", []string{"T-1"}); err == nil || !strings.Contains(err.Error(), "T-1 (by qa.q)") {
		t.Fatalf("another marker: %v", err)
	}
	if _, _, err := db.SelectForQA(ctx, lead, id, "qa.q", []string{"T-9", "T-2", "T-8"}); err == nil || !strings.Contains(err.Error(), `"T-9", "T-8"`) {
		t.Fatalf("unknown refs: %v", err)
	}
	if _, _, err := db.SelectForQA(ctx, lead, id, "insp.a", []string{"T-2"}); err == nil || !strings.Contains(err.Error(), `"insp.a" is on the team as inspector`) {
		t.Fatalf("not QA: %v", err)
	}
	if _, _, err := db.SelectForQA(ctx, framework.Actor{User: "qa.q"}, id, "qa.q", []string{"T-2"}); framework.ErrorCode(err) != framework.CodePermission {
		t.Fatalf("QA selecting: %v", err)
	}
	all, err := db.Selections(ctx, id)
	if err != nil || len(all) != 1 {
		t.Fatalf("selections: %+v %v", all, err)
	}
	entries, err := db.Audit(ctx, id, "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Action == "qa.select" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d qa.select audit entries, want 1", n)
	}
}

func TestMarking_BlindBothWaysThenLifted(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := markingTeam(t, db)
	if _, _, err := db.SelectForQA(ctx, framework.Actor{User: "lead.l"}, id, "qa.q", []string{"T-1"}); err != nil {
		t.Fatal(err)
	}
	c1, err := db.Case(ctx, id, "T-1")
	if err != nil {
		t.Fatal(err)
	}
	_, qaCur := pullAll(t, db, "qa.q", 0)
	_, inspCur := pullAll(t, db, "insp.a", 0)
	_, input0, err := db.ReportInput(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	first := answerAll(t, db, "insp.a", id, "T-1", c1.Attributes, false, yes)
	_, inputFirst, err := db.ReportInput(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(input0, inputFirst) {
		t.Fatal("the first marking moved nothing: the report check below could not fail")
	}
	// The second marking differs on one question.
	var differ string
	for q := range first {
		if first[q] == "yes" {
			differ = q
			break
		}
	}
	second := answerAll(t, db, "qa.q", id, "T-1", c1.Attributes, true, func(q *framework.Question) string {
		if q.ID == differ {
			return "no"
		}
		return yes(q)
	})
	if len(second) == 0 {
		t.Fatal("no second marking")
	}
	_, inputSecond, err := db.ReportInput(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// Everything but the pull log's position and the clock (which any
	// write anywhere moves) is the same.
	inputFirst.AsOfSeq, inputFirst.GeneratedAt = inputSecond.AsOfSeq, inputSecond.GeneratedAt
	if !reflect.DeepEqual(inputFirst, inputSecond) {
		t.Fatal("the second marking moved the report's input")
	}

	// Blind: the QA marker's pull carries none of the first marking, the
	// inspector's none of the second; the lead's both.
	chs, qaCur2 := pullAll(t, db, "qa.q", qaCur)
	if f, s := seen(chs, "T-1"); f != 0 || s != len(second) {
		t.Fatalf("QA marker pulled %d first, %d second answers; want 0, %d", f, s, len(second))
	}
	chs, inspCur2 := pullAll(t, db, "insp.a", inspCur)
	if f, s := seen(chs, "T-1"); f != len(first) || s != 0 {
		t.Fatalf("inspector pulled %d first, %d second; want %d, 0", f, s, len(first))
	}
	chs, _ = pullAll(t, db, "lead.l", 0)
	if f, s := seen(chs, "T-1"); f != len(first) || s != len(second) {
		t.Fatalf("lead pulled %d first, %d second; want %d, %d", f, s, len(first), len(second))
	}
	// The QA marker may not write the first marking; the refusal shows no value.
	ack := apply1(t, db, "qa.q", op(id, "T-1", differ, "no", 1))
	if ack.Result != framework.OpRejected || ack.Answer != nil || ack.Conflict != nil || strings.Contains(ack.Reason, "yes") {
		t.Fatalf("QA writing the first marking blind: %+v", ack)
	}
	// The inspector may not write the second marking.
	m := op(id, "T-1", differ, "yes", 0)
	m.Marking = &framework.MarkingOp{}
	if ack := apply1(t, db, "insp.a", m); ack.Result != framework.OpRejected || ack.Marking != nil {
		t.Fatalf("inspector writing the second marking: %+v", ack)
	}

	// Submit the second marking, then the case: the blind lifts, and both
	// laptops get what they were refused.
	sub := op(id, "T-1", "", "", 0)
	sub.Marking = &framework.MarkingOp{Submit: true}
	if ack := apply1(t, db, "qa.q", sub); ack.Result != framework.OpApplied || ack.Selection == nil || ack.Selection.Status != framework.MarkingSubmitted || ack.Selection.Lifted {
		t.Fatalf("submit second marking: %+v", ack)
	}
	chs, qaCur3 := pullAll(t, db, "qa.q", qaCur2)
	if f, _ := seen(chs, "T-1"); f != 0 {
		t.Fatalf("QA marker pulled %d first answers before the case was submitted", f)
	}
	if _, err := db.SetCaseStatus(ctx, framework.User{Name: "insp.a"}, "dev-insp.a", id, "T-1", framework.CaseSubmitted, ""); err != nil {
		t.Fatal(err)
	}
	chs, _ = pullAll(t, db, "qa.q", qaCur3)
	if f, _ := seen(chs, "T-1"); f != len(first) {
		t.Fatalf("after the lift the QA marker pulled %d first answers, want %d", f, len(first))
	}
	chs, _ = pullAll(t, db, "insp.a", inspCur2)
	if _, s := seen(chs, "T-1"); s != len(second) {
		t.Fatalf("after the lift the inspector pulled %d second answers, want %d", s, len(second))
	}

	// Moderation: one disagreement; take the second; the case's answer
	// changes with history, the pair keeps the first marking's value.
	mod, err := db.Moderation(ctx, framework.User{Name: "qa.q"}, id, "T-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(mod.Disagreements) != 1 || mod.Disagreements[0].QuestionID != differ || mod.Disagreements[0].First.Value != "yes" || mod.Disagreements[0].Second.Value != "no" {
		t.Fatalf("disagreements: %+v", mod.Disagreements)
	}
	pairs, err := db.MarkingPairs(ctx, id)
	if err != nil || len(pairs) != len(second) {
		t.Fatalf("pairs: %d %v, want %d", len(pairs), err, len(second))
	}
	mo := op(id, "T-1", differ, "no", mod.Disagreements[0].First.Revision)
	if ack := apply1(t, db, "lead.l", mo); ack.Result != framework.OpApplied {
		t.Fatalf("moderated answer: %+v", ack)
	}
	d, err := db.RecordModeration(ctx, framework.Actor{User: "lead.l", Device: "dev-l"}, id, framework.Moderation{CaseRef: "T-1", QuestionID: differ,
		Take: framework.TakeSecond, Value: "no", First: "yes", Second: "no", Revision: mod.Disagreements[0].First.Revision + 1})
	if err != nil || d.DecidedBy != "lead.l" {
		t.Fatalf("record moderation: %+v %v", d, err)
	}
	pairs, err = db.MarkingPairs(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pairs {
		if p.QuestionID == differ && (p.First != "yes" || p.Second != "no" || p.FirstMarker != "insp.a" || p.SecondMarker != "qa.q") {
			t.Fatalf("moderated pair: %+v", p)
		}
	}
	mod, err = db.Moderation(ctx, framework.User{Name: "lead.l"}, id, "T-1")
	if err != nil || len(mod.Disagreements) != 1 || mod.Disagreements[0].Decided == nil || mod.Disagreements[0].Decided.Take != framework.TakeSecond {
		t.Fatalf("after moderation: %+v %v", mod.Disagreements, err)
	}
	if _, err := db.Moderation(ctx, framework.User{Name: "insp.a"}, id, "T-1"); framework.ErrorCode(err) != framework.CodePermission {
		t.Fatalf("inspector moderating: %v", err)
	}
}

func TestMarking_TwoDevicesConflictAndReplay(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	id := markingTeam(t, db)
	if _, _, err := db.SelectForQA(ctx, framework.Actor{User: "lead.l"}, id, "qa.q", []string{"T-1"}); err != nil {
		t.Fatal(err)
	}
	mk := func(v, device string, base int64) framework.Op {
		o := framework.Op{ID: uuid.Must(uuid.NewV7()).String(), InspectionID: id, CaseRef: "T-1", QuestionID: "2.1.1", Value: v, BaseRevision: base,
			DeviceID: device, Marking: &framework.MarkingOp{}}
		return o
	}
	a := mk("yes", "laptop-1", 0)
	if ack := apply1(t, db, "qa.q", a); ack.Result != framework.OpApplied || ack.Marking == nil || ack.Marking.Revision != 1 {
		t.Fatalf("first: %+v", ack)
	}
	if ack := apply1(t, db, "qa.q", a); !ack.Duplicate || ack.Result != framework.OpApplied {
		t.Fatalf("same op twice: %+v", ack)
	}
	b := mk("no", "laptop-2", 0)
	ack := apply1(t, db, "qa.q", b)
	if ack.Result != framework.OpConflict || ack.MarkingConflict == nil || ack.MarkingConflict.ServerValue != "yes" || ack.MarkingConflict.ClientValue != "no" {
		t.Fatalf("stale base from the other laptop: %+v", ack)
	}
	ms, _, err := db.MarkingAnswers(ctx, framework.User{Name: "qa.q"}, id, "T-1")
	if err != nil || len(ms) != 1 || ms[0].Value != "yes" {
		t.Fatalf("marking after conflict: %+v %v", ms, err)
	}
	if _, _, err := db.MarkingAnswers(ctx, framework.User{Name: "insp.a"}, id, "T-1"); framework.ErrorCode(err) != framework.CodePermission || strings.Contains(err.Error(), "yes") {
		t.Fatalf("inspector reading the second marking: %v", err)
	}
	// The case's answers are untouched.
	if as, err := db.Answers(ctx, id, "T-1"); err != nil || len(as) != 0 {
		t.Fatalf("case answers: %+v %v", as, err)
	}
	// Resolving the marking conflict.
	r := mk("no", "laptop-2", 1)
	r.ConflictID, r.Resolution = ack.MarkingConflict.ID, framework.ResolveMine
	if ack := apply1(t, db, "qa.q", r); ack.Result != framework.OpApplied || ack.Marking == nil || ack.Marking.Value != "no" {
		t.Fatalf("resolve: %+v", ack)
	}
}
