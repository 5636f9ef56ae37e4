package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/framework"
)

func (a *app) importFiles(args []string) error {
	fs := newFlags("import")
	insp := fs.String("inspection", "", "inspection `id`")
	cases := fs.String("cases", "", "cases.csv `file`")
	answers := fs.String("answers", "", "answers.csv `file`")
	judgements := fs.String("judgements", "", "judgements.csv `file`")
	findings := fs.String("findings", "", "findings.csv `file` (written judgements: kind, standard_id, text)")
	sampleInfo := fs.String("sample-info", "", "how the --cases sample was drawn (`file`; default: the cases file's "+SampleInfoSuffix+" beside it, when there is one)")
	if err := parse(fs, args, "inspection"); err != nil {
		return err
	}
	if *sampleInfo != "" && *cases == "" {
		return errors.New("import: --sample-info describes a --cases file; give both")
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
	return a.change(func(ctx context.Context, c *client.Client) error {
		// Cases first: answers refer to them.
		steps := []struct {
			path string
			run  func(data []byte) (string, error)
		}{
			{*cases, func(data []byte) (string, error) {
				info, err := readSampleInfo(*cases, *sampleInfo, data)
				if err != nil {
					return "", err
				}
				res, err := c.ImportSample(ctx, *insp, data, info)
				msg := fmt.Sprintf("cases: %d created, %d updated", res.Created, res.Updated)
				if info != nil {
					msg += fmt.Sprintf("\nsample: seed %d, %s; kept with the inspection", info.Seed, info.SizeRuleText())
				}
				return msg, err
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

// readSampleInfo reads how a cases file was drawn: the file named, else
// the one fieldwork sample wrote beside it (nil when there is none). It
// must describe this very file, checked here for a clear message and again
// by the server.
func readSampleInfo(casesPath, infoPath string, data []byte) (*framework.SampleInfo, error) {
	if infoPath == "" {
		infoPath = casesPath + SampleInfoSuffix
		if _, err := os.Stat(infoPath); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	raw, err := os.ReadFile(infoPath)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var info framework.SampleInfo
	if err := dec.Decode(&info); err != nil {
		return nil, fmt.Errorf("%s: %w", infoPath, err)
	}
	if err := framework.CheckSampleInfo(info, data); err != nil {
		return nil, fmt.Errorf("%s: %w", infoPath, err)
	}
	return &info, nil
}
