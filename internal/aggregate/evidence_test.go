package aggregate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// The cases behind a figure are exactly the figure: for every question of
// the Gwent sample, the rows with value yes are its Yes and the rows with
// yes or no its Relevant, overall and within a breakdown cell.
func TestEvidence_IsTheFigureCaseByCase(t *testing.T) {
	fw, in := gwentInput(t)
	r := aggregate.ComputeWith(fw, in, aggregate.Options{By: []string{"sentence_type"}})
	checked := 0
	for _, q := range r.Questions {
		if q.Type == framework.TypeCount {
			continue
		}
		rows, err := aggregate.Evidence(fw, in.Cases, in.Answers, q.ID, aggregate.EvidenceFilter{})
		if err != nil {
			t.Fatal(err)
		}
		yes, rel := 0, 0
		for _, row := range rows {
			switch row.Value {
			case "yes":
				yes, rel = yes+1, rel+1
			case "no":
				rel++
			}
		}
		if yes != q.Yes || rel != q.Relevant {
			t.Errorf("%s: evidence %d out of %d, figure %d out of %d", q.ID, yes, rel, q.Yes, q.Relevant)
		}
		only, err := aggregate.Evidence(fw, in.Cases, in.Answers, q.ID, aggregate.EvidenceFilter{Value: "Y"})
		if err != nil || len(only) != q.Yes {
			t.Errorf("%s value=yes: %d rows (%v), want %d", q.ID, len(only), err, q.Yes)
		}
		checked++
	}
	if checked < 50 {
		t.Fatalf("checked %d questions", checked)
	}
	for _, b := range r.Breakdowns {
		for _, row := range b.Rows {
			if q, ok := fw.Question(row.ID); !ok || q.Type == framework.TypeCount {
				continue // stage and pooled rows; count questions' yes is "at the threshold"
			}
			for i, v := range b.Values {
				got, err := aggregate.Evidence(fw, in.Cases, in.Answers, row.ID, aggregate.EvidenceFilter{Value: "yes", Where: map[string]string{b.Attribute: v}})
				if err != nil || len(got) != row.Cells[i].Yes {
					t.Errorf("%s %s=%s: %d yes rows (%v), breakdown says %d", row.ID, b.Attribute, v, len(got), err, row.Cells[i].Yes)
				}
			}
		}
	}
}

// The list shows only the cases it is given (the caller's visible ones),
// leaves out answers that no longer apply, searches notes, and refuses a
// bad question, value or attribute naming it, without echoing a megabyte.
func TestEvidence_FiltersAndRefusals(t *testing.T) {
	fw := mustBuiltin(t, "probation-pdu-2023")
	attrs := func(mappa string) map[string]string {
		return map[string]string{"sentence_type": "licence", "sex": "male", "age_band": "26-39", "ethnicity": "white", "rosh": "high", "mappa": mappa, "pdu": "T", "contact_suspended": "false"}
	}
	cases := []framework.Case{{Ref: "A", Inspector: "insp.a", Attributes: attrs("2")}, {Ref: "B", Inspector: "insp.b", Attributes: attrs("none")}, {Ref: "C", Inspector: "insp.a", Attributes: attrs("1")}}
	answers := []framework.Answer{
		{CaseRef: "A", QuestionID: "2.3.3f", Value: "yes", Note: "MAPPA meeting minuted"},
		{CaseRef: "B", QuestionID: "2.3.3f", Value: "yes", Note: "no longer applies: MAPPA now none"},
		{CaseRef: "C", QuestionID: "2.3.3f", Value: "no", Note: "no screening recorded"},
		{CaseRef: "D", QuestionID: "2.3.3f", Value: "yes", Note: "a case the caller may not see"},
	}
	rows, err := aggregate.Evidence(fw, cases, answers, "2.3.3f", aggregate.EvidenceFilter{})
	if err != nil || len(rows) != 2 || rows[0] != (aggregate.EvidenceRow{CaseRef: "A", Inspector: "insp.a", Value: "yes", Note: "MAPPA meeting minuted"}) || rows[1].CaseRef != "C" {
		t.Errorf("rows = %+v, %v; want A and C only", rows, err)
	}
	if rows, _ := aggregate.Evidence(fw, cases, answers, "2.3.3f", aggregate.EvidenceFilter{Grep: "SCREENING"}); len(rows) != 1 || rows[0].CaseRef != "C" {
		t.Errorf("grep: %+v, want C", rows)
	}
	if rows, _ := aggregate.Evidence(fw, cases, answers, "2.3.3f", aggregate.EvidenceFilter{Where: map[string]string{"mappa": "1"}}); len(rows) != 1 || rows[0].CaseRef != "C" {
		t.Errorf("by mappa=1: %+v, want C", rows)
	}
	for _, tc := range []struct {
		qid  string
		f    aggregate.EvidenceFilter
		want string
	}{
		{"9.9.9", aggregate.EvidenceFilter{}, `question: "9.9.9" is not a question`},
		{"2.3.3f", aggregate.EvidenceFilter{Value: "maybe"}, `value: value "maybe" is not yes, no, na or a whole number`},
		{"2.3.3f", aggregate.EvidenceFilter{Value: aggregate.AtLeastValue}, "at_least is for count questions with a threshold; 2.3.3f is not one"},
		{"2.3.3f", aggregate.EvidenceFilter{Where: map[string]string{"shoe_size": "9"}}, `by: "shoe_size" is not a case attribute`},
		{strings.Repeat("x", 1<<20), aggregate.EvidenceFilter{}, "question is 1048576 bytes, over the limit of 64"},
		{"2.3.3f", aggregate.EvidenceFilter{Grep: strings.Repeat("g", 1<<20)}, "grep is 1048576 bytes"},
	} {
		_, err := aggregate.Evidence(fw, cases, answers, tc.qid, tc.f)
		if err == nil || framework.ErrorCode(err) != framework.CodeInvalid || !strings.Contains(err.Error(), tc.want) || len(err.Error()) > 300 {
			t.Errorf("Evidence(%.20q, %+v) = %.300v; want invalid, %q", tc.qid, tc.f, err, tc.want)
		}
	}
}

// A pooled report read from kept counts breaks every figure down by unit,
// and each unit's column is that unit's own report.
func TestPooledCounts_BreakEveryFigureDownByUnit(t *testing.T) {
	fw, in := gwentInput(t)
	// Two units: the Gwent cases split by parity, counted as the store keeps them.
	units := []string{"A", "B"}
	unitCounts := []map[string]map[string]int{{}, {}}
	unitOf := map[string]int{}
	for i, c := range in.Cases {
		unitOf[c.Ref] = i % 2
	}
	for _, a := range in.Answers {
		u := unitCounts[unitOf[a.CaseRef]]
		if u[a.QuestionID] == nil {
			u[a.QuestionID] = map[string]int{}
		}
		u[a.QuestionID][a.Value]++
	}
	pooled := aggregate.Input{Units: units, Counts: map[string]map[string]int{}, CaseCount: len(in.Cases),
		AttributeCases: map[string]map[string]int{aggregate.UnitAttribute: {"A": (len(in.Cases) + 1) / 2, "B": len(in.Cases) / 2}},
		ByCounts:       map[string]map[string]map[string]map[string]int{aggregate.UnitAttribute: {"A": unitCounts[0], "B": unitCounts[1]}}}
	for _, u := range unitCounts {
		for q, vs := range u {
			if pooled.Counts[q] == nil {
				pooled.Counts[q] = map[string]int{}
			}
			for v, n := range vs {
				pooled.Counts[q][v] += n
			}
		}
	}
	r := aggregate.Compute(fw, pooled)
	if len(r.Breakdowns) != 1 || r.Breakdowns[0].Attribute != aggregate.UnitAttribute {
		t.Fatalf("breakdowns = %+v, want one by unit", r.Breakdowns)
	}
	alone := make([]*aggregate.Report, len(units))
	for i := range units {
		alone[i] = aggregate.Compute(fw, aggregate.Input{Counts: unitCounts[i], CaseCount: 1})
	}
	figure := func(r *aggregate.Report, row aggregate.BreakdownRow) aggregate.Share {
		switch row.Kind {
		case aggregate.RowPooled:
			return r.Pooled
		case aggregate.RowStandard:
			for _, s := range r.Standards {
				if s.ID == row.ID {
					return s.Share
				}
			}
		}
		q, _ := r.Question(row.ID)
		return q.Share
	}
	kinds := map[aggregate.RowKind]bool{}
	for _, row := range r.Breakdowns[0].Rows {
		kinds[row.Kind] = true
		for i := range units {
			if got, want := row.Cells[i], figure(alone[i], row); got != want {
				t.Errorf("%s (%s) unit %s: %+v, the unit's own report says %+v", row.ID, row.Kind, units[i], got, want)
			}
		}
		if row.All != figure(r, row) {
			t.Errorf("%s (%s) all: %+v, the pooled report says %+v", row.ID, row.Kind, row.All, figure(r, row))
		}
	}
	if len(kinds) != 5 {
		t.Errorf("row kinds %v, want key, prompt, supplementary, standard and pooled", kinds)
	}
}

// One list holds at most MaxEvidenceRows cases; beyond, it says how to
// narrow it rather than sending megabytes of notes.
func TestEvidence_Bounded(t *testing.T) {
	fw := mustBuiltin(t, "probation-pdu-2023")
	var cases []framework.Case
	var answers []framework.Answer
	for i := range aggregate.MaxEvidenceRows + 1 {
		ref := fmt.Sprintf("C-%04d", i)
		cases = append(cases, framework.Case{Ref: ref, Attributes: map[string]string{"sentence_type": "community"}})
		answers = append(answers, framework.Answer{CaseRef: ref, QuestionID: "2.1.1", Value: "yes"})
	}
	if _, err := aggregate.Evidence(fw, cases, answers, "2.1.1", aggregate.EvidenceFilter{}); err == nil || !strings.Contains(err.Error(), "narrow the list") {
		t.Errorf("%d cases: %v, want a refusal saying how to narrow", len(cases), err)
	}
	if rows, err := aggregate.Evidence(fw, cases[:aggregate.MaxEvidenceRows], answers, "2.1.1", aggregate.EvidenceFilter{Value: aggregate.RelevantValue}); err != nil || len(rows) != aggregate.MaxEvidenceRows {
		t.Errorf("%d cases: %d rows, %v", aggregate.MaxEvidenceRows, len(rows), err)
	}
}
