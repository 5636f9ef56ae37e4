package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// wildcard lists the objects whose keys are data (question ids, standard
// ids, attribute names and values), not field names.
var wildcard = map[string]bool{
	"key_questions": true, "questions": true, "standards": true, "profile": true,
	"breakdowns": true, "breakdowns.*": true, "breakdowns.*.*": true, "questions.*.distribution": true,
}

// fieldPaths lists the field paths of a JSON value: "standards.*.points",
// "completeness.cases[].status".
func fieldPaths(v any, at string, out map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			p := k
			if wildcard[at] {
				p = "*"
			}
			if at != "" {
				p = at + "." + p
			}
			out[p] = true
			fieldPaths(x, p, out)
		}
	case []any:
		for _, x := range v {
			fieldPaths(x, at+"[]", out)
		}
	}
}

// docPaths reads the field paths of docs/report-json.md's example, which
// is JSON with // comments.
func docPaths(t *testing.T) map[string]bool {
	t.Helper()
	md, err := os.ReadFile("../../docs/report-json.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```jsonc\n(.*?)```").FindSubmatch(md)
	if m == nil {
		t.Fatal("docs/report-json.md has no jsonc example")
	}
	body := regexp.MustCompile(`(?m)//.*$`).ReplaceAll(m[1], nil)
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("the documented example is not JSON once its comments go: %v", err)
	}
	out := map[string]bool{}
	fieldPaths(v, "", out)
	return out
}

// Every field docs/report-json.md documents is in real reports (complete,
// not yet rated, unrated, pooled), and every field a real report has is
// documented: the page cannot drift from the output.
func TestReportJSON_MatchesTheDocumentedFields(t *testing.T) {
	doc := docPaths(t)
	real := map[string]bool{}
	add := func(r *aggregate.Report) {
		var b bytes.Buffer
		if err := report.JSON(&b, r); err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		fieldPaths(v, "", real)
	}
	complete, _ := gwentReport(t)
	add(complete)
	// The lead's written judgements: the summary, a finding, a recommendation.
	withWritten, pdu0 := gwentInput(t, true)
	withWritten.Written = []framework.WrittenItem{
		{ID: framework.SummaryItemID, Kind: framework.WrittenSummary, Text: "Requires improvement", Revision: 1, UpdatedBy: "lead"},
		{ID: "s1", Kind: framework.WrittenStrength, StandardID: "P1.1", Text: "Clear vision", Revision: 1, UpdatedBy: "lead", Order: 1},
		{ID: "r1", Kind: framework.WrittenRecommendation, Text: "Improve", Revision: 1, UpdatedBy: "lead", Order: 2},
	}
	add(aggregate.Compute(pdu0, withWritten))
	// A case whose MAPPA status changed after its 2.3.3f answer was given:
	// that answer no longer applies.
	stale, pdu := gwentInput(t, true)
	for i, c := range stale.Cases {
		if c.Attributes["mappa"] != "none" {
			for _, a := range stale.Answers {
				if a.CaseRef == c.Ref && a.QuestionID == "2.3.3f" && a.Value != "na" {
					stale.Cases[i].Attributes["mappa"] = "none"
				}
			}
		}
	}
	staleReport := aggregate.Compute(pdu, stale)
	if len(staleReport.NoLongerApplies) == 0 {
		t.Fatal("setup: no answer no longer applies")
	}
	add(staleReport)
	withAgreement, _ := agreementReport(t, "insp.bell")
	add(withAgreement)
	unjudged, _ := gwentReportJudged(t, false)
	add(unjudged)
	in, _ := gwentInput(t, true)
	in.Units = []string{"Gwent A", "Gwent B"}
	for i := range in.Cases {
		in.Cases[i].Attributes[aggregate.UnitAttribute] = in.Units[i%2]
	}
	add(aggregate.ComputeWith(pdu, in, aggregate.Options{By: []string{"sex"}}))
	var missing, undocumented []string
	for p := range doc {
		if !real[p] {
			missing = append(missing, p)
		}
	}
	for p := range real {
		if !doc[p] {
			undocumented = append(undocumented, p)
		}
	}
	sort.Strings(missing)
	sort.Strings(undocumented)
	if len(missing) > 0 {
		t.Errorf("documented but in no real report: %s", strings.Join(missing, ", "))
	}
	if len(undocumented) > 0 {
		t.Errorf("in real reports but not documented: %s", strings.Join(undocumented, ", "))
	}
	if len(doc) < 40 {
		t.Fatalf("only %d documented fields read: the example was not parsed as meant", len(doc))
	}
}

// A report with every flag false, nothing to move, nothing broken down and
// no answer that no longer applies still has every documented field: a
// false, 0, "", null or empty value is written, never left out. Only the
// fields the page marks as pooled-only or optional, and the fields of the
// items of a list that is empty here, may be absent.
func TestReportJSON_EveryDocumentedFieldInAnAllFalseReport(t *testing.T) {
	r, _ := gwentReport(t)
	for i := range r.Questions {
		if iv := r.Questions[i].Interval; iv != nil {
			iv.CrossesBand = false
		}
	}
	for i := range r.Standards {
		s := &r.Standards[i]
		s.Sensitive, s.UpTo, s.DownTo, s.Rationale = false, "", "", ""
	}
	r.Breakdowns, r.NoLongerApplies = nil, nil
	var b bytes.Buffer
	if err := report.JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	fieldPaths(v, "", got)
	optional := []string{
		"units",                     // pooled reports only
		"completeness.cases[].unit", // pooled reports only
		"written",                   // absent until the lead writes something
		"agreement",                 // absent unless asked for (--agreement)
		"local_copy.",               // null on the server's report
		"no_longer_applies[].",      // an empty list here
		"breakdowns.",               // {} without --by
	}
	var missing []string
	for p := range docPaths(t) {
		if got[p] || slices.ContainsFunc(optional, func(o string) bool { return p == o || strings.HasPrefix(p, o) }) {
			continue
		}
		missing = append(missing, p)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("documented fields left out of an all-false report: %s", strings.Join(missing, ", "))
	}
	for _, want := range []string{`"crosses_band": false`, `"sensitive": false`, `"rationale": ""`, `"breakdowns": {}`, `"no_longer_applies": []`, `"cases_to_raise": null`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %s", want)
		}
	}
}
