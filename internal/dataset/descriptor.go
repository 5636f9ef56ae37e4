package dataset

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// DescriptorName is the descriptor's file name, as Frictionless tools look
// for it.
const DescriptorName = "datapackage.json"

// descriptor is a Data Package (datapackage.org, version 2) of one
// tabular resource, with fieldwork's own facts under "fieldwork" (custom
// properties are allowed).
type descriptor struct {
	Schema      string   `json:"$schema"`
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Created     string   `json:"created"`
	Resources   []res    `json:"resources"`
	Fieldwork   facts    `json:"fieldwork"`
	Keywords    []string `json:"keywords,omitempty"`
}

type res struct {
	Name        string      `json:"name"`
	Type        string      `json:"type"`
	Path        string      `json:"path"`
	Format      string      `json:"format"`
	Mediatype   string      `json:"mediatype"`
	Encoding    string      `json:"encoding"`
	Description string      `json:"description"`
	Schema      tableSchema `json:"schema"`
}

type tableSchema struct {
	Fields        []field  `json:"fields"`
	MissingValues []string `json:"missingValues"`
	PrimaryKey    []string `json:"primaryKey"`
}

type facts struct {
	FrameworkID      string `json:"framework_id"`
	FrameworkVersion int    `json:"framework_version"`
	Layout           string `json:"layout"`
	Notes            bool   `json:"notes"`
	AsOfSeq          int64  `json:"as_of_seq"`
	Inspections      []insp `json:"inspections"`
	Neutralised      string `json:"neutralised"`
	Cases            int    `json:"cases"`
	Answers          int    `json:"answers"`
	NoLongerApplies  int    `json:"no_longer_applies"`
}

type insp struct {
	ID   string `json:"id"`
	Unit string `json:"unit"`
}

// Descriptor is datapackage.json for a file written by a Writer with the
// same framework and options: the same columns, each with its type, label
// (title), allowed values (constraints.enum) and missing values.
func Descriptor(fw *framework.Framework, h framework.DatasetHeader, opts Options, st Stats, created time.Time) ([]byte, error) {
	cols := columns(fw, opts)
	fields := make([]field, len(cols))
	for i, c := range cols {
		fields[i] = c.f
	}
	layout, rows, key := "wide", "a row per case", []string{cols[0].f.Name, cols[2].f.Name}
	if opts.Long {
		layout, rows = "long", "a row per answer (cases without answers have no row)"
		key = append(key, "question")
	}
	d := descriptor{
		Schema: "https://datapackage.org/profiles/2.0/datapackage.json",
		Name:   "fieldwork-dataset",
		Title:  fmt.Sprintf("%s (version %d): case-level dataset", fw.Title, fw.Version),
		Description: fmt.Sprintf("Case-level data of %d inspection(s) of framework %s version %d, %s, exported by fieldwork. "+
			"Empty cells are unanswered; %q marks an answer whose question no longer applies to its case, which counts in no figure. %s",
			len(h.InspectionIDs), fw.ID, fw.Version, rows, NoLongerApplies, neutralised),
		Created:  created.UTC().Format(time.RFC3339),
		Keywords: []string{"fieldwork", fw.ID},
		Resources: []res{{
			Name: layout, Type: "table", Path: opts.FileName(), Format: "csv", Mediatype: "text/csv", Encoding: "utf-8",
			Description: "One CSV file, " + rows + ". " + neutralised,
			Schema:      tableSchema{Fields: fields, MissingValues: []string{"", NoLongerApplies}, PrimaryKey: key},
		}},
		Fieldwork: facts{FrameworkID: fw.ID, FrameworkVersion: fw.Version, Layout: layout, Notes: opts.Notes, AsOfSeq: h.AsOfSeq,
			Neutralised: neutralised, Cases: st.Cases, Answers: st.Answers, NoLongerApplies: st.NoLongerApplies},
	}
	for i, id := range h.InspectionIDs {
		u := ""
		if i < len(h.Units) {
			u = h.Units[i]
		}
		d.Fieldwork.Inspections = append(d.Fieldwork.Inspections, insp{ID: id, Unit: u})
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Export writes the dataset into the folder dir: the CSV (opts.FileName),
// the cases taken from next until it returns io.EOF, then datapackage.json.
// Each file is written whole or not at all, 0600, never through a symlink
// (report.WriteInFolder): an export that fails midway leaves no CSV.
// progress, when set, is told the cases written so far after each case.
func Export(dir string, fw *framework.Framework, h framework.DatasetHeader, opts Options,
	next func() (framework.DatasetCase, error), progress func(cases int)) (Stats, error) {
	if h.FrameworkID != fw.ID || h.FrameworkVersion != fw.Version {
		return Stats{}, fmt.Errorf("the export is of framework %s v%d, not %s v%d", h.FrameworkID, h.FrameworkVersion, fw.ID, fw.Version)
	}
	if opts.Notes && !h.Notes {
		return Stats{}, fmt.Errorf("the server sent no notes")
	}
	var st Stats
	err := report.WriteInFolder(dir, opts.FileName(), func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<16)
		dw, err := NewWriter(bw, fw, opts)
		if err != nil {
			return err
		}
		for {
			c, err := next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			if err := dw.Write(c); err != nil {
				return err
			}
			if progress != nil {
				progress(dw.Stats().Cases)
			}
		}
		if err := dw.Flush(); err != nil {
			return err
		}
		st = dw.Stats()
		return bw.Flush()
	})
	if err != nil {
		return st, err
	}
	desc, err := Descriptor(fw, h, opts, st, time.Now())
	if err != nil {
		return st, err
	}
	return st, report.WriteInFolder(dir, DescriptorName, func(w io.Writer) error { _, err := w.Write(desc); return err })
}
