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
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
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
	agreement    agreementFlags
}

func (rf *reportFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&rf.inspection, "inspection", "", "inspection `id`")
	fs.Var(&rf.inspections, "inspections", "pool these inspection `ids` (comma-separated; one framework version)")
	fs.Var(&rf.by, "by", "break every figure down by case `attribute` (repeatable or comma-separated; e.g. sentence_type,sex; unit in pooled reports)")
	fs.BoolVar(&rf.caseProgress, "case-progress", false, "pooled reports: add completeness per case and per inspector and the answers that no longer apply (read from every answer; a row per case)")
	rf.agreement.add(fs)
}

func (rf *reportFlags) query(name string) (client.ReportQuery, error) {
	switch {
	case rf.inspection != "" && len(rf.inspections) > 0:
		return client.ReportQuery{}, fmt.Errorf("%s: give --inspection or --inspections, not both", name)
	case rf.inspection == "" && len(rf.inspections) == 0:
		return client.ReportQuery{}, fmt.Errorf("%s: --inspection (or --inspections) is required", name)
	}
	q := client.ReportQuery{InspectionID: rf.inspection, InspectionIDs: rf.inspections, By: rf.by, CaseProgress: rf.caseProgress}
	return q, rf.agreement.apply(name, &q)
}

func (a *app) report(args []string) error {
	fs := newFlags("report")
	var rf reportFlags
	rf.add(fs)
	format := fs.String("format", "table", "table or json")
	local := fs.Bool("local", false, "compute the report on this laptop from its store (the copy as of the last sync, with the edits made here); the default when the server cannot be reached")
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
	r, _, err := a.reportFrom(q, *local, false)
	if err != nil {
		return err
	}
	if *format == "json" {
		return report.JSON(a.stdout, r)
	}
	return report.TerminalWith(a.stdout, r, report.TerminalOptions{AllFigures: *figures == "all"})
}

// reportFrom is the report of q from the server, or computed on this
// laptop from its store (client.Offline.Report: the same aggregation) with
// --local, or when the server cannot be reached and the laptop holds the
// inspection — said on stderr, and in the report itself (report.LocalNote).
// withFramework also returns the framework version, for the exports.
func (a *app) reportFrom(q client.ReportQuery, local, withFramework bool) (*aggregate.Report, *framework.Framework, error) {
	if q.Agreement && local {
		return nil, nil, fmt.Errorf("--agreement: the agreement figures come from the markings on the server; --local cannot compute them")
	}
	if local {
		return a.localReport(q)
	}
	var r *aggregate.Report
	var fw *framework.Framework
	err := a.call(func(ctx context.Context, c *client.Client) error {
		var err error
		if r, err = c.Report(ctx, q); err != nil || !withFramework {
			return err
		}
		fw, err = c.Framework(ctx, r.FrameworkID, r.FrameworkVersion)
		return err
	})
	if !rpcerr.Unreachable(err) || q.InspectionID == "" || q.Agreement {
		return r, fw, err
	}
	lr, lfw, lerr := a.localReport(q)
	if lerr != nil {
		return nil, nil, err // the laptop cannot stand in: the server's failure, explained
	}
	ew := termsafe.NewWriter(a.stderr)
	fmt.Fprintf(ew, "fieldwork: %v\nfieldwork: showing instead the local copy computed on this laptop (fieldwork report --local)\n", a.explain("report", err))
	ew.Flush()
	return lr, lfw, nil
}

// localReport is reportFrom's local copy: one inspection, on this laptop.
func (a *app) localReport(q client.ReportQuery) (*aggregate.Report, *framework.Framework, error) {
	if q.InspectionID == "" {
		return nil, nil, fmt.Errorf("--local: a pooled report (--inspections) is computed by the server; this laptop reports one inspection")
	}
	l, err := a.openLocal()
	if err != nil {
		return nil, nil, err
	}
	lr, err := l.Report(a.ctx, q.InspectionID, q.By)
	if err != nil {
		return nil, nil, fmt.Errorf("local report: %w", err)
	}
	_, fw, err := l.InspectionFramework(a.ctx, q.InspectionID)
	if err != nil {
		return nil, nil, err
	}
	r := lr.Report
	r.Local = &aggregate.LocalCopy{LastSync: lr.LastSync, Unsynced: lr.Unsynced}
	return r, fw, nil
}

func (a *app) export(args []string) error {
	fs := newFlags("export")
	var rf reportFlags
	rf.add(fs)
	format := fs.String("format", "", "csv (a folder of tidy files, or a .zip), xlsx, html, or dataset (the case-level data: a folder with a CSV and datapackage.json)")
	out := fs.String("out", "", "output `path` (a folder for dataset)")
	notes := fs.Bool("notes", false, "dataset: add the evidence notes (personal data; the export is audited)")
	long := fs.Bool("long", false, "dataset: a row per answer instead of a row per case")
	local := fs.Bool("local", false, "csv, xlsx, html: compute the report on this laptop from its store (as report --local); the default when the server cannot be reached")
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
		if *local {
			return fmt.Errorf("export: --local is for csv, xlsx and html; the dataset comes from the server")
		}
		if len(q.By) > 0 || q.CaseProgress || q.Agreement {
			return fmt.Errorf("export: --by, --case-progress and --agreement are for report figures; the dataset has every case attribute as a column")
		}
		return a.exportDataset(client.DatasetQuery{InspectionID: q.InspectionID, InspectionIDs: q.InspectionIDs, Notes: *notes},
			*out, dataset.Options{Notes: *notes, Long: *long})
	default:
		return fmt.Errorf("export: unknown format %q (want csv, xlsx, html or dataset)", *format)
	}
	r, fw, err := a.reportFrom(q, *local, true)
	if err != nil {
		return err
	}
	if r.AgreementOnly {
		return fmt.Errorf("export: you may read your own agreement figures only, not the report: use fieldwork report --inspection %s --agreement", q.InspectionID)
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
