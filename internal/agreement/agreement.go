package agreement

import (
	"sort"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Categories are the answers of a yes/no question as agreement counts
// them: three categories, N/A among them (a QA marker who finds a
// question not applicable where the inspector answered it disagrees).
var Categories = []string{"yes", "no", "na"}

// DefaultThreshold is the AC1 below which a question or an inspector is
// flagged unless another is asked for: the top of Landis & Koch's
// "moderate" band (docs/agreement.md).
const DefaultThreshold = 0.6

// Figure is the agreement of one set of double-marked answers.
type Figure struct {
	// Cases is how many double-marked cases the pairs come from, Pairs how
	// many case–question pairs, Agree how many of them both markers
	// answered alike.
	Cases, Pairs, Agree int
	Kappa, AC1          Coefficient
	// Flagged: AC1 is below the threshold (never when AC1 is not defined,
	// that is when there is no pair).
	Flagged bool
}

// Percent is the shown percent agreement, Agree of Pairs rounded half up;
// false when there is no pair.
func (f Figure) Percent() (int, bool) { return framework.Percent(f.Agree, f.Pairs) }

// Question is one question's figure.
type Question struct {
	ID   string
	Kind framework.QuestionKind // key or prompt
	Figure
}

// Inspector is one first marker's figure over every key question of their
// double-marked cases, with the rate at which QA or the lead amended their
// submitted answers.
type Inspector struct {
	Name string
	Figure
	Amendments
}

// Amendments counts, for one inspector, the answers on their cases as they
// stood when each case was first submitted, and how many of those a QA or
// lead user later changed to another value (store.QAAmendments).
type Amendments struct {
	Submitted, Amended int
}

// Percent is the shown amendment rate; false when nothing was submitted.
func (a Amendments) Percent() (int, bool) { return framework.Percent(a.Amended, a.Submitted) }

// Result is every agreement figure of an inspection.
type Result struct {
	// Threshold is the AC1 below which figures are flagged.
	Threshold float64
	// KeyQuestions is every key question together: one table over every
	// double-marked case–key question pair.
	KeyQuestions Figure
	// Questions are each key question, each followed by its prompts, in
	// framework order.
	Questions []Question
	// Inspectors are the first markers, by name: those with a
	// double-marked case or a submitted answer.
	Inspectors []Inspector
	// OnlyInspector is set when the figures are those of one inspector's
	// own cases (framework.AgreementOwn): every figure above is computed
	// over their cases only.
	OnlyInspector string
}

// Options are what Compute needs beside the pairs.
type Options struct {
	Threshold  float64
	Amendments map[string]Amendments // by inspector
}

// category is a value's index in Categories, or -1.
func category(v string) int {
	for i, c := range Categories {
		if v == c {
			return i
		}
	}
	return -1
}

// tally gathers the pairs of one figure.
type tally struct {
	t     Table
	cases map[string]bool
}

func newTally() *tally { return &tally{t: NewTable(len(Categories)), cases: map[string]bool{}} }

func (t *tally) add(caseRef string, i, j int) {
	t.t.Add(i, j)
	t.cases[caseRef] = true
}

func (t *tally) figure(threshold float64) Figure {
	f := Figure{Cases: len(t.cases), Pairs: t.t.N(), Agree: t.t.Agree(), Kappa: t.t.Kappa(), AC1: t.t.AC1()}
	f.Flagged = f.AC1.Defined && f.AC1.Value < threshold
	return f
}

// Compute is the agreement figures of the pairs. Only pairs of yes/no key
// questions and prompts of fw count (supplementary and count questions
// have no categories to agree on); a case–question pair given twice counts
// once, as its first.
func Compute(fw *framework.Framework, pairs []framework.MarkingPair, opt Options) *Result {
	r := &Result{Threshold: opt.Threshold}
	byQuestion := map[string]*tally{}
	all := newTally()
	byInspector := map[string]*tally{}
	seen := map[[2]string]bool{}
	for _, p := range pairs {
		q, ok := fw.Question(p.QuestionID)
		if !ok || q.Type == framework.TypeCount || (q.Kind != framework.QuestionKey && q.Kind != framework.QuestionPrompt) {
			continue
		}
		i, j := category(p.First), category(p.Second)
		if i < 0 || j < 0 || seen[[2]string{p.CaseRef, p.QuestionID}] {
			continue
		}
		seen[[2]string{p.CaseRef, p.QuestionID}] = true
		if byQuestion[q.ID] == nil {
			byQuestion[q.ID] = newTally()
		}
		byQuestion[q.ID].add(p.CaseRef, i, j)
		if q.Kind != framework.QuestionKey {
			continue
		}
		all.add(p.CaseRef, i, j)
		if byInspector[p.FirstMarker] == nil {
			byInspector[p.FirstMarker] = newTally()
		}
		byInspector[p.FirstMarker].add(p.CaseRef, i, j)
	}
	r.KeyQuestions = all.figure(opt.Threshold)
	for _, q := range fw.Questions() {
		if q.Kind != framework.QuestionKey && q.Kind != framework.QuestionPrompt || q.Type == framework.TypeCount {
			continue
		}
		t := byQuestion[q.ID]
		if t == nil {
			t = newTally()
		}
		r.Questions = append(r.Questions, Question{ID: q.ID, Kind: q.Kind, Figure: t.figure(opt.Threshold)})
	}
	names := map[string]bool{}
	for name := range byInspector {
		names[name] = true
	}
	for name := range opt.Amendments {
		names[name] = true
	}
	for name := range names {
		t := byInspector[name]
		if t == nil {
			t = newTally()
		}
		r.Inspectors = append(r.Inspectors, Inspector{Name: name, Figure: t.figure(opt.Threshold), Amendments: opt.Amendments[name]})
	}
	sort.Slice(r.Inspectors, func(a, b int) bool { return r.Inspectors[a].Name < r.Inspectors[b].Name })
	return r
}
