package framework_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// chainFW is a framework of n supplementary questions, Q1..Qn, where each
// Qi (i > 1) applies where Q(i-1) is yes and, with lattice, also where
// Q(i-2) is not no: deep chains and a diamond lattice.
func chainFW(n int, lattice bool) string {
	var qs []string
	for i := 1; i <= n; i++ {
		var conds []string
		if i > 1 {
			conds = append(conds, fmt.Sprintf(`{"question":"Q%d","in":["yes"]}`, i-1))
		}
		if lattice && i > 2 {
			conds = append(conds, fmt.Sprintf(`{"question":"Q%d","not_in":["no"]}`, i-2))
		}
		w := ""
		if len(conds) > 0 {
			w = `,"applies_when":[` + strings.Join(conds, ",") + `]`
		}
		qs = append(qs, fmt.Sprintf(`{"id":"Q%d","text":"q%d"%s}`, i, i, w))
	}
	return `{"id":"chain","version":1,"domains":[{"id":"D","title":"d","standards":[{"id":"S","title":"s","kind":"case_rated","key_questions":[{"id":"K","text":"k"}]}]}],
		"supplementary":[` + strings.Join(qs, ",") + `]}`
}

// within runs f and fails the test if it takes longer than d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still running after %v", what, d)
	}
}

// A 100-question chain loads quickly: canApply must not overflow its
// trial count into an exhaustive search.
func TestAttack_LongChainLoads(t *testing.T) {
	for _, n := range []int{30, 64, 100} {
		within(t, 10*time.Second, fmt.Sprintf("Load of a %d-question chain", n), func() {
			if _, err := framework.Load([]byte(chainFW(n, false))); err != nil {
				t.Errorf("chain of %d: %v", n, err)
			}
		})
	}
}

// Judging a case on a diamond lattice of 40 questions, all answered yes,
// must not take exponential time.
// Loading a diamond lattice of 40 questions: canApply's count of trials
// (6 values for each of 39 questions named) must not wrap round to a small
// number and start an exhaustive search.
func TestAttack_LatticeLoads(t *testing.T) {
	within(t, 10*time.Second, "Load of a lattice", func() {
		if _, err := framework.Load([]byte(chainFW(40, true))); err != nil {
			t.Error(err)
		}
	})
}

func TestAttack_LatticeAppliesIsNotExponential(t *testing.T) {
	const n = 40
	raw := chainFW(n, true)
	var fw *framework.Framework
	within(t, 10*time.Second, "Load of a lattice", func() {
		var err error
		if fw, err = framework.Load([]byte(raw)); err != nil {
			t.Fatal(err)
		}
	})
	answers := map[string]string{}
	for i := 1; i <= n; i++ {
		answers[fmt.Sprintf("Q%d", i)] = "yes"
	}
	within(t, 10*time.Second, "Applicable on a lattice", func() {
		if got := len(fw.Applicable(framework.CaseFacts(nil, answers))); got != n+1 {
			t.Errorf("applicable = %d, want %d", got, n+1)
		}
	})
}

// Every problem at once (the issue): two cycles, a cycle beside a rule
// naming an unknown question, and a question that applies to no case
// beside a cycle are all listed by one load.
func TestAttack_LoadListsEveryCycleAndEveryOtherProblem(t *testing.T) {
	raw := `{"id":"bad","version":1,
	"attributes":[{"name":"note"}],
	"domains":[{"id":"D","title":"d","standards":[{"id":"S","title":"s","kind":"case_rated","key_questions":[
		{"id":"K","text":"k","prompts":[
			{"id":"A","text":"a","applies_when":[{"question":"B","in":["yes"]}]},
			{"id":"B","text":"b","applies_when":[{"question":"A","in":["yes"]}]},
			{"id":"C","text":"c","applies_when":[{"question":"D1","in":["yes"]}]},
			{"id":"D1","text":"d","applies_when":[{"question":"C","in":["yes"]}]},
			{"id":"NONE","text":"contradictory","applies_when":[{"attribute":"note","in":["x"]},{"attribute":"note","not_in":["x"]}]},
			{"id":"AFTER","text":"names NONE","applies_when":[{"question":"NONE","in":["no"]}]},
			{"id":"E","text":"e","applies_when":[{"question":"NOPE","in":["yes"]}]}]}]}]}]}`
	_, err := framework.Load([]byte(raw))
	for _, want := range []string{
		"question A: its rules form a cycle: A → B → A",
		"question C: its rules form a cycle: C → D1 → C",
		`question E: rule names unknown question "NOPE"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not list %q:\n%v", want, err)
		}
	}
}

// Judging a question whose rules name no answers allocates nothing (the
// memo of answers stays on the stack), so a framework without such rules
// pays nothing more per answer counted for the memo.
func TestAttack_AttributeRulesAllocateNothing(t *testing.T) {
	fw := loadDependent(t)
	q, _ := fw.Question("CUSTODY")
	facts := framework.Facts{Attributes: map[string]string{"sentence": "custody"}}
	if n := testing.AllocsPerRun(100, func() { fw.Applies(q, facts) }); n != 0 {
		t.Errorf("Applies on attributes alone: %v allocations, want 0", n)
	}
}
