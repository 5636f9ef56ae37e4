package main

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/sampling"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

// SampleInfoSuffix names the file written beside a sample's cases.csv
// that says how it was drawn; import finds it there.
const SampleInfoSuffix = ".sample.json"

// strataFlag collects --strata, given once per attribute (or comma-separated).
type strataFlag []string

func (s *strataFlag) String() string { return strings.Join(*s, ",") }
func (s *strataFlag) Set(v string) error {
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a != "" {
			*s = append(*s, a)
		}
	}
	return nil
}

// sample draws the case sample from a caseload (docs/sampling.md). It
// works offline: the caseload's attributes are checked against the
// framework as the local store holds it, else the built-in one.
func (a *app) sample(args []string) error {
	fs := newFlags("sample")
	caseload := fs.String("caseload", "", "the caseload CSV `file` (cases.csv's columns without inspector, plus optional start_date)")
	out := fs.String("out", "", "the sample's cases.csv `file` to write (and FILE"+SampleInfoSuffix+" beside it)")
	size := fs.Int("size", 0, "draw `N` cases")
	confidence := fs.Int("confidence", 0, "size for this confidence `level` in percent (80, 85, 90, 95 or 99), with --margin")
	margin := fs.Float64("margin", 0, "margin of error in percentage `points`, with --confidence")
	var strata strataFlag
	fs.Var(&strata, "strata", "stratify by this case `attribute` (repeat to cross several)")
	seed := fs.Uint64("seed", 0, "the draw's `seed` (default: chosen at random and printed)")
	inspectors := fs.String("inspectors", "", "allocate the cases to these inspectors in turn (`a,b,c`)")
	from := fs.String("from", "", "only cases whose start_date is on or after this `date` (YYYY-MM-DD)")
	to := fs.String("to", "", "only cases whose start_date is on or before this `date` (YYYY-MM-DD)")
	fwID := fs.String("framework", "probation-pdu-2023", "the framework `id` whose attributes the caseload has")
	warn := fs.Float64("warn-margin", 5, "warn where a share of the sample differs from the caseload's by more than these `points`")
	if err := parse(fs, args, "caseload", "out"); err != nil {
		return err
	}
	set := flagsSet(fs)
	if set["size"] == (set["confidence"] || set["margin"]) || set["confidence"] != set["margin"] {
		return errors.New("sample: give --size N, or --confidence C with --margin E")
	}
	if set["size"] && *size < 1 {
		return fmt.Errorf("sample: --size %d: want at least 1", *size)
	}
	if math.IsNaN(*warn) || *warn < 0 {
		return fmt.Errorf("sample: --warn-margin %v: want 0 or more points", *warn)
	}
	window, err := parseWindow(*from, *to)
	if err != nil {
		return err
	}
	team, err := parseInspectors(*inspectors)
	if err != nil {
		return err
	}
	fw, err := a.sampleFramework(*fwID)
	if err != nil {
		return err
	}
	for i, s := range strata {
		if _, ok := fw.Attribute(s); !ok {
			return fmt.Errorf("sample: --strata %s: framework %s has no such attribute", s, fw.ID)
		}
		if slices.Contains(strata[:i], s) {
			return fmt.Errorf("sample: --strata %s is given twice", s)
		}
	}
	raw, err := os.ReadFile(*caseload)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	rows, err := interchange.ReadCaseload(bytes.NewReader(raw), func(r interchange.CaseloadRow) []string {
		p := fw.CheckAttributes(r.Case.Attributes)
		if window.set() && r.Start.IsZero() {
			p = append(p, "start_date is empty: --from/--to need every case's start date")
		}
		return p
	})
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	var eligible []sampling.Case
	for _, r := range rows {
		if window.contains(r.Start) {
			eligible = append(eligible, sampling.Case{Ref: r.Case.Ref, Attributes: r.Case.Attributes})
		}
	}
	if len(eligible) == 0 {
		return fmt.Errorf("sample: no eligible case: %d row(s) read, none with a start_date in %s", len(rows), window)
	}
	info := framework.SampleInfo{Method: framework.SampleMethod, Seed: *seed, Population: len(eligible), Strata: slices.Clone(strata),
		From: *from, To: *to, Inspectors: team, FrameworkID: fw.ID, CaseloadSHA256: framework.SampleSHA256(raw)}
	if info.Strata == nil {
		info.Strata = []string{}
	}
	if info.Inspectors == nil {
		info.Inspectors = []string{}
	}
	var steps string
	if set["size"] {
		if *size > len(eligible) {
			return fmt.Errorf("sample: --size %d is more than the %d eligible case(s)", *size, len(eligible))
		}
		info.SizeRule, info.Requested, info.Size = framework.SizeFixed, *size, *size
	} else {
		s, err := sampling.SizeFor(len(eligible), *confidence, *margin)
		if err != nil {
			return fmt.Errorf("sample: %w", err)
		}
		info.SizeRule, info.Confidence, info.Margin, info.Size = framework.SizeConfidence, *confidence, *margin, s.N
		steps = fmt.Sprintf("z = %.4f, p = 0.5, e = %g: n0 = z²·p(1−p)/e² = %.2f; n = n0 / (1 + (n0−1)/N) = %.2f → %d",
			s.Z, *margin/100, s.N0, s.FP, s.N)
	}
	if !set["seed"] {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("sample: choose a seed: %w", err)
		}
		info.Seed = binary.BigEndian.Uint64(b[:])
	}
	res, err := sampling.Draw(eligible, sampling.Options{Size: info.Size, Strata: strata, Seed: info.Seed, Inspectors: team})
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	var columns []string
	for _, at := range fw.Attributes {
		columns = append(columns, at.Name)
	}
	cases := make([]framework.Case, len(res.Cases))
	for i, p := range res.Cases {
		cases[i] = framework.Case{Ref: p.Case.Ref, Inspector: p.Inspector, Attributes: p.Case.Attributes}
	}
	var csv bytes.Buffer
	if err := interchange.WriteCases(&csv, columns, cases); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	info.SampleSHA256 = framework.SampleSHA256(csv.Bytes())
	doc, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	// Case data: owner-only, whole or not at all.
	if err := writeFileAtomic(*out, csv.Bytes()); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	if err := writeFileAtomic(*out+SampleInfoSuffix, append(doc, '\n')); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	a.printSample(info, len(rows), window, steps, res, eligible, fw, *warn)
	termsafe.Fprintf(a.stdout, "wrote %s (%d cases) and %s\n", *out, len(cases), *out+SampleInfoSuffix)
	return nil
}

func (a *app) printSample(info framework.SampleInfo, read int, window sampleWindow, steps string, res sampling.Result, eligible []sampling.Case, fw *framework.Framework, warn float64) {
	w := a.stdout
	termsafe.Fprintf(w, "caseload: %d row(s), %d eligible (start_date %s)\n", read, info.Population, window)
	termsafe.Fprintf(w, "size: %s\n", info.SizeRuleText())
	if steps != "" {
		termsafe.Fprintf(w, "      %s\n", steps)
	}
	termsafe.Fprintf(w, "seed: %d (the same seed and caseload draw the same sample)\n", info.Seed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\nSTRATUM\tCASELOAD\tSAMPLE\n")
	for _, s := range res.Strata {
		termsafe.Fprintf(tw, "%s\t%d\t%d\n", s.Label(), s.Population, s.Quota)
	}
	tw.Flush()
	if len(info.Inspectors) > 0 {
		per := map[string]int{}
		for _, p := range res.Cases {
			per[p.Inspector]++
		}
		var parts []string
		for _, u := range info.Inspectors {
			parts = append(parts, fmt.Sprintf("%s %d", u, per[u]))
		}
		termsafe.Fprintf(w, "\ninspectors: %s\n", strings.Join(parts, ", "))
	} else {
		fmt.Fprintln(w, "\nno --inspectors: the inspector column is empty; fill it in (or draw again with --inspectors) before import")
	}
	var attrs []string
	for _, at := range append(slices.Clone(sampling.ProfileAttributes), info.Strata...) {
		if _, ok := fw.Attribute(at); ok && !slices.Contains(attrs, at) {
			attrs = append(attrs, at)
		}
	}
	values := func(at string) []string {
		d, _ := fw.Attribute(at)
		return d.Values
	}
	profile := sampling.Profile(eligible, res.Cases, attrs, values, warn)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\nPROFILE\tVALUE\tCASELOAD\t%%\tSAMPLE\t%%\tDIFF\t\n")
	var warnings []string
	for _, s := range profile {
		if s.Caseload == 0 && s.Sample == 0 {
			continue // a declared value no case has
		}
		flag := ""
		if s.Warn {
			flag = "!"
			warnings = append(warnings, fmt.Sprintf("warning: %s %s is %.1f%% of the sample and %.1f%% of the caseload: %+.1f points, more than %g",
				s.Attribute, s.Value, s.SamplePct, s.CaseloadPct, s.Diff, warn))
		}
		termsafe.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%d\t%.1f\t%+.1f\t%s\n", s.Attribute, s.Value, s.Caseload, s.CaseloadPct, s.Sample, s.SamplePct, s.Diff, flag)
	}
	tw.Flush()
	for _, m := range warnings {
		termsafe.Fprintf(a.stderr, "%s\n", m)
	}
}

// sampleFramework is the framework a caseload is checked against: the
// latest version in the local store, else the built-in one.
func (a *app) sampleFramework(id string) (*framework.Framework, error) {
	if _, err := os.Stat(filepath.Join(a.home, "client.db")); err == nil {
		l, err := a.openLocal()
		if err != nil {
			return nil, err
		}
		fw, err := l.LatestFramework(a.ctx, id)
		if err == nil {
			return fw, nil
		}
		if framework.ErrorCode(err) != framework.CodeNotFound {
			return nil, err
		}
	}
	fw, _, err := framework.BuiltinByID(id)
	if err != nil {
		return nil, fmt.Errorf("sample: --framework %s: not in the local store nor built in (%w)", id, err)
	}
	return fw, nil
}

// sampleWindow is --from/--to: the start dates a sample is drawn from.
type sampleWindow struct{ from, to time.Time }

func parseWindow(from, to string) (sampleWindow, error) {
	var w sampleWindow
	for _, d := range []struct {
		name, v string
		t       *time.Time
	}{{"from", from, &w.from}, {"to", to, &w.to}} {
		if d.v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.v)
		if err != nil {
			return w, fmt.Errorf("sample: --%s %q is not a date (YYYY-MM-DD)", d.name, d.v)
		}
		*d.t = t
	}
	if !w.from.IsZero() && !w.to.IsZero() && w.to.Before(w.from) {
		return w, fmt.Errorf("sample: --to %s is before --from %s", to, from)
	}
	return w, nil
}

func (w sampleWindow) set() bool { return !w.from.IsZero() || !w.to.IsZero() }

func (w sampleWindow) contains(t time.Time) bool {
	return (w.from.IsZero() || !t.Before(w.from)) && (w.to.IsZero() || !t.After(w.to))
}

func (w sampleWindow) String() string {
	d := func(t time.Time, open string) string {
		if t.IsZero() {
			return open
		}
		return t.Format(time.DateOnly)
	}
	if !w.set() {
		return "not restricted"
	}
	return "from " + d(w.from, "the first") + " to " + d(w.to, "the last")
}

func parseInspectors(s string) ([]string, error) {
	var out []string
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		if err := framework.FieldUserName.CheckAs("inspector", u); err != nil {
			return nil, fmt.Errorf("sample: --inspectors: %w", err)
		}
		if slices.Contains(out, u) {
			return nil, fmt.Errorf("sample: --inspectors: %s is listed twice", u)
		}
		out = append(out, u)
	}
	if len(out) > framework.MaxSampleInspectors {
		return nil, fmt.Errorf("sample: --inspectors: %d, over the limit of %d", len(out), framework.MaxSampleInspectors)
	}
	return out, nil
}

// writeFileAtomic writes data to path, owner-only, through a temporary
// file renamed into place: a reader never sees half a sample.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
