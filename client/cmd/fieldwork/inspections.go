package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

func (a *app) inspectionCreate(args []string) error {
	fs := newFlags("inspection create")
	name := fs.String("name", "", "inspection `name`")
	unit := fs.String("unit", "", "inspected `unit` (PDU or region)")
	fwID := fs.String("framework", "", "framework `id`")
	fwVersion := fs.Int("version", 0, "framework `version` (default the latest; an inspection stays on the version it was created with)")
	fs.IntVar(fwVersion, "framework-version", 0, "the same as --version")
	if err := parse(fs, args, "name", "framework"); err != nil {
		return err
	}
	return a.change(func(ctx context.Context, c *client.Client) error {
		in, err := c.CreateInspection(ctx, *name, *unit, *fwID, *fwVersion)
		if err != nil {
			return err
		}
		termsafe.Fprintf(a.stdout, "%s\n", in.ID)
		return nil
	})
}

func (a *app) inspectionList(args []string) error {
	if err := parse(newFlags("inspection list"), args); err != nil {
		return err
	}
	return a.call(func(ctx context.Context, c *client.Client) error {
		ins, err := c.Inspections(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tFRAMEWORK\tSTATUS\tYOUR ROLE")
		for _, in := range ins {
			termsafe.Fprintf(tw, "%s\t%s\t%s@%d\t%s\t%s\n", in.ID, in.Name, in.FrameworkID, in.FrameworkVersion, in.Status, in.Role)
		}
		return tw.Flush()
	})
}

func (a *app) inspectionLock(args []string) error {
	return a.inspectionStatus("lock", framework.InspectionLocked, args)
}
func (a *app) inspectionUnlock(args []string) error {
	return a.inspectionStatus("unlock", framework.InspectionFieldwork, args)
}

func (a *app) inspectionStatus(verb string, to framework.InspectionStatus, args []string) error {
	fs := newFlags("inspection " + verb)
	insp := fs.String("inspection", "", "inspection `id`")
	reason := fs.String("reason", "", "why (required to unlock; audited)")
	if err := parse(fs, args, "inspection"); err != nil {
		return err
	}
	return a.change(func(ctx context.Context, c *client.Client) error {
		in, err := c.SetInspectionStatus(ctx, *insp, to, *reason)
		if err != nil {
			return err
		}
		termsafe.Fprintf(a.stdout, "inspection %s is %s\n", in.ID, in.Status)
		return nil
	})
}

func (a *app) audit(args []string) error {
	fs := newFlags("audit")
	insp := fs.String("inspection", "", "inspection `id`")
	caseRef := fs.String("case", "", "only this case `reference`")
	format := fs.String("format", "table", "table or json")
	if err := parse(fs, args, "inspection"); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("audit: unknown format %q (want table or json)", *format)
	}
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	var entries []client.AuditEntry
	for q := (client.AuditQuery{InspectionID: *insp, CaseRef: *caseRef}); ; {
		ctx, cancel := a.rpcCtx() // each page bounded, not the whole trail
		page, next, err := c.Audit(ctx, q)
		cancel()
		if err != nil {
			return err
		}
		entries = append(entries, page...)
		if q.After = next; q.After == 0 {
			break
		}
	}
	if *format == "json" {
		type row struct {
			Seq    int64           `json:"seq"`
			At     time.Time       `json:"at"`
			User   string          `json:"user"`
			Device string          `json:"device"`
			Action string          `json:"action"`
			Entity string          `json:"entity"`
			Before json.RawMessage `json:"before,omitempty"`
			After  json.RawMessage `json:"after,omitempty"`
		}
		rows := []row{}
		for _, e := range entries {
			r := row{Seq: e.Seq, At: e.At, User: e.User, Device: e.Device, Action: e.Action, Entity: e.Entity}
			if e.Before != "" {
				r.Before = json.RawMessage(e.Before)
			}
			if e.After != "" {
				r.After = json.RawMessage(e.After)
			}
			rows = append(rows, r)
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tWHEN\tWHO\tDEVICE\tACTION\tENTITY\tBEFORE\tAFTER")
	for _, e := range entries {
		termsafe.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Format("2006-01-02 15:04:05"), e.User,
			shortID(e.Device), e.Action, e.Entity, clipText(e.Before, 40), clipText(e.After, 60))
	}
	return tw.Flush()
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (a *app) judge(args []string) error {
	fs := newFlags("judge")
	insp := fs.String("inspection", "", "inspection `id`")
	std := fs.String("standard", "", "judged standard `id` (e.g. P1.1)")
	rating := fs.String("rating", "", "`rating` (e.g. Good)")
	rationale := fs.String("rationale", "", "the evidence for the rating")
	summary := fs.String("summary", "", "the summary judgement's `text` (offline; for an unrated programme the Chief Inspector's judgement)")
	if err := parse(fs, args, "inspection"); err != nil {
		return err
	}
	set := flagsSet(fs)
	if set["summary"] {
		if set["standard"] || set["rating"] || set["rationale"] {
			return errors.New("judge: --summary is the written summary; it takes no --standard, --rating or --rationale")
		}
		return a.judgeSummary(*insp, *summary)
	}
	for _, n := range []string{"standard", "rating", "rationale"} {
		if !set[n] {
			return fmt.Errorf("fieldwork judge: --%s is required (or --summary TEXT)", n)
		}
	}
	return a.change(func(ctx context.Context, c *client.Client) error {
		j, err := c.RecordJudgement(ctx, *insp, *std, *rating, *rationale)
		if err != nil {
			return err
		}
		termsafe.Fprintf(a.stdout, "%s: %s (by %s)\n", j.StandardID, j.Rating, j.JudgedBy)
		return nil
	})
}

// inspectionShow prints one inspection and, to the roles that read the
// report, how each of its imported samples was drawn.
func (a *app) inspectionShow(args []string) error {
	fs := newFlags("inspection show")
	insp := fs.String("inspection", "", "inspection `id`")
	if err := parse(fs, args, "inspection"); err != nil {
		return err
	}
	return a.call(func(ctx context.Context, c *client.Client) error {
		in, samples, err := c.Inspection(ctx, *insp)
		if err != nil {
			return err
		}
		w := a.stdout
		termsafe.Fprintf(w, "inspection %s: %s (unit %s)\nframework: %s@%d\nstatus: %s\nyour role: %s\ncreated: %s\n",
			in.ID, in.Name, in.Unit, in.FrameworkID, in.FrameworkVersion, in.Status, in.Role, in.CreatedAt.Format(time.RFC3339))
		for i, s := range samples {
			termsafe.Fprintf(w, "\nsample %d, imported %s by %s (device %s)\n", i+1, s.ImportedAt.Format(time.RFC3339), s.ImportedBy, shortID(s.DeviceID))
			termsafe.Fprintf(w, "  method: %s, seed %d\n  size: %s\n", s.Method, s.Seed, s.SizeRuleText())
			strata := "none"
			if len(s.Strata) > 0 {
				strata = strings.Join(s.Strata, " × ")
			}
			window := "not restricted"
			if s.From != "" || s.To != "" {
				window = fmt.Sprintf("from %s to %s", orOpen(s.From), orOpen(s.To))
			}
			termsafe.Fprintf(w, "  strata: %s\n  start_date: %s\n  inspectors: %s\n  framework: %s\n  caseload sha256: %s\n  sample sha256: %s\n",
				strata, window, strings.Join(s.Inspectors, ", "), s.FrameworkID, s.CaseloadSHA256, s.SampleSHA256)
		}
		return nil
	})
}

func orOpen(d string) string {
	if d == "" {
		return "open"
	}
	return d
}
