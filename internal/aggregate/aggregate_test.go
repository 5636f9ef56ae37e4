package aggregate_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
)

func mustBuiltin(tb testing.TB, id string) *framework.Framework {
	tb.Helper()
	f, _, err := framework.BuiltinByID(id)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// expected mirrors testdata/gwent-2025/expected.json, the published figures.
type expected struct {
	Cases        int `json:"cases"`
	KeyQuestions map[string]struct {
		Percent, Relevant, Yes int
	} `json:"key_questions"`
	Prompts map[string]struct {
		Percent, Relevant, Yes int
	} `json:"prompts"`
	Standards map[string]struct {
		Rating        string `json:"rating"`
		LowestPercent *int   `json:"lowest_percent"`
	} `json:"standards"`
	Score              int    `json:"score"`
	MaxScore           int    `json:"max_score"`
	Overall            string `json:"overall"`
	Practitioners3Plus int    `json:"practitioners_3plus"`
}

// gwentInput reads the Gwent sample into a report input.
func gwentInput(t *testing.T) (*framework.Framework, aggregate.Input) {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "gwent-2025")
	open := func(name string) *os.File {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	caseRows, err := interchange.ReadCases(open("cases.csv"))
	if err != nil {
		t.Fatal(err)
	}
	answerRows, err := interchange.ReadAnswers(open("answers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	judgementRows, err := interchange.ReadJudgements(open("judgements.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var in aggregate.Input
	for _, c := range caseRows {
		in.Cases = append(in.Cases, c.Case)
	}
	for _, a := range answerRows {
		in.Answers = append(in.Answers, framework.Answer{CaseRef: a.CaseRef, QuestionID: a.QuestionID, Value: a.Value})
	}
	for _, j := range judgementRows {
		in.Judgements = append(in.Judgements, framework.Judgement{StandardID: j.StandardID, Rating: j.Rating})
	}
	return mustBuiltin(t, "probation-pdu-2023"), in
}

func TestCompute_Gwent(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "gwent-2025")
	fw, in := gwentInput(t)
	var want expected
	data, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}

	got := aggregate.Compute(fw, in)

	if got.Cases != want.Cases {
		t.Errorf("cases = %d, want %d", got.Cases, want.Cases)
	}
	check := func(id string, yes, relevant, percent int) {
		t.Helper()
		q, ok := got.Question(id)
		if !ok {
			t.Errorf("question %s missing from report", id)
			return
		}
		if q.Yes != yes || q.Relevant != relevant || q.Percent != percent || !q.HasPercent {
			t.Errorf("question %s = %d/%d (%d%%, has=%v), want %d/%d (%d%%)", id, q.Yes, q.Relevant, q.Percent, q.HasPercent, yes, relevant, percent)
		}
	}
	for id, w := range want.KeyQuestions {
		check(id, w.Yes, w.Relevant, w.Percent)
	}
	for id, w := range want.Prompts {
		check(id, w.Yes, w.Relevant, w.Percent)
	}
	for id, w := range want.Standards {
		s, ok := got.Standard(id)
		if !ok {
			t.Errorf("standard %s missing", id)
			continue
		}
		if s.Rating != w.Rating {
			t.Errorf("standard %s rating = %q, want %q", id, s.Rating, w.Rating)
		}
		if w.LowestPercent != nil && (!s.HasLowest || s.LowestPercent != *w.LowestPercent) {
			t.Errorf("standard %s lowest = %d (has=%v), want %d", id, s.LowestPercent, s.HasLowest, *w.LowestPercent)
		}
	}
	if got.Score != want.Score || got.MaxScore != want.MaxScore || got.Overall != want.Overall {
		t.Errorf("score = %d/%d %q, want %d/%d %q", got.Score, got.MaxScore, got.Overall, want.Score, want.MaxScore, want.Overall)
	}
	if q, _ := got.Question("2.3.S1"); q.Yes != want.Practitioners3Plus {
		t.Errorf("practitioners 3+ = %d, want %d", q.Yes, want.Practitioners3Plus)
	}
}
