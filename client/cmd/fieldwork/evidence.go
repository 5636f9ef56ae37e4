package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

// whereValue is a repeatable ATTR=VALUE flag.
type whereValue map[string]string

func (w whereValue) String() string { return fmt.Sprint(map[string]string(w)) }
func (w whereValue) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("want ATTRIBUTE=VALUE, e.g. sentence_type=licence")
	}
	k = strings.TrimSpace(k)
	if _, twice := w[k]; twice {
		return fmt.Errorf("%s given twice (a case has one value of it)", k)
	}
	w[k] = strings.TrimSpace(val)
	return nil
}

// evidence lists the cases behind one figure: "in eight out of 57 cases …".
func (a *app) evidence(args []string) error {
	fs := newFlags("evidence")
	insp := fs.String("inspection", "", inspectionUsage)
	qid := fs.String("question", "", "question `id` (e.g. 2.1.3)")
	value := fs.String("value", "", "only answers with this `value`: yes, no, na, a number, relevant (yes or no), or at_least (a count question's threshold) (default every answer that counts)")
	where := whereValue{}
	fs.Var(where, "by", "only cases with this case attribute `ATTR=VALUE` (repeatable)")
	grep := fs.String("grep", "", "only answers whose evidence note holds this `text`")
	format := fs.String("format", "table", "table or json")
	if err := parse(fs, args, "question"); err != nil {
		return err
	}
	id, err := a.inspection(*insp, "evidence")
	if err != nil {
		return err
	}
	*insp = id
	if *format != "table" && *format != "json" {
		return fmt.Errorf("evidence: unknown format %q (want table or json)", *format)
	}
	q := client.EvidenceQuery{InspectionID: *insp, QuestionID: *qid}
	q.Value, q.Where, q.Grep = *value, where, *grep
	return a.call(func(ctx context.Context, c *client.Client) error {
		rows, err := c.Evidence(ctx, q)
		if err != nil {
			return err
		}
		if *format == "json" {
			type row struct {
				CaseRef   string `json:"case_ref"`
				Inspector string `json:"inspector"`
				Value     string `json:"value"`
				Note      string `json:"note"`
			}
			out := make([]row, len(rows))
			for i, r := range rows {
				out[i] = row{r.CaseRef, r.Inspector, r.Value, r.Note}
			}
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CASE\tINSPECTOR\tVALUE\tNOTE")
		for _, r := range rows {
			termsafe.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.CaseRef, r.Inspector, r.Value, r.Note)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		termsafe.Fprintf(a.stdout, "%d case(s)\n", len(rows))
		return nil
	})
}
