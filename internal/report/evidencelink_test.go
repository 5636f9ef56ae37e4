package report_test

import (
	"net/url"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// Review 14: every count the live view links to its cases must be the
// number of cases the link lists ("every figure leads to the cases behind
// it"). The Relevant cell links with no value, which lists every answer
// that counts — N/A included — so a question with N/A answers links its
// Relevant to more cases than it counts (Gwent 2.3.3f: relevant 13, the
// link lists 57; key question 2.4.1: relevant 39, lists 57).
func TestLiveLinks_CountIsTheCasesListed(t *testing.T) {
	in, fw := gwentInput(t, true)
	r := aggregate.Compute(fw, in)
	linked := 0
	for _, tb := range report.Tables(r) {
		for _, row := range tb.Rows {
			for i, c := range row {
				if c.Evidence == "" {
					continue
				}
				linked++
				q, err := url.ParseQuery(c.Evidence)
				if err != nil {
					t.Fatal(err)
				}
				rows, err := aggregate.Evidence(fw, in.Cases, in.Answers, q.Get("question"), aggregate.EvidenceFilter{Value: q.Get("value")})
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != int(c.Num) {
					t.Errorf("%s %s column %s: the cell says %v, its link (%s) lists %d cases", tb.Name, q.Get("question"), tb.Columns[i].Name, c.Num, c.Evidence, len(rows))
				}
			}
		}
	}
	if linked == 0 {
		t.Fatal("no linked cell")
	}
}
