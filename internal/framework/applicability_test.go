package framework_test

import (
	"slices"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// builtin returns the built-in framework with the given id (never by its
// place in the sorted list, which a new built-in would shift).
func builtin(tb testing.TB, id string) *framework.Framework {
	tb.Helper()
	f, _, err := framework.BuiltinByID(id)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// appliesFW has one question that always applies, one only where mappa is
// not none, one only where sentence is licence and mappa is not none, and
// a supplementary count question with no condition.
const appliesFW = `{"id":"a","version":1,
	"attributes":[{"name":"mappa","values":["none","1","2"]},{"name":"sentence","values":["community","licence"]}],
	"domains":[{"id":"D","title":"d","standards":[{"id":"S","title":"s","kind":"case_rated","key_questions":[
		{"id":"K","text":"k","prompts":[
			{"id":"Kmappa","text":"p","applies_when":[{"attribute":"mappa","not_in":["none"]}]},
			{"id":"Kboth","text":"p","applies_when":[{"attribute":"mappa","not_in":["none"]},{"attribute":"sentence","in":["licence"]}]}]}]}]}],
	"supplementary":[{"id":"N","text":"n","type":"count"}]}`

func TestFramework_ApplicableMissingCompleteness(t *testing.T) {
	fw, err := framework.Load([]byte(appliesFW))
	if err != nil {
		t.Fatal(err)
	}
	none := map[string]string{"mappa": "none", "sentence": "licence"}
	mappaCommunity := map[string]string{"mappa": "2", "sentence": "community"}
	mappaLicence := map[string]string{"mappa": "1", "sentence": "licence"}
	tests := []struct {
		name           string
		attrs          map[string]string
		answered       []string
		wantApplicable []string
		wantMissing    []string
		wantDone       int
	}{
		{"no mappa: conditions on mappa fail", none, nil, []string{"K", "N"}, []string{"K", "N"}, 0},
		{"one condition of two holds", mappaCommunity, []string{"K"}, []string{"K", "Kmappa", "N"}, []string{"Kmappa", "N"}, 1},
		{"every condition holds, in framework order", mappaLicence, []string{"N", "Kboth"}, []string{"K", "Kmappa", "Kboth", "N"}, []string{"K", "Kmappa"}, 2},
		// An answer (na) to a question that does not apply is not counted done.
		{"answers to questions that do not apply count for nothing", none, []string{"Kmappa", "Kboth"}, []string{"K", "N"}, []string{"K", "N"}, 0},
		// A missing attribute is the empty value: not_in holds, in does not.
		{"a missing attribute is empty", map[string]string{}, nil, []string{"K", "Kmappa", "N"}, []string{"K", "Kmappa", "N"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			answered := map[string]string{}
			for _, id := range tt.answered {
				answered[id] = "na"
			}
			facts := framework.CaseFacts(tt.attrs, answered)
			for _, q := range fw.Applicable(facts) {
				got = append(got, q.ID)
				if st, _ := fw.Applies(q, facts); st != framework.Applies {
					t.Errorf("Applicable lists %s, which AppliesTo says does not apply", q.ID)
				}
			}
			if !slices.Equal(got, tt.wantApplicable) {
				t.Errorf("Applicable = %v, want %v", got, tt.wantApplicable)
			}
			if m := fw.Missing(facts); !slices.Equal(m, tt.wantMissing) {
				t.Errorf("Missing = %v, want %v", m, tt.wantMissing)
			}
			done, required := fw.Completeness(facts)
			if done != tt.wantDone || required != len(tt.wantApplicable) {
				t.Errorf("Completeness = %d of %d, want %d of %d", done, required, tt.wantDone, len(tt.wantApplicable))
			}
		})
	}
}

// The built-in PDU framework: 2.3.3f applies only to MAPPA cases.
func TestFramework_ApplicableBuiltin(t *testing.T) {
	pdu := builtin(t, "probation-pdu-2023")
	count := func(attrs map[string]string) (n int, has bool) {
		for _, q := range pdu.Applicable(framework.Facts{Attributes: attrs}) {
			n++
			has = has || q.ID == "2.3.3f"
		}
		return n, has
	}
	nNone, hasNone := count(map[string]string{"mappa": "none"})
	n2, has2 := count(map[string]string{"mappa": "2"})
	if hasNone || !has2 || n2 <= nNone || n2 > len(pdu.Questions()) {
		t.Errorf("applicable: mappa none %d (2.3.3f %v), mappa 2 %d (2.3.3f %v) of %d", nNone, hasNone, n2, has2, len(pdu.Questions()))
	}
}
