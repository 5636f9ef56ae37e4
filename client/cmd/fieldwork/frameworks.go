package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

func (a *app) frameworksList(args []string) error {
	if err := parse(newFlags("frameworks list"), args); err != nil {
		return err
	}
	return a.call(func(ctx context.Context, c *client.Client) error {
		fws, err := c.Frameworks(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tVERSION\tRATED\tQUESTIONS\tTITLE")
		for _, f := range fws {
			termsafe.Fprintf(tw, "%s\t%d\t%v\t%d\t%s\n", f.ID, f.Version, f.Rated, f.Questions, f.Title)
		}
		return tw.Flush()
	})
}

func (a *app) frameworksShow(args []string) error {
	fs := newFlags("frameworks show")
	version := fs.Int("version", 0, "framework `version` (0: latest)")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New("frameworks show: give a framework id")
	}
	id := args[0]
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	return a.call(func(ctx context.Context, c *client.Client) error {
		fw, err := c.Framework(ctx, id, *version)
		if err != nil {
			return err
		}
		printFramework(a.stdout, fw)
		return nil
	})
}

func printFramework(w io.Writer, fw *framework.Framework) {
	termsafe.Fprintf(w, "%s v%d — %s\n", fw.ID, fw.Version, fw.Title)
	if fw.Rated() {
		var bands []string
		for _, b := range fw.Rating.Bands {
			bands = append(bands, fmt.Sprintf("%s ≥%d%% (%d pts)", b.Rating, b.MinPercent, b.Points))
		}
		termsafe.Fprintf(w, "rating: %s; bands: %s\n", fw.Rating.Rule, strings.Join(bands, ", "))
	} else {
		fmt.Fprintln(w, "rating: none (shares only)")
	}
	applies := func(q *framework.Question) string {
		var parts []string
		for _, c := range q.AppliesWhen {
			parts = append(parts, c.String())
		}
		if len(parts) == 0 {
			return ""
		}
		return "  [applies where " + strings.Join(parts, " and ") + "]"
	}
	typ := func(q *framework.Question) string {
		if q.Type == framework.TypeCount {
			return " (count)"
		}
		return ""
	}
	for _, d := range fw.Domains {
		termsafe.Fprintf(w, "\n%s %s\n", d.ID, d.Title)
		for _, s := range d.Standards {
			termsafe.Fprintf(w, "  %s %s (%s)\n", s.ID, s.Title, strings.ReplaceAll(string(s.Kind), "_", "-"))
			for _, kq := range s.KeyQuestions {
				termsafe.Fprintf(w, "    %s %s%s\n", kq.ID, kq.Text, applies(kq))
				for _, p := range kq.Prompts {
					termsafe.Fprintf(w, "      %s %s%s%s\n", p.ID, p.Text, typ(p), applies(p))
				}
			}
			for _, q := range s.Supplementary {
				termsafe.Fprintf(w, "    %s %s%s%s\n", q.ID, q.Text, typ(q), applies(q))
			}
		}
	}
	if len(fw.Supplementary) > 0 {
		fmt.Fprintln(w, "\nSupplementary")
		for _, q := range fw.Supplementary {
			termsafe.Fprintf(w, "  %s %s%s%s\n", q.ID, q.Text, typ(q), applies(q))
		}
	}
}
