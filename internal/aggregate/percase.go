package aggregate

import (
	"sort"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// PerCase gathers a pooled report's per-case sections (completeness per
// case and per inspector, the answers that no longer apply) one unit at a
// time, so that a report from kept counts can have them without holding
// every answer of the pool: each unit's sample is computed and dropped.
// The sections equal those of the report computed from the whole pooled
// sample at once.
type PerCase struct {
	cases      []CaseProgress
	stale      []StaleAnswer
	inspectors map[string]*InspectorProgress
}

// Add computes the per-case sections of one unit's sample (its cases and
// answers named as in the pooled sample).
func (p *PerCase) Add(fw *framework.Framework, unit Input) {
	unit.Units = nil // its breakdown by unit would be one column: not needed
	r := ComputeWith(fw, unit, Options{})
	p.cases = append(p.cases, r.CaseProgress...)
	p.stale = append(p.stale, r.NoLongerApplies...)
	if p.inspectors == nil {
		p.inspectors = map[string]*InspectorProgress{}
	}
	for _, ip := range r.InspectorProgress {
		sum := p.inspectors[ip.Inspector]
		if sum == nil {
			sum = &InspectorProgress{Inspector: ip.Inspector}
			p.inspectors[ip.Inspector] = sum
		}
		sum.Cases += ip.Cases
		sum.Submitted += ip.Submitted
		sum.Answered += ip.Answered
		sum.Required += ip.Required
		sum.CasesComplete += ip.CasesComplete
	}
}

// Fill puts the gathered sections into a report, in the order the whole
// sample's report has them: cases as added, inspectors by name, answers
// that no longer apply by case then framework order.
func (p *PerCase) Fill(fw *framework.Framework, r *Report) {
	r.CaseProgress = p.cases
	r.NoLongerApplies = p.stale
	sortStale(fw, r.NoLongerApplies)
	names := make([]string, 0, len(p.inspectors))
	for name := range p.inspectors {
		names = append(names, name)
	}
	sort.Strings(names)
	r.InspectorProgress = nil
	for _, name := range names {
		r.InspectorProgress = append(r.InspectorProgress, *p.inspectors[name])
	}
}
