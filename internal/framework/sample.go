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
	// reports over millions of answers. Breakdowns, the sample profile and
	// completeness need case-level data and are then left out.
	Counts map[string]map[string]int
	// CaseCount is the number of cases when Counts is used.
	CaseCount int
	// UnitCounts are the kept counts of each pooled unit (in Units order),
	// giving the per-unit column of the fast path.
	UnitCounts []map[string]map[string]int
}

// UnitAttribute is the pseudo-attribute a pooled sample gives each case:
// the inspection (unit) it came from.
const UnitAttribute = "unit"
