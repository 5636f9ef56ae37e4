package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/agreement"
)

// agreementTable is the annexe's "agreement" table (the CSV file, the XLSX
// sheet, the HTML table, the live view's table): a row for every key
// question together, each key question and each double-marked prompt,
// and each inspector; absent unless the figures were asked for.
//
// Coefficients are numbers to three decimals in Int-kind columns (Int
// only says "a number, written as it is"), and empty where not defined,
// the note saying why.
func agreementTable(r *aggregate.Report) (Table, bool) {
	a := r.Agreement
	if a == nil {
		return Table{}, false
	}
	t := Table{Name: "agreement", Title: fmt.Sprintf("Agreement of second marking (flagged: AC1 below %.2f)", a.Threshold), Columns: []Column{
		{"figure", Text, "Figure"}, {"id", Text, "Question or inspector"}, {"cases", Int, "Cases"}, {"pairs", Int, "Pairs"},
		{"agree", Int, "Agree"}, {"percent_agreement", Percent, "% agreement"},
		{"kappa", Int, "Kappa"}, {"kappa_se", Int, "Kappa SE"}, {"kappa_low", Int, "Kappa 95% low"}, {"kappa_high", Int, "Kappa 95% high"},
		{"ac1", Int, "AC1"}, {"ac1_se", Int, "AC1 SE"}, {"ac1_low", Int, "AC1 95% low"}, {"ac1_high", Int, "AC1 95% high"}, {"flagged", Text, "Flagged"},
		{"answers_submitted", Int, "Answers submitted"}, {"answers_amended_by_qa", Int, "Amended by QA"}, {"amended_percent", Percent, "% amended"},
		{"note", Text, "Note"}}}
	row := func(kind, id string, f agreement.Figure, am *agreement.Amendments) []Cell {
		cells := []Cell{txt(kind), txt(id), num(f.Cases), num(f.Pairs), num(f.Agree), null()}
		if p, ok := f.Percent(); ok {
			cells[5] = num(p)
		}
		var notes []string
		for _, c := range []struct {
			name string
			c    agreement.Coefficient
		}{{"kappa", f.Kappa}, {"AC1", f.AC1}} {
			if !c.c.Defined {
				cells = append(cells, null(), null(), null(), null())
				notes = append(notes, c.name+" "+c.c.Undefined)
				continue
			}
			cells = append(cells, coef(c.c.Value), coef(c.c.SE), coef(c.c.Low), coef(c.c.High))
		}
		flag := ""
		if f.Flagged {
			flag = "yes"
		}
		cells = append(cells, txt(flag))
		if am == nil {
			cells = append(cells, null(), null(), null())
		} else {
			p := null()
			if v, ok := am.Percent(); ok {
				p = num(v)
			}
			cells = append(cells, num(am.Submitted), num(am.Amended), p)
		}
		if f.Pairs == 0 {
			notes = []string{"no double-marked answers"}
		}
		return append(cells, txt(strings.Join(notes, "; ")))
	}
	scope := "all key questions"
	if a.OnlyInspector != "" {
		scope = "all key questions, " + a.OnlyInspector + "'s cases"
	}
	t.Rows = append(t.Rows, row(scope, "", a.KeyQuestions, nil))
	for _, q := range a.Questions {
		if q.Kind != "key" && q.Pairs == 0 {
			continue
		}
		t.Rows = append(t.Rows, row(string(q.Kind)+" question", q.ID, q.Figure, nil))
	}
	for _, i := range a.Inspectors {
		t.Rows = append(t.Rows, row("inspector", i.Name, i.Figure, &i.Amendments))
	}
	return t, true
}

// coef is a coefficient cell, to three decimals, half up.
func coef(x float64) Cell {
	v := math.Floor(x*1000+0.5) / 1000
	return Cell{Num: v, IsNum: true, Text: fmt.Sprintf("%.3f", v)}
}
