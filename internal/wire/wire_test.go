package wire_test

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/agreement"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	fieldworkv1 "github.com/fieldworkhq/fieldwork/internal/gen/fieldwork/v1"
	"github.com/fieldworkhq/fieldwork/internal/wire"
)

// notOnTheWire lists the domain fields no message carries, with why; the
// coverage check below skips them, and the fixtures leave them zero.
var notOnTheWire = map[string]string{
	// A report a laptop computed from its own store says so; the server's
	// report never is one.
	"aggregate.Report.Local.LastSync": "set on the laptop only",
	"aggregate.Report.Local.Unsynced": "set on the laptop only",
}

var at = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

// trip sends v through the wire: to its message, encoded and decoded as
// gRPC would, and back.
func trip[D any, M proto.Message](t *testing.T, v D, to func(D) M, from func(M) D) D {
	t.Helper()
	m := to(v)
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatalf("marshal %T: %v", m, err)
	}
	got := m.ProtoReflect().New().Interface().(M)
	if err := proto.Unmarshal(b, got); err != nil {
		t.Fatalf("unmarshal %T: %v", m, err)
	}
	return from(got)
}

// inInspection is a value the wire carries with an inspection id the
// domain type does not hold (cases, answers, judgements, acks).
type inInspection[D any] struct {
	InspectionID string
	Value        D
}

func fixtures() []any {
	inspection := framework.Inspection{ID: "insp-1", Name: "Gwent", Unit: "Gwent PDU", FrameworkID: "probation-pdu-2023",
		FrameworkVersion: 3, Status: framework.InspectionFieldwork, CreatedAt: at, Role: framework.RoleLead}
	kase := framework.Case{Ref: "T-1", Attributes: map[string]string{"sentence_type": "community", "sex": "female"},
		Inspector: "insp.a", Status: framework.CaseInProgress, StatusRevision: 3}
	answer := framework.Answer{CaseRef: "T-1", QuestionID: "2.1.1", Value: "yes", Note: "seen the plan", Revision: 4,
		UpdatedBy: "insp.a", DeviceID: "dev-a", UpdatedAt: at.Add(time.Second)}
	judgement := framework.Judgement{StandardID: "1.1", Rating: "Good", Rationale: "clear leadership", JudgedBy: "lead", JudgedAt: at.Add(2 * time.Second)}
	conflict := &framework.Conflict{ID: "c-1", InspectionID: "insp-1", CaseRef: "T-1", QuestionID: "2.1.1", BaseRevision: 2,
		ServerRevision: 3, ServerValue: "no", ServerNote: "server note", ClientValue: "yes", ClientNote: "client note",
		ClientUser: "insp.b", ClientDevice: "dev-b", CreatedAt: at.Add(3 * time.Second), Status: "resolved", ResolvedBy: "lead",
		Resolution: "mine: yes at revision 4", ServerUser: "insp.a", ServerDevice: "dev-a", ServerAt: at.Add(time.Second)}
	op := framework.Op{ID: "0195f3a0-0000-7000-8000-000000000001", InspectionID: "insp-1", CaseRef: "T-1", QuestionID: "2.1.1",
		Value: "yes", Note: "a note", BaseRevision: 3, DeviceID: "dev-a", DeviceSeq: 17, ClientTime: at.Add(4 * time.Second),
		ConflictID: "c-1", Resolution: framework.ResolveValue, Supersedes: []string{"0195f3a0-0000-7000-8000-000000000000"}}
	written := framework.WrittenItem{ID: "0195f3a0-0000-7000-8000-0000000000aa", InspectionID: "insp-1", Kind: framework.WrittenRecommendation,
		StandardID: "2.1", Text: "Improve oversight", Withdrawn: true, Revision: 3, Order: 2, Number: 1, CreatedBy: "lead", CreatedAt: at,
		UpdatedBy: "lead2", DeviceID: "dev-l", UpdatedAt: at.Add(5 * time.Second)}
	wconflict := &framework.WrittenConflict{ID: "wc-1", InspectionID: "insp-1", ItemID: "summary", Kind: framework.WrittenSummary, StandardID: "2.1",
		BaseRevision: 1, ServerRevision: 2, ServerText: "theirs", ServerWithdrawn: true, ClientText: "mine", ClientWithdrawn: true,
		ClientUser: "lead", ClientDevice: "dev-l", CreatedAt: at, Status: "open", ResolvedBy: "lead2"}
	wop := framework.Op{ID: "0195f3a0-0000-7000-8000-000000000002", InspectionID: "insp-1", BaseRevision: 1, DeviceID: "dev-l", DeviceSeq: 18,
		ClientTime: at, Written: &framework.WrittenOp{ItemID: "summary", Kind: framework.WrittenSummary, StandardID: "2.1", Text: "judgement", Withdrawn: true}}
	sop := framework.Op{ID: "0195f3a0-0000-7000-8000-000000000003", InspectionID: "insp-1", CaseRef: "T-1", DeviceID: "dev-a", DeviceSeq: 19,
		ClientTime: at, Status: &framework.CaseStatusOp{Status: framework.CaseSubmitted, Reason: "all answered"}}
	sel := &framework.QASelection{InspectionID: "insp-1", CaseRef: "T-1", QA: "qa.q", SelectedBy: "lead", SelectedAt: at,
		Status: framework.MarkingSubmitted, SubmittedBy: "qa.q", SubmittedAt: at.Add(time.Minute), Lifted: true, Answered: 12, FirstHidden: true}
	mop := framework.Op{ID: "0195f3a0-0000-7000-8000-000000000004", InspectionID: "insp-1", CaseRef: "T-1", DeviceID: "dev-q", DeviceSeq: 20,
		ClientTime: at, Marking: &framework.MarkingOp{Submit: true}}
	moderation := &framework.Moderation{CaseRef: "T-1", QuestionID: "2.1.1", Take: framework.TakeSecond, Value: "no", Note: "agreed",
		First: "yes", Second: "no", DecidedBy: "lead", DecidedAt: at, Revision: 5}
	share := func(n int) aggregate.Share {
		return aggregate.Share{Yes: n, Relevant: n + 2, Percent: 100 * n / (n + 2), HasPercent: true}
	}
	// Every field set, though a defined coefficient has no reason.
	coef := func(v float64) agreement.Coefficient {
		return agreement.Coefficient{Defined: true, Undefined: agreement.OneSameValue, Value: v, SE: 0.1, Low: v - 0.2, High: v + 0.2}
	}
	fig := func(n int) agreement.Figure {
		return agreement.Figure{Cases: n - 1, Pairs: n, Agree: n - 2, Kappa: coef(0.5), AC1: coef(0.7), Flagged: true}
	}
	report := &aggregate.Report{
		InspectionID: "insp-1", InspectionName: "Gwent", FrameworkID: "probation-pdu-2023", FrameworkVersion: 3, Rated: true,
		AsOfSeq: 99, GeneratedAt: at, Cases: 42,
		Standards: []aggregate.StandardResult{{ID: "2.1", Title: "Assessment", Kind: "case", Rating: "Good", Points: 2, HasPoints: true,
			Lowest: "2.1.1", LowestPercent: 71, HasLowest: true, Rationale: "why", Share: share(5), Sensitive: true,
			CasesUp: 3, CasesDown: 1, UpTo: "Outstanding", DownTo: "Requires improvement"}},
		Questions: []aggregate.QuestionFigure{
			{ID: "2.1.1", Text: "Is the plan sound?", Kind: "key", Type: framework.TypeYesNo, StandardID: "2.1", KeyQuestionID: "2.1.1",
				Share: share(7), No: 2, NotApplicable: 1, Answered: 10, Band: "Good",
				Interval: &aggregate.Interval{Low: 41.5, High: 88.25, CrossesBand: true}},
			{ID: "2.1.2", Text: "How many contacts?", Kind: "prompt", Type: framework.TypeCount, StandardID: "2.1", KeyQuestionID: "2.1.1",
				Share: share(3), No: 2, NotApplicable: 1, Answered: 6, Distribution: map[int64]int{0: 1, 3: 2, 5: 3}, Threshold: 3,
				Band: "Inadequate", Interval: &aggregate.Interval{Low: 1, High: 2}},
			// A count question with no threshold and no answers yet: the
			// type is all that tells it from a yes/no one.
			{ID: "2.1.3", Text: "How many reviews?", Kind: "supplementary", Type: framework.TypeCount},
		},
		Score: 7, MaxScore: 12, Overall: "Good", ScoreComplete: true, Pooled: share(9), Units: []string{"insp-1", "insp-2"},
		Profile: []aggregate.AttributeProfile{{Attribute: "sex", Title: "Sex", Values: []aggregate.ValueCount{{Value: "female", Count: 4}}}},
		Breakdowns: []aggregate.Breakdown{{Attribute: "sex", Title: "Sex", Values: []string{"female", "male"},
			Rows: []aggregate.BreakdownRow{{ID: "2.1.1", Kind: aggregate.RowKey, Cells: []aggregate.Share{share(1), share(2)}, All: share(3)}}}},
		CaseProgress: []aggregate.CaseProgress{{Ref: "T-1", Unit: "Gwent PDU", Inspector: "insp.a", Status: framework.CaseSubmitted,
			Answered: 30, Required: 31}},
		InspectorProgress: []aggregate.InspectorProgress{{Inspector: "insp.a", Cases: 5, Submitted: 2, Answered: 90, Required: 150,
			CasesComplete: 3}},
		NoLongerApplies: []aggregate.StaleAnswer{{CaseRef: "T-2", QuestionID: "3.1", Value: "no"}},
		Written:         []framework.WrittenItem{written},
		Agreement: &agreement.Result{Threshold: 0.6, OnlyInspector: "insp.a", KeyQuestions: fig(6),
			Questions:  []agreement.Question{{ID: "2.1.1", Kind: framework.QuestionKey, Figure: fig(3)}},
			Inspectors: []agreement.Inspector{{Name: "insp.a", Figure: fig(4), Amendments: agreement.Amendments{Submitted: 66, Amended: 2}}}},
		AgreementOnly: true,
		Frozen:        &aggregate.Frozen{PurgedAt: at},
	}
	return []any{
		inspection,
		inInspection[framework.Case]{"insp-1", kase},
		inInspection[framework.Answer]{"insp-1", answer},
		inInspection[framework.Judgement]{"insp-1", judgement},
		conflict,
		op,
		inInspection[framework.Ack]{"insp-1", framework.Ack{OpID: op.ID, Result: framework.OpRejected, Duplicate: true, Revision: 5,
			Reason: "case T-1 is locked", Conflict: conflict, Answer: &answer,
			Err: framework.Errorf(framework.CodePrecondition, "case T-1 is locked"), DeviceReused: true}},
		inInspection[framework.Ack]{"insp-1", framework.Ack{OpID: op.ID, Result: framework.OpApplied, Revision: 5, Answer: &answer}},
		wop,
		inInspection[framework.Ack]{"insp-1", framework.Ack{OpID: wop.ID, Result: framework.OpConflict, Revision: 2, Answer: &answer,
			Written: &written, WrittenConflict: wconflict}},
		sop,
		inInspection[framework.Ack]{"insp-1", framework.Ack{OpID: sop.ID, Result: framework.OpApplied, Case: &kase}},
		mop,
		inInspection[framework.Ack]{"insp-1", framework.Ack{OpID: mop.ID, Result: framework.OpConflict, Answer: &answer, Marking: &answer,
			MarkingConflict: conflict, Selection: sel}},
		framework.Change{Seq: 10, InspectionID: "insp-1", Marking: &answer},
		framework.Change{Seq: 11, InspectionID: "insp-1", MarkingConflict: conflict},
		framework.Change{Seq: 12, InspectionID: "insp-1", Selection: sel},
		framework.Disagreement{QuestionID: "2.1.1", First: &answer, Second: &answer, Decided: moderation},
		framework.Change{Seq: 8, InspectionID: "insp-1", Written: &written},
		framework.Change{Seq: 9, InspectionID: "insp-1", WrittenConflict: wconflict},
		framework.Change{Seq: 1, InspectionID: "insp-1", Inspection: &inspection},
		framework.Change{Seq: 2, InspectionID: "insp-1", Case: &kase},
		framework.Change{Seq: 3, InspectionID: "insp-1", Answer: &answer},
		framework.Change{Seq: 4, InspectionID: "insp-1", Judgement: &judgement},
		framework.Change{Seq: 5, InspectionID: "insp-1", Conflict: conflict},
		framework.Change{Seq: 6, InspectionID: "insp-1", WithdrawnCase: "T-1"},
		framework.Change{Seq: 7, InspectionID: "insp-1", WithdrawnInspection: true},
		report,
		framework.Summary{ID: "probation-pdu-2023", Version: 3, Title: "PDU", Checksum: "ab12", Rated: true, Questions: 40},
		framework.AuditEntry{Seq: 8, At: at, User: "lead", Device: "dev-l", Action: "answer.record", Entity: "case/insp-1/T-1",
			Before: `{"value":"no"}`, After: `{"value":"yes"}`},
		aggregate.EvidenceRow{CaseRef: "T-1", Inspector: "insp.a", Value: "yes", Note: "seen in OASys"},
		framework.SampleInfo{Method: framework.SampleMethod, Seed: 1<<63 + 7, SizeRule: framework.SizeConfidence, Confidence: 80, Margin: 7.5,
			Requested: 40, Population: 400, Size: 38, Strata: []string{"sentence_type", "sex"}, From: "2025-01-06", To: "2025-03-30",
			Inspectors: []string{"insp.a", "insp.b"}, FrameworkID: "probation-pdu-2023", CaseloadSHA256: "ab", SampleSHA256: "cd",
			ImportedAt: at, ImportedBy: "lead", DeviceID: "dev-l"},
		framework.DatasetHeader{FrameworkID: "probation-pdu-2023", FrameworkVersion: 3, InspectionIDs: []string{"insp-1", "insp-2"},
			Units: []string{"Gwent", "Dyfed"}, Cases: 114, AsOfSeq: 99, Notes: true},
		framework.DatasetCase{InspectionID: "insp-1", Unit: "Gwent", Ref: "T-1", Status: framework.CaseSubmitted,
			Attributes: map[string]string{"sex": "female"}, Answers: []framework.DatasetAnswer{
				{QuestionID: "2.1.1", Value: "yes", Note: "seen the plan"}, {QuestionID: "2.1.2", Value: "3"}}},
	}
}

// roundTrip sends one fixture through its mapping.
func roundTrip(t *testing.T, v any) any {
	switch v := v.(type) {
	case framework.Inspection:
		return trip(t, v, wire.InspectionToProto, wire.InspectionFromProto)
	case inInspection[framework.Case]:
		return trip(t, v, func(v inInspection[framework.Case]) *fieldworkv1.Case {
			return wire.CaseToProto(v.InspectionID, v.Value)
		},
			func(m *fieldworkv1.Case) inInspection[framework.Case] {
				return inInspection[framework.Case]{m.GetInspectionId(), wire.CaseFromProto(m)}
			})
	case inInspection[framework.Answer]:
		return trip(t, v, func(v inInspection[framework.Answer]) *fieldworkv1.Answer {
			return wire.AnswerToProto(v.InspectionID, v.Value)
		},
			func(m *fieldworkv1.Answer) inInspection[framework.Answer] {
				return inInspection[framework.Answer]{m.GetInspectionId(), wire.AnswerFromProto(m)}
			})
	case inInspection[framework.Judgement]:
		return trip(t, v, func(v inInspection[framework.Judgement]) *fieldworkv1.Judgement {
			return wire.JudgementToProto(v.InspectionID, v.Value)
		}, func(m *fieldworkv1.Judgement) inInspection[framework.Judgement] {
			return inInspection[framework.Judgement]{m.GetInspectionId(), wire.JudgementFromProto(m)}
		})
	case *framework.Conflict:
		return trip(t, v, wire.ConflictToProto, wire.ConflictFromProto)
	case framework.Op:
		return trip(t, v, wire.OpToProto, wire.OpFromProto)
	case inInspection[framework.Ack]:
		// The ack's answer is of the op's inspection: the message's
		// current answer carries it.
		return trip(t, v, func(v inInspection[framework.Ack]) *fieldworkv1.Ack { return wire.AckToProto(v.InspectionID, v.Value) },
			func(m *fieldworkv1.Ack) inInspection[framework.Ack] {
				id := m.GetCurrent().GetInspectionId()
				if id == "" { // a status op's ack: its case carries it
					id = m.GetCase().GetInspectionId()
				}
				return inInspection[framework.Ack]{id, wire.AckFromProto(m)}
			})
	case framework.Change:
		return trip(t, v, wire.ChangeToProto, wire.ChangeFromProto)
	case framework.Disagreement:
		// Its answers are of the inspection of the case moderated.
		return trip(t, v, func(d framework.Disagreement) *fieldworkv1.Disagreement { return wire.DisagreementToProto("insp-1", d) },
			wire.DisagreementFromProto)
	case *aggregate.Report:
		return trip(t, v, wire.ReportToProto, wire.ReportFromProto)
	case framework.Summary:
		return trip(t, v, wire.FrameworkInfoToProto, wire.FrameworkInfoFromProto)
	case framework.AuditEntry:
		return trip(t, v, wire.AuditEntryToProto, wire.AuditEntryFromProto)
	case aggregate.EvidenceRow:
		return trip(t, v, wire.EvidenceRowToProto, wire.EvidenceRowFromProto)
	case framework.SampleInfo:
		return trip(t, v, wire.SampleInfoToProto, wire.SampleInfoFromProto)
	case framework.DatasetHeader:
		return trip(t, v, wire.DatasetHeaderToProto, wire.DatasetHeaderFromProto)
	case framework.DatasetCase:
		return trip(t, v, wire.DatasetCaseToProto, wire.DatasetCaseFromProto)
	}
	t.Fatalf("no mapping for fixture %T", v)
	return nil
}

// TestRoundTrip sends a fully populated value of every domain type that
// crosses the wire to its message, through proto encoding and back, and
// expects the same value; a field one direction forgets fails here.
func TestRoundTrip(t *testing.T) {
	for _, v := range fixtures() {
		t.Run(fmt.Sprintf("%T", v), func(t *testing.T) {
			if got := roundTrip(t, v); !reflect.DeepEqual(got, v) {
				t.Errorf("round trip changed the value:\n%s", diff(got, v))
			}
		})
	}
}

// TestRoundTrip_FixturesSetEveryField keeps TestRoundTrip complete: every
// field of every type it sends (nested ones included) must be non-zero in
// at least one fixture, so a field added later cannot be forgotten by the
// mapping and the test alike.
func TestRoundTrip_FixturesSetEveryField(t *testing.T) {
	all, set := map[string]map[string]bool{}, map[string]map[string]bool{}
	for _, v := range fixtures() {
		rv := reflect.ValueOf(v)
		root := rv.Type().String()
		if all[root] == nil {
			all[root], set[root] = map[string]bool{}, map[string]bool{}
		}
		leafPaths(rv.Type(), "", all[root])
		setPaths(rv, "", set[root])
	}
	for root, paths := range all {
		var missing []string
		for p := range paths {
			if _, skip := notOnTheWire[strings.TrimPrefix(root, "*")+p]; !skip && !set[root][p] {
				missing = append(missing, p)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s: no fixture sets %s", root, strings.Join(missing, ", "))
		}
	}
	for name := range notOnTheWire {
		found := false
		for root, paths := range all {
			for p := range paths {
				found = found || strings.TrimPrefix(root, "*")+p == name
			}
		}
		if !found {
			t.Errorf("notOnTheWire names %s, which no fixture type has", name)
		}
	}
}

var timeType = reflect.TypeFor[time.Time]()

// leaf reports whether a value of type t counts as one field: anything
// but a struct (other than time.Time), a pointer to one, or a slice of them.
func leaf(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct:
		return t == timeType
	case reflect.Pointer, reflect.Slice:
		return leaf(t.Elem())
	}
	return true
}

func leafPaths(t reflect.Type, prefix string, out map[string]bool) {
	switch {
	case leaf(t):
		out[prefix] = true
	case t.Kind() == reflect.Pointer:
		leafPaths(t.Elem(), prefix, out)
	case t.Kind() == reflect.Slice:
		leafPaths(t.Elem(), prefix+"[]", out)
	default:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				leafPaths(f.Type, prefix+"."+f.Name, out)
			}
		}
	}
}

func setPaths(v reflect.Value, prefix string, out map[string]bool) {
	switch {
	case leaf(v.Type()):
		switch v.Kind() {
		case reflect.Slice, reflect.Map:
			out[prefix] = out[prefix] || v.Len() > 0
		default:
			out[prefix] = out[prefix] || !v.IsZero()
		}
	case v.Kind() == reflect.Pointer:
		if !v.IsNil() {
			setPaths(v.Elem(), prefix, out)
		}
	case v.Kind() == reflect.Slice:
		for i := range v.Len() {
			setPaths(v.Index(i), prefix+"[]", out)
		}
	default:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				setPaths(v.Field(i), prefix+"."+f.Name, out)
			}
		}
	}
}

// diff lists where got and want differ, by field path, for a readable
// failure.
func diff(got, want any) string {
	var out []string
	diffAt(reflect.ValueOf(got), reflect.ValueOf(want), "", &out)
	return strings.Join(out, "\n")
}

func diffAt(g, w reflect.Value, path string, out *[]string) {
	switch {
	case g.Kind() == reflect.Pointer && !g.IsNil() && !w.IsNil():
		diffAt(g.Elem(), w.Elem(), path, out)
	case g.Kind() == reflect.Slice && g.Len() == w.Len() && !leaf(g.Type()):
		for i := range g.Len() {
			diffAt(g.Index(i), w.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
		}
	case g.Kind() == reflect.Struct && g.Type() != timeType:
		for i := range g.NumField() {
			if f := g.Type().Field(i); f.IsExported() {
				diffAt(g.Field(i), w.Field(i), path+"."+f.Name, out)
			}
		}
	case !reflect.DeepEqual(g.Interface(), w.Interface()):
		*out = append(*out, fmt.Sprintf("%s = %#v, want %#v", path, g.Interface(), w.Interface()))
	}
}
