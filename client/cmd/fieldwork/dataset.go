package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/dataset"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

// exportDataset writes the case-level dataset into the folder out as it
// streams in, showing progress on stderr when it is a terminal.
func (a *app) exportDataset(q client.DatasetQuery, out string, opts dataset.Options) error {
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	// Not bounded by CallTimeout: a national export takes a while. The
	// stream ends with the command.
	ctx, cancel := context.WithCancel(a.ctx)
	defer cancel()
	s, err := c.ExportDataset(ctx, q)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fctx, fcancel := a.rpcCtx()
	fw, err := c.Framework(fctx, s.Header.FrameworkID, s.Header.FrameworkVersion)
	fcancel()
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	var progress func(int)
	tty := false
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = true
		var last time.Time
		progress = func(n int) {
			if now := time.Now(); now.Sub(last) >= 200*time.Millisecond || n == s.Header.Cases {
				last = now
				fmt.Fprintf(a.stderr, "\rexported %d of %d case(s)   ", n, s.Header.Cases)
			}
		}
	}
	st, err := dataset.Export(out, fw, s.Header, opts, s.Next, progress)
	if tty {
		fmt.Fprintln(a.stderr)
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	termsafe.Fprintf(a.stdout, "wrote %s and %s in %s: %d case(s), %d answer(s)\n", opts.FileName(), dataset.DescriptorName, out, st.Cases, st.Answers)
	if st.NoLongerApplies > 0 {
		termsafe.Fprintf(a.stdout, "%d answer(s) no longer apply to their case: marked %s, counted in no figure\n", st.NoLongerApplies, dataset.NoLongerApplies)
	}
	return nil
}
