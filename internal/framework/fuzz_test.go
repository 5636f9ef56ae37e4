package framework_test

import (
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Load never panics: a file is a framework or an invalid-argument error.
func FuzzLoad(f *testing.F) {
	// Small seeds: the fuzzer minimises every new input, which is slow on
	// the 30 kB built-in files (those are covered by the unit tests).
	f.Add([]byte(`{"id":"s","version":1,"attributes":[{"name":"mappa","values":["none","1"]}],
		"rating":{"rule":"lowest_key_question","rounding":"half_up","bands":[{"rating":"Good","min_percent":50,"points":1},{"rating":"Poor","min_percent":0,"points":0}],
		"overall":[{"rating":"Poor","min_score":0,"max_score":0},{"rating":"Good","min_score":1,"max_score":1}]},
		"domains":[{"id":"D","title":"d","standards":[{"id":"S1","title":"s","kind":"case_rated","key_questions":[{"id":"1","text":"q",
		"prompts":[{"id":"1a","text":"p","applies_when":[{"attribute":"mappa","not_in":["none"]}]}]}]}]}],
		"supplementary":[{"id":"N","text":"n","type":"count","min":1,"threshold":3}]}`))
	f.Add([]byte(`{"id":"x","version":1,"attributes":[],"domains":[{"id":"D","title":"t","standards":[{"id":"S","title":"s","kind":"judged"}]}],"rating":null}`))
	// Rules on answers: a chain, a diamond, a count, a cycle's makings.
	f.Add([]byte(`{"id":"d","version":1,"attributes":[{"name":"s","values":["a","b"]}],"domains":[{"id":"D","title":"t","standards":[{"id":"S","title":"s","kind":"case_rated","key_questions":[{"id":"K","text":"k","prompts":[
		{"id":"A","text":"a","applies_when":[{"attribute":"s","in":["a"]}]},{"id":"B","text":"b","applies_when":[{"question":"A","in":["yes"]}]},
		{"id":"C","text":"c","applies_when":[{"question":"A","not_in":["no"]},{"question":"B","in":["na"]}]},{"id":"E","text":"e","applies_when":[{"question":"N","not_in":["0"]}]}]}]}]}],
		"supplementary":[{"id":"N","text":"n","type":"count","min":0,"applies_when":[{"question":"C","in":["yes"]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fw, err := framework.Load(data)
		if err != nil {
			if framework.ErrorCode(err) != framework.CodeInvalid {
				t.Fatalf("error %v is not invalid-argument", err)
			}
			return
		}
		// A loaded framework answers its own questions consistently.
		for _, q := range fw.Questions() {
			if _, ok := fw.Question(q.ID); !ok {
				t.Fatalf("question %s listed but not found", q.ID)
			}
		}
	})
}

// CheckAnswer never panics and only accepts values in canonical form.
func FuzzCheckAnswer(f *testing.F) {
	pdu := builtin(f, "probation-pdu-2023")
	f.Add("2.1.1", "yes", "none")
	f.Add("2.3.S1", "3", "1")
	f.Add("2.3.3f", "no", "none")
	f.Add("2.3.S1", "-9223372036854775808", "2")
	f.Fuzz(func(t *testing.T, q, v, mappa string) {
		val, err := pdu.CheckAnswer("C-1", framework.Facts{Attributes: map[string]string{"mappa": mappa}}, q, v)
		if err != nil {
			if framework.ErrorCode(err) != framework.CodeInvalid {
				t.Fatalf("error %v is not invalid-argument", err)
			}
			return
		}
		again, err := pdu.CheckAnswer("C-1", framework.Facts{Attributes: map[string]string{"mappa": mappa}}, q, val.String())
		if err != nil || again != val {
			t.Fatalf("canonical value %q of %q does not check again: %v", val.String(), v, err)
		}
	})
}
