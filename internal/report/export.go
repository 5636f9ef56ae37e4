package report

import (
	"archive/zip"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// CSVCell neutralises a text cell against CSV injection (OWASP): a cell
// starting with =, +, -, @, tab or carriage return is read by spreadsheet
// programs as a formula (or the start of one), so it gets a leading single
// quote and is shown as the text it is. It applies to every text cell and
// header, whoever wrote them (case attributes such as the free-text pdu,
// the inspection's unit, framework titles and attribute names). Numeric
// cells are exempt: fieldwork formats them itself from numbers it computed
// (counts, percentages, interval ends, never negative), so they never hold
// a formula, and "-1" stays a number a spreadsheet can sum. The dataset
// export (internal/dataset) neutralises its text cells with it too.
func CSVCell(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// WriteCSV writes one table as CSV. "No figure" is an empty cell, never 0.
func WriteCSV(w io.Writer, t Table) error {
	cw := csv.NewWriter(w)
	head := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		head[i] = CSVCell(c.Name)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	rec := make([]string, len(t.Columns))
	for _, row := range t.Rows {
		for i, c := range row {
			switch {
			case c.Null:
				rec[i] = ""
			case c.IsNum && t.Columns[i].Kind == Decimal:
				rec[i] = strconv.FormatFloat(c.Num, 'f', 1, 64)
			case c.IsNum:
				rec[i] = strconv.FormatFloat(c.Num, 'f', -1, 64)
			default:
				rec[i] = CSVCell(c.Text)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ExportCSV writes every table as <name>.csv, plus method.txt, into the
// folder out (created 0700 if missing), or into a zip file when out ends in
// .zip. Every file is written whole or not at all, 0600, never through a
// symlink; file and entry names come from safeNames.
func ExportCSV(out string, r *aggregate.Report, fw *framework.Framework) error {
	tables := Tables(r)
	raw := make([]string, len(tables))
	for i, t := range tables {
		raw[i] = t.Name
	}
	names := safeNames(raw, maxFileName)
	method := []byte(strings.Join(MethodNotes(r, fw), "\n") + "\n")
	if strings.HasSuffix(strings.ToLower(out), ".zip") {
		return WriteFile(out, func(f io.Writer) error {
			zw := zip.NewWriter(f)
			entry := func(name string) (io.Writer, error) {
				h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: r.GeneratedAt}
				h.SetMode(0o600) // unzipped, the files are the owner's only
				return zw.CreateHeader(h)
			}
			for i, t := range tables {
				w, err := entry(names[i] + ".csv")
				if err != nil {
					return err
				}
				if err := WriteCSV(w, t); err != nil {
					return err
				}
			}
			w, err := entry("method.txt")
			if err != nil {
				return err
			}
			if _, err := w.Write(method); err != nil {
				return err
			}
			return zw.Close()
		})
	}
	root, err := openFolder(out)
	if err != nil {
		return err
	}
	defer root.Close()
	for i, t := range tables {
		if err := writeIn(root, names[i]+".csv", func(w io.Writer) error { return WriteCSV(w, t) }); err != nil {
			return fmt.Errorf("write %s: %w", names[i]+".csv", err)
		}
	}
	return writeIn(root, "method.txt", func(w io.Writer) error { _, err := w.Write(method); return err })
}

// MethodNotes explains how the figures were made, for the annexe.
func MethodNotes(r *aggregate.Report, fw *framework.Framework) []string {
	notes := []string{
		fmt.Sprintf("Framework: %s version %d (%s).", fw.ID, fw.Version, fw.Title),
		fmt.Sprintf("Figures as of change %d, generated %s, over %d cases.", r.AsOfSeq, r.GeneratedAt.UTC().Format("2006-01-02 15:04 MST"), r.Cases),
		"Each question's figure is the share of relevant cases answered Yes; relevant cases are those answered Yes or No (Not applicable is excluded).",
		"Percentages are shown as whole numbers, rounded half up; no relevant case means no figure (shown blank, never 0%).",
	}
	if note := LocalNote(r); note != "" {
		notes = append([]string{note}, notes...)
	}
	if fw.Rated() {
		var bands []string
		for _, b := range fw.Rating.Bands {
			bands = append(bands, fmt.Sprintf("%s from %d%% (%s)", b.Rating, b.MinPercent, plural(b.Points, "point")))
		}
		var overall []string
		for _, o := range fw.Rating.Overall {
			overall = append(overall, fmt.Sprintf("%s %d–%d", o.Rating, o.MinScore, o.MaxScore))
		}
		notes = append(notes,
			"A case-rated standard takes the band of its lowest key question, applied to the shown whole percent: "+strings.Join(bands, "; ")+".",
			"Judged standards are rated by the lead inspector from evidence gathered outside the case sample.",
			fmt.Sprintf("Score: the sum of points over the %d standards (maximum %d). Overall rating from the score: %s. There is no overall rating until every standard is rated.",
				len(r.Standards), r.MaxScore, strings.Join(overall, ", ")),
		)
	} else {
		notes = append(notes, "This framework awards no ratings: each stage's share and the share pooled over stages are reported.")
	}
	notes = append(notes,
		"Uncertainty (not part of the published method): 95% CI low / high (ci95_low, ci95_high) are 95% Wilson score intervals; Interval crosses a band (crosses_band) marks an interval spanning a band boundary.",
		"Cases to raise / Cases to lower (cases_to_raise, cases_to_lower): how many key-question answers would have to change (No to Yes, or Yes to No) to move the standard's rating one band.",
	)
	if len(r.Units) > 0 {
		notes = append(notes, "Pooled over: "+strings.Join(r.Units, ", ")+". Judged ratings are not pooled.")
	}
	return notes
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
