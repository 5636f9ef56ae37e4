package framework

import "time"

// Sample is what a report is computed from: one inspection's cases,
// answers and judgements, or several pooled (Units), or — for pooled
// reports over many answers — the kept counts instead of the answers. The
// server's store reads it; aggregate computes the figures from it.
type Sample struct {
	InspectionID   string
	InspectionName string
	AsOfSeq        int64
	GeneratedAt    time.Time
	Cases          []Case
	Answers        []Answer
	Judgements     []Judgement
	// Written is one inspection's written items, withdrawn ones included
	// (empty when pooled).
	Written []WrittenItem
	// Units lists the inspections pooled into this input (empty for one
	// inspection); each case then carries its unit in Attributes["unit"].
	Units []string
	// Counts, when set, replaces Answers (and Cases) with kept per-question
	// value counts (question → value → cases): the fast path for pooled
	// reports over millions of answers. Completeness and the answers that
	// no longer apply need case-level data and are then left out.
	Counts map[string]map[string]int
	// CaseCount is the number of cases when Counts is used.
	CaseCount int
	// AttributeCases, with Counts: how many cases have each value of each
	// attribute (attribute → value → cases), the pooled unit included: the
	// sample profile and a breakdown's columns.
	AttributeCases map[string]map[string]int
	// ByCounts, with Counts: the kept counts of the cases with each value of
	// an attribute (attribute → attribute value → question → value →
	// answers), for the attributes broken down by; when pooled, always
	// the unit's (each unit's own counts).
	ByCounts map[string]map[string]map[string]map[string]int
}

// UnitAttribute is the pseudo-attribute a pooled sample gives each case:
// the inspection (unit) it came from.
const UnitAttribute = "unit"

// CheckPoolable refuses to pool the inspections of a framework that
// declares a case attribute of UnitAttribute's name: the pooled sample
// would put each case's unit over its own value (and the kept counts mix
// the two), so its figures by that name would be wrong. Its inspections'
// own reports are right; a framework file cannot change once used, so it
// is refused here rather than when loaded.
func (f *Framework) CheckPoolable() error {
	if _, ok := f.attrs[UnitAttribute]; ok {
		return Errorf(CodeInvalid, "framework %s v%d declares a case attribute named %q, the name a pooled report gives each inspection's unit: its inspections cannot be pooled (report each alone, or give the attribute another name in a new version)",
			f.ID, f.Version, UnitAttribute)
	}
	return nil
}
