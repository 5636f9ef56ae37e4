package report

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/agreement"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

// coefText is a coefficient as the terminal shows it: "0.796 (0.68–0.91)",
// or why there is none.
func coefText(c agreement.Coefficient) string {
	switch {
	case c.Defined:
		return fmt.Sprintf("%.3f (%.2f–%.2f)", c.Value, c.Low, c.High)
	case c.Undefined == agreement.OneSameValue:
		return "not defined*"
	}
	return "–"
}

func figureCells(f agreement.Figure) string {
	pct := "–"
	if p, ok := f.Percent(); ok {
		pct = fmt.Sprintf("%d%%", p)
	}
	flag := ""
	if f.Flagged {
		flag = "FLAGGED"
	}
	return fmt.Sprintf("%d\t%d\t%s\t%s\t%s\t%s", f.Cases, f.Pairs, pct, coefText(f.Kappa), coefText(f.AC1), flag)
}

// terminalAgreement prints the agreement figures, if asked for.
func terminalAgreement(w io.Writer, r *aggregate.Report) {
	a := r.Agreement
	if a == nil {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Agreement of second marking (docs/agreement.md); FLAGGED: AC1 below %.2f\n", a.Threshold)
	if a.OnlyInspector != "" {
		termsafe.Fprintf(w, "Your own cases only (%s): every figure is computed over the cases you inspected\n", a.OnlyInspector)
	}
	ew := termsafe.NewWriter(w) // names and ids are typed by people
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Question\tCases\tPairs\tAgree\tKappa (95% CI)\tAC1 (95% CI)\t")
	fmt.Fprintf(tw, "All key questions\t%s\n", figureCells(a.KeyQuestions))
	undefined := a.KeyQuestions.Kappa.Undefined == agreement.OneSameValue
	for _, q := range a.Questions {
		if q.Kind != "key" && q.Pairs == 0 {
			continue // a prompt nobody double-marked
		}
		label := q.ID
		if q.Kind != "key" {
			label = "  " + q.ID
		}
		fmt.Fprintf(tw, "%s\t%s\n", termsafe.String(label), figureCells(q.Figure))
		undefined = undefined || q.Kappa.Undefined == agreement.OneSameValue
	}
	tw.Flush()
	if len(a.Inspectors) > 0 {
		fmt.Fprintln(ew)
		fmt.Fprintln(tw, "Inspector\tCases\tPairs\tAgree\tKappa (95% CI)\tAC1 (95% CI)\t\tQA amended")
		for _, i := range a.Inspectors {
			amended := "–"
			if p, ok := i.Amendments.Percent(); ok {
				amended = fmt.Sprintf("%d%% (%d of %d submitted answers)", p, i.Amended, i.Submitted)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", termsafe.String(i.Name), figureCells(i.Figure), amended)
			undefined = undefined || i.Kappa.Undefined == agreement.OneSameValue
		}
		tw.Flush()
	}
	ew.Flush()
	if undefined {
		fmt.Fprintln(w, "* kappa "+agreement.OneSameValue)
	}
	fmt.Fprintln(w, "– no double-marked answers")
}

// terminalAgreementOnly is the terminal report of a reader who may see
// only their own agreement figures: the heading and those figures.
func terminalAgreementOnly(w io.Writer, r *aggregate.Report) error {
	termsafe.Fprintf(w, "%s — %s v%d — agreement figures, %s\n", r.InspectionName, r.FrameworkID, r.FrameworkVersion,
		r.GeneratedAt.UTC().Format("2006-01-02 15:04 MST"))
	terminalAgreement(w, r)
	return nil
}
