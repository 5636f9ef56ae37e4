package syncer

import (
	"errors"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

func TestDecide(t *testing.T) {
	cur := Current{Exists: true, Value: "no", Note: "n", Revision: 3}
	mine := Revision{OpID: "o2", Device: "d1", User: "u"}
	otherDevice := Revision{OpID: "o9", Device: "d2", User: "u"}
	otherUser := Revision{OpID: "o8", Device: "d1", User: "v"}
	imported := Revision{Device: "import", User: "lead"}
	type want struct {
		result   framework.OpResult
		revision int64
		written  bool   // an answer to store
		reason   string // a substring of the reason
	}
	for _, tc := range []struct {
		name   string
		base   int64
		value  string
		note   string
		super  []string
		facts  Facts
		since  []Revision // nil: Since must not be asked
		want   want
		wantEr string
	}{
		{name: "on the current revision: applied as the next", base: 3, value: "yes",
			want: want{framework.OpApplied, 4, true, ""}},
		{name: "first answer", base: 0, value: "yes", facts: Facts{Current: Current{}},
			want: want{framework.OpApplied, 1, true, ""}},
		{name: "same value and note on the current revision: converges", base: 3, value: "no", note: "n",
			want: want{framework.OpApplied, 3, false, ""}},
		{name: "same value, other note: a write", base: 3, value: "no", note: "m",
			want: want{framework.OpApplied, 4, true, ""}},
		{name: "stale and the same: converges, whoever wrote since", base: 1, value: "no", note: "n", since: []Revision{otherUser},
			want: want{framework.OpApplied, 3, false, ""}},
		{name: "stale, another user wrote since: conflict", base: 1, value: "yes", since: []Revision{mine, otherUser},
			want: want{framework.OpConflict, 3, false, "changed on the server since revision 1 (now 3"}},
		{name: "stale, another device of the same user wrote since: conflict", base: 1, value: "yes", since: []Revision{otherDevice},
			want: want{framework.OpConflict, 3, false, "conflict"}},
		{name: "stale, an import wrote since: conflict", base: 2, value: "yes", since: []Revision{imported},
			want: want{framework.OpConflict, 3, false, "conflict"}},
		{name: "stale only by this device's own writes: applied", base: 1, value: "yes", since: []Revision{mine, mine},
			want: want{framework.OpApplied, 4, true, ""}},
		{name: "reused store: its own device's unnamed writes make the base stale", base: 1, value: "yes",
			facts: Facts{Reused: true}, since: []Revision{mine},
			want: want{framework.OpConflict, 3, false, "conflict"}},
		{name: "reused store: the edits it names are its own", base: 1, value: "yes", super: []string{"o2"},
			facts: Facts{Reused: true}, since: []Revision{mine},
			want: want{framework.OpApplied, 4, true, ""}},
		{name: "reused store: a named op of another device still counts as seen", base: 1, value: "yes", super: []string{"o9"},
			facts: Facts{Reused: true}, since: []Revision{otherDevice},
			want: want{framework.OpApplied, 4, true, ""}},
		{name: "reused store: an empty op id is never its own", base: 1, value: "yes", super: []string{""},
			facts: Facts{Reused: true}, since: []Revision{imported},
			want: want{framework.OpConflict, 3, false, "conflict"}},
		{name: "superseded by this device's later edit that named it", base: 1, value: "yes",
			facts: Facts{SupersededBy: &Supersession{By: "o5", User: "u", Device: "d1", SameAnswer: true}},
			want:  want{framework.OpApplied, 3, false, "superseded by this device's later edit o5"}},
		{name: "named by another device's edit: not superseded", base: 1, value: "yes", since: []Revision{otherDevice},
			facts: Facts{SupersededBy: &Supersession{By: "o5", User: "u", Device: "d2", SameAnswer: true}},
			want:  want{framework.OpConflict, 3, false, "conflict"}},
		{name: "named by another user's edit: not superseded", base: 3, value: "yes",
			facts: Facts{SupersededBy: &Supersession{By: "o5", User: "v", Device: "d1", SameAnswer: true}},
			want:  want{framework.OpApplied, 4, true, ""}},
		{name: "named by an edit of another answer: not superseded", base: 3, value: "yes",
			facts: Facts{SupersededBy: &Supersession{By: "o5", User: "u", Device: "d1"}},
			want:  want{framework.OpApplied, 4, true, ""}},
		{name: "base above the current revision: refused", base: 4, value: "yes", wantEr: "base revision 4 is not one the server issued (current 3)"},
		{name: "negative base: refused", base: -1, value: "yes", wantEr: "base revision -1 is not one the server issued"},
		{name: "base check comes before supersession", base: 9, value: "yes",
			facts:  Facts{SupersededBy: &Supersession{By: "o5", User: "u", Device: "d1", SameAnswer: true}},
			wantEr: "base revision 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.facts
			if f.Current == (Current{}) && tc.name != "first answer" {
				f.Current = cur
			}
			asked := false
			f.Since = func(base int64) ([]Revision, error) {
				asked = true
				if tc.since == nil {
					t.Errorf("Since(%d) asked, want not asked", base)
				}
				if base != tc.base {
					t.Errorf("Since(%d), want Since(%d)", base, tc.base)
				}
				return tc.since, nil
			}
			op := framework.Op{ID: "o1", InspectionID: "I", CaseRef: "C-1", QuestionID: "2.1.1", Value: tc.value, Note: tc.note,
				BaseRevision: tc.base, DeviceID: "d1", Supersedes: tc.super}
			ack, err := Decide(op, "u", tc.value, f)
			if err != nil {
				t.Fatal(err)
			}
			if tc.since != nil && !asked {
				t.Errorf("Since not asked on a stale base")
			}
			if tc.wantEr != "" {
				if ack.Result != framework.OpRejected || !strings.Contains(ack.Reason, tc.wantEr) || framework.ErrorCode(ack.Err) != framework.CodeInvalid {
					t.Errorf("ack = %+v, want rejected (invalid) with %q", ack, tc.wantEr)
				}
				return
			}
			if ack.OpID != "o1" || ack.Result != tc.want.result || ack.Revision != tc.want.revision || (ack.Answer != nil) != tc.want.written {
				t.Errorf("ack = %v rev %d answer %v; want %v rev %d written %v", ack.Result, ack.Revision, ack.Answer, tc.want.result, tc.want.revision, tc.want.written)
			}
			if !strings.Contains(ack.Reason, tc.want.reason) || tc.want.reason == "" && ack.Reason != "" {
				t.Errorf("reason = %q, want %q", ack.Reason, tc.want.reason)
			}
			if a := ack.Answer; a != nil && (a.Value != tc.value || a.Note != tc.note || a.Revision != tc.want.revision || a.UpdatedBy != "u" || a.DeviceID != "d1") {
				t.Errorf("answer = %+v", a)
			}
			if c := ack.Conflict; (c != nil) != (tc.want.result == framework.OpConflict) {
				t.Errorf("conflict = %+v for result %v", c, ack.Result)
			} else if c != nil {
				if c.ID == "" || c.Status != "open" || c.ServerValue != "no" || c.ServerNote != "n" || c.ServerRevision != 3 ||
					c.ClientValue != tc.value || c.ClientUser != "u" || c.ClientDevice != "d1" || c.BaseRevision != tc.base || !strings.Contains(ack.Reason, c.ID) {
					t.Errorf("conflict = %+v, reason %q", c, ack.Reason)
				}
			}
		})
	}
}

func TestDecide_SinceErrorIsReturned(t *testing.T) {
	boom := errors.New("disk")
	_, err := Decide(framework.Op{ID: "o", BaseRevision: 1, DeviceID: "d"}, "u", "yes",
		Facts{Current: Current{Exists: true, Revision: 2}, Since: func(int64) ([]Revision, error) { return nil, boom }})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want %v", err, boom)
	}
}

func TestCheckResolution(t *testing.T) {
	op := framework.Op{ID: "o", InspectionID: "I", CaseRef: "C", QuestionID: "Q", ConflictID: "k", Resolution: framework.ResolveMine}
	open := &framework.Conflict{ID: "k", InspectionID: "I", CaseRef: "C", QuestionID: "Q", Status: "open"}
	resolved := *open
	resolved.Status = "resolved"
	other := *open
	other.QuestionID = "R"
	bad := op
	bad.Resolution = "both"
	for _, tc := range []struct {
		name string
		op   framework.Op
		c    *framework.Conflict
		want *framework.Conflict
		code framework.Code
		msg  string
	}{
		{"open conflict: resolves it", op, open, open, "", ""},
		{"resolved meanwhile: an ordinary write", op, &resolved, nil, "", ""},
		{"none (or not visible): not found", op, nil, nil, framework.CodeNotFound, "conflict k not found"},
		{"another question's conflict", op, &other, nil, framework.CodeInvalid, "conflict k is about case C question R, not case C question Q"},
		{"unknown resolution", bad, open, nil, framework.CodeInvalid, `resolution "both" is not mine, theirs or value`},
	} {
		got, err := CheckResolution(tc.op, tc.c)
		if got != tc.want || framework.ErrorCode(err) != tc.code || (err != nil) != (tc.msg != "") || err != nil && err.Error() != tc.msg {
			t.Errorf("%s: CheckResolution = %v, %v; want %v, %q (%s)", tc.name, got, err, tc.want, tc.msg, tc.code)
		}
	}
}

func TestReplay(t *testing.T) {
	op := framework.Op{ID: "o", DeviceID: "d", DeviceSeq: 7, QuestionID: "Q"}
	for _, tc := range []struct {
		name string
		rec  Recorded
		user string
		pay  int64
		ok   bool
	}{
		{"same payload", Recorded{Payload: 42, HasPayload: true}, "u", 42, true},
		{"another payload", Recorded{Payload: 42, HasPayload: true}, "u", 43, false},
		{"legacy record, same sender and op", Recorded{User: "u", Device: "d", Seq: 7, QuestionID: "Q"}, "u", 1, true},
		{"legacy record, another user", Recorded{User: "v", Device: "d", Seq: 7, QuestionID: "Q"}, "u", 1, false},
		{"legacy record, another question", Recorded{User: "u", Device: "d", Seq: 7, QuestionID: "R"}, "u", 1, false},
		{"legacy record, another sequence", Recorded{User: "u", Device: "d", Seq: 8, QuestionID: "Q"}, "u", 1, false},
	} {
		err := Replay(tc.rec, tc.user, op, tc.pay)
		if (err == nil) != tc.ok || err != nil && (framework.ErrorCode(err) != framework.CodeInvalid || !strings.Contains(err.Error(), "op_id o was already used")) {
			t.Errorf("%s: Replay = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestDecideWritten(t *testing.T) {
	w := func(text string) *framework.WrittenOp {
		return &framework.WrittenOp{ItemID: framework.SummaryItemID, Kind: framework.WrittenSummary, Text: text}
	}
	op := func(id string, base int64, device, text string) framework.Op {
		return framework.Op{ID: id, InspectionID: "i1", BaseRevision: base, DeviceID: device, DeviceSeq: 1, Written: w(text)}
	}
	cur := &framework.WrittenItem{ID: framework.SummaryItemID, Kind: framework.WrittenSummary, Text: "server text", Revision: 2, Order: 1, CreatedBy: "lead"}
	since := func(revs ...Revision) func(int64) ([]Revision, error) {
		return func(int64) ([]Revision, error) { return revs, nil }
	}
	// New item on base 0: applied as revision 1.
	ack, err := DecideWritten(op("o1", 0, "d1", "first"), "lead", nil, Facts{})
	if err != nil || ack.Result != framework.OpApplied || ack.Revision != 1 || ack.Written == nil || ack.Written.Text != "first" {
		t.Fatalf("new item: %+v %v", ack, err)
	}
	// On the current revision: next revision, keeping order and creator.
	ack, _ = DecideWritten(op("o2", 2, "d1", "edited"), "lead", cur, Facts{})
	if ack.Result != framework.OpApplied || ack.Revision != 3 || ack.Written.Order != 1 || ack.Written.CreatedBy != "lead" {
		t.Fatalf("edit on current: %+v", ack)
	}
	// Same text on a stale base from another device converges.
	ack, _ = DecideWritten(op("o3", 1, "d2", "server text"), "lead", cur, Facts{Since: since(Revision{Device: "d1", User: "lead"})})
	if ack.Result != framework.OpApplied || ack.Written != nil || ack.Revision != 2 {
		t.Fatalf("converge: %+v", ack)
	}
	// Different text on a stale base written by another device: a
	// conflict keeping both texts, never an overwrite.
	ack, _ = DecideWritten(op("o4", 1, "d2", "mine"), "lead", cur, Facts{Since: since(Revision{Device: "d1", User: "lead"})})
	if ack.Result != framework.OpConflict || ack.Written != nil || ack.WrittenConflict == nil ||
		ack.WrittenConflict.ServerText != "server text" || ack.WrittenConflict.ClientText != "mine" {
		t.Fatalf("conflict: %+v", ack)
	}
	// The same device's own revisions since its base do not make it stale.
	ack, _ = DecideWritten(op("o5", 1, "d1", "again"), "lead", cur, Facts{Since: since(Revision{Device: "d1", User: "lead"})})
	if ack.Result != framework.OpApplied || ack.Revision != 3 {
		t.Fatalf("own revisions: %+v", ack)
	}
	// Withdrawing is a change of its own, even with the same text.
	wd := op("o6", 2, "d1", "server text")
	wd.Written.Withdrawn = true
	ack, _ = DecideWritten(wd, "lead", cur, Facts{})
	if ack.Result != framework.OpApplied || ack.Written == nil || !ack.Written.Withdrawn {
		t.Fatalf("withdraw: %+v", ack)
	}
	// A base never issued is refused.
	ack, _ = DecideWritten(op("o7", 9, "d1", "x"), "lead", cur, Facts{})
	if ack.Result != framework.OpRejected || framework.ErrorCode(ack.Err) != framework.CodeInvalid {
		t.Fatalf("bad base: %+v", ack)
	}
	// Superseded by the same device's later edit that named it.
	ack, _ = DecideWritten(op("o8", 2, "d1", "older"), "lead", cur, Facts{SupersededBy: &Supersession{By: "o9", User: "lead", Device: "d1", SameAnswer: true}})
	if ack.Result != framework.OpApplied || ack.Written != nil || ack.Reason == "" {
		t.Fatalf("superseded: %+v", ack)
	}
}

func TestPayloadWritten(t *testing.T) {
	a := framework.Op{ID: "o", InspectionID: "i", Written: &framework.WrittenOp{ItemID: "x", Kind: framework.WrittenRecommendation, Text: "t"}}
	b := a
	bw := *a.Written
	bw.Text = "u"
	b.Written = &bw
	if Payload("u", a) == Payload("u", b) {
		t.Fatal("written text is not in the payload")
	}
	c := a
	cw := *a.Written
	cw.Withdrawn = true
	c.Written = &cw
	if Payload("u", a) == Payload("u", c) {
		t.Fatal("withdrawal is not in the payload")
	}
	if Payload("u", framework.Op{ID: "o", InspectionID: "i"}) == Payload("u", a) {
		t.Fatal("a written op has the payload of an empty answer op")
	}
}
