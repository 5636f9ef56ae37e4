package main

import (
	"flag"
	"fmt"
	"math"
	"strconv"

	"github.com/fieldworkhq/fieldwork/client"
)

// agreementFlags are report's and export's --agreement flags.
type agreementFlags struct {
	on    bool
	below *float64
}

func (af *agreementFlags) add(fs *flag.FlagSet) {
	fs.BoolVar(&af.on, "agreement", false, "add the agreement figures of second marking: percent agreement, Cohen's kappa and Gwet's AC1 per key question and per inspector, and QA's amendment rate (docs/agreement.md; one inspection)")
	fs.Func("agreement-below", "with --agreement: flag questions and inspectors whose AC1 is below this `number` (-1 to 1; default 0.6)", func(v string) error {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || x < -1 || x > 1 {
			return fmt.Errorf("%q is not an agreement between -1 and 1", v)
		}
		af.below = &x
		return nil
	})
}

// apply sets q's agreement fields, refusing what cannot be asked.
func (af *agreementFlags) apply(name string, q *client.ReportQuery) error {
	if af.below != nil && !af.on {
		return fmt.Errorf("%s: --agreement-below goes with --agreement", name)
	}
	if af.on && len(q.InspectionIDs) > 0 {
		return fmt.Errorf("%s: --agreement: the agreement figures are an inspection's own; give --inspection, not --inspections", name)
	}
	q.Agreement, q.AgreementBelow = af.on, af.below
	return nil
}
