package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// Review 14 (no number where there is none): a count question without a
// threshold (allowed: threshold is optional) has no "yes", so no share;
// but its figure and every breakdown row are 0 out of N, shown as 0%
// ("0 out of 2 at 0 or more (0%)" in the terminal, "percent": 0 in JSON),
// a number where there is none — and a false one, since every count is
// at 0 or more.
func TestCountQuestionWithoutThreshold_HasNoPercent(t *testing.T) {
	raw, err := os.ReadFile("../framework/builtin/probation-pdu-2023.json")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(raw), `"min": 1,
       "threshold": 3`, `"min": 1`, 1)
	if src == string(raw) {
		t.Fatal("fixture: 2.3.S1's threshold not found")
	}
	fw, err := framework.Load([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	in, _ := gwentInput(t, true)
	r := aggregate.ComputeWith(fw, in, aggregate.Options{By: []string{"sex"}})
	var buf bytes.Buffer
	if err := report.JSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Questions  map[string]struct{ Percent *int } `json:"questions"`
		Breakdowns map[string]map[string]map[string]struct{ Percent *int }
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if p := doc.Questions["2.3.S1"].Percent; p != nil {
		t.Errorf(`questions["2.3.S1"].percent = %d without a threshold, want null`, *p)
	}
	for v, c := range doc.Breakdowns["sex"]["2.3.S1"] {
		if c.Percent != nil {
			t.Errorf(`breakdowns.sex["2.3.S1"][%q].percent = %d without a threshold, want null`, v, *c.Percent)
		}
	}
	var term bytes.Buffer
	if err := report.Terminal(&term, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(term.String(), "at 0 or more") {
		t.Errorf("terminal: %q", strings.SplitAfter(term.String()[strings.Index(term.String(), "2.3.S1"):], "\n")[1])
	}
}
