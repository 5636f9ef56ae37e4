package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/dataset"
	"github.com/fieldworkhq/fieldwork/internal/report"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

type listValue []string

func (l *listValue) String() string { return strings.Join(*l, ",") }
func (l *listValue) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// reportFlags are the flags report and export share.
type reportFlags struct {
	inspection   string
	inspections  listValue
	by           listValue
	caseProgress bool
}

func (rf *reportFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&rf.inspection, "inspection", "", "inspection `id`")
	fs.Var(&rf.inspections, "inspections", "pool these inspection `ids` (comma-separated; one framework version)")
	fs.Var(&rf.by, "by", "break every figure down by case `attribute` (repeatable or comma-separated; e.g. sentence_type,sex; unit in pooled reports)")
	fs.BoolVar(&rf.caseProgress, "case-progress", false, "pooled reports: add completeness per case and per inspector and the answers that no longer apply (read from every answer; a row per case)")
}

func (rf *reportFlags) query(name string) (client.ReportQuery, error) {
	switch {
	case rf.inspection != "" && len(rf.inspections) > 0:
		return client.ReportQuery{}, fmt.Errorf("%s: give --inspection or --inspections, not both", name)
	case rf.inspection == "" && len(rf.inspections) == 0:
		return client.ReportQuery{}, fmt.Errorf("%s: --inspection (or --inspections) is required", name)
	}
	return client.ReportQuery{InspectionID: rf.inspection, InspectionIDs: rf.inspections, By: rf.by, CaseProgress: rf.caseProgress}, nil
}

// fetchReport asks for a report, bounded by client.CallTimeout.
func (a *app) fetchReport(c *client.Client, q client.ReportQuery) (*aggregate.Report, error) {
	ctx, cancel := a.rpcCtx()
	defer cancel()
	return c.Report(ctx, q)
}

func (a *app) report(args []string) error {
	fs := newFlags("report")
	var rf reportFlags
	rf.add(fs)
	format := fs.String("format", "table", "table or json")
	figures := fs.String("questions", "key", "which figures the table's breakdowns show: key (key questions) or all (every question, each standard's share and the pooled share)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *figures != "key" && *figures != "all" {
		return fmt.Errorf("report: --questions %q is not key or all", *figures)
	}
	if rf.inspection == "" && len(rf.inspections) == 0 {
		id, err := a.inspection("", "report")
		if err != nil {
			return err
		}
		rf.inspection = id
	}
	q, err := rf.query("report")
	if err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("report: unknown format %q (want table or json)", *format)
	}
	return a.call(func(ctx context.Context, c *client.Client) error {
		r, err := c.Report(ctx, q)
		if err != nil {
			return err
		}
		if *format == "json" {
			return report.JSON(a.stdout, r)
		}
		return report.TerminalWith(a.stdout, r, report.TerminalOptions{AllFigures: *figures == "all"})
	})
}

func (a *app) export(args []string) error {
	fs := newFlags("export")
	var rf reportFlags
	rf.add(fs)
	format := fs.String("format", "", "csv (a folder of tidy files, or a .zip), xlsx, html, or dataset (the case-level data: a folder with a CSV and datapackage.json)")
	out := fs.String("out", "", "output `path` (a folder for dataset)")
	notes := fs.Bool("notes", false, "dataset: add the evidence notes (personal data; the export is audited)")
	long := fs.Bool("long", false, "dataset: a row per answer instead of a row per case")
	if err := parse(fs, args, "format", "out"); err != nil {
		return err
	}
	q, err := rf.query("export")
	if err != nil {
		return err
	}
	switch *format {
	case "csv", "xlsx", "html":
		if *notes || *long {
			return fmt.Errorf("export: --notes and --long are for --format dataset")
		}
	case "dataset":
		if len(q.By) > 0 || q.CaseProgress {
			return fmt.Errorf("export: --by and --case-progress are for report figures; the dataset has every case attribute as a column")
		}
		return a.exportDataset(client.DatasetQuery{InspectionID: q.InspectionID, InspectionIDs: q.InspectionIDs, Notes: *notes},
			*out, dataset.Options{Notes: *notes, Long: *long})
	default:
		return fmt.Errorf("export: unknown format %q (want csv, xlsx, html or dataset)", *format)
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	r, err := a.fetchReport(c, q)
	if err != nil {
		return err
	}
	ctx, cancel := a.rpcCtx()
	defer cancel()
	fw, err := c.Framework(ctx, r.FrameworkID, r.FrameworkVersion)
	if err != nil {
		return err
	}
	// Written whole or not at all, 0600, never through a symlink.
	switch *format {
	case "csv":
		err = report.ExportCSV(*out, r, fw)
	case "xlsx":
		err = report.WriteFile(*out, func(w io.Writer) error { return report.ExportXLSX(w, r, fw) })
	default:
		err = report.WriteFile(*out, func(w io.Writer) error { return report.ExportHTML(w, r, fw) })
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	termsafe.Fprintf(a.stdout, "wrote %s\n", *out)
	return nil
}
