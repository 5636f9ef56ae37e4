package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/fieldworkhq/fieldwork/client"
)

func (a *app) importFiles(args []string) error {
	fs := newFlags("import")
	insp := fs.String("inspection", "", "inspection `id`")
	cases := fs.String("cases", "", "cases.csv `file`")
	answers := fs.String("answers", "", "answers.csv `file`")
	judgements := fs.String("judgements", "", "judgements.csv `file`")
	findings := fs.String("findings", "", "findings.csv `file` (written judgements: kind, standard_id, text)")
	if err := parse(fs, args, "inspection"); err != nil {
		return err
	}
	if *cases == "" && *answers == "" && *judgements == "" && *findings == "" {
		return errors.New("import: give at least one of --cases, --answers, --judgements, --findings")
	}
	read := func(path string) ([]byte, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		return data, nil
	}
	return a.call(func(ctx context.Context, c *client.Client) error {
		// Cases first: answers refer to them.
		steps := []struct {
			path string
			run  func(data []byte) (string, error)
		}{
			{*cases, func(data []byte) (string, error) {
				res, err := c.ImportCases(ctx, *insp, data)
				return fmt.Sprintf("cases: %d created, %d updated", res.Created, res.Updated), err
			}},
			{*answers, func(data []byte) (string, error) {
				res, err := c.ImportAnswers(ctx, *insp, data)
				return fmt.Sprintf("answers: %d stored, %d unchanged", res.Applied, res.Unchanged), err
			}},
			{*judgements, func(data []byte) (string, error) {
				res, err := c.ImportJudgements(ctx, *insp, data)
				return fmt.Sprintf("judgements: %d recorded", res.Applied), err
			}},
			{*findings, func(data []byte) (string, error) {
				res, err := c.ImportFindings(ctx, *insp, data)
				return fmt.Sprintf("findings: %d recorded, %d unchanged", res.Applied, res.Unchanged), err
			}},
		}
		for _, step := range steps {
			if step.path == "" {
				continue
			}
			data, err := read(step.path)
			if err != nil {
				return err
			}
			msg, err := step.run(data)
			if err != nil {
				return fmt.Errorf("import %s: %w", step.path, err)
			}
			fmt.Fprintln(a.stdout, msg)
		}
		return nil
	})
}
