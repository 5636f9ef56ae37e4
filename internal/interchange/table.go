package interchange

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// anyColumn is the optional columns of a file whose other columns are all
// allowed (cases.csv and a caseload: they are case attributes, checked
// against the framework later).
var anyColumn []string

// table reads a CSV file with a header and calls row for every record with
// its fields by column name. Every problem of the file is reported in one
// pass, each at its line as an editor counts lines: the header's (a column
// missing, twice or unknown), each record's structure (a stray quote, the
// wrong number of fields, bytes that are not UTF-8) and what row finds in
// its values. A structural error does not end the reading: a quote that
// opens a field never closed (which encoding/csv reads on to the end of the
// file) is reported at the line the quote is on, and reading starts again
// on the line after it.
func table(file string, r io.Reader, required, optional []string, row func(line int, fields map[string]string, errs *RowErrors)) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return framework.Errorf(framework.CodeInvalid, "%s: %v", file, err)
	}
	// A byte-order mark is no part of the first field (before a quoted
	// header encoding/csv would take it for text before the quote), and an
	// editor does not count it in line 1's columns.
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	t := &tableReader{file: file, data: data, errs: &RowErrors{File: file}}
	t.start(0)
	header, err := t.cr.Read()
	if err == io.EOF {
		return framework.Errorf(framework.CodeInvalid, "%s: the file is empty (a header line is required)", file)
	}
	if err != nil {
		return framework.Errorf(framework.CodeInvalid, "%s: line 1: the header cannot be read: %v", file, err)
	}
	header = slices.Clone(header)
	mapped := t.checkHeader(header, required, optional)
	n := 0
	for {
		rec, err := t.cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return framework.Errorf(framework.CodeInvalid, "%s: %v", file, err)
			}
			t.parseError(pe)
			continue
		}
		line := t.line(0)
		if n++; n > MaxRows {
			t.errs.Add(line, "more than %d rows", MaxRows)
			break
		}
		if len(rec) != len(header) {
			t.errs.Add(line, "has %d fields, the header has %d", len(rec), len(header))
			continue
		}
		if !t.validUTF8(header, rec) || !mapped {
			continue
		}
		fields := make(map[string]string, len(header))
		for i, h := range header {
			fields[h] = strings.TrimSpace(rec[i])
		}
		row(line, fields, t.errs)
	}
	return t.errs.Err()
}

// tableReader is a csv.Reader over the file from some line on: after a
// quote that ran on, a new one starts on the line after the quote.
type tableReader struct {
	file string
	data []byte
	errs *RowErrors
	cr   *csv.Reader
	off  int // the byte offset cr starts at
	base int // the lines before off
}

func (t *tableReader) start(off int) {
	t.base += bytes.Count(t.data[t.off:off], []byte{'\n'})
	t.off = off
	t.cr = csv.NewReader(bytes.NewReader(t.data[off:]))
	t.cr.FieldsPerRecord = -1
	t.cr.ReuseRecord = true
}

// line is the file's line of field i of the record just read.
func (t *tableReader) line(i int) int {
	l, _ := t.cr.FieldPos(i)
	return t.base + l
}

// checkHeader reports the header's problems, and whether the columns can be
// mapped to fields (a required column missing, or one twice, leaves the
// rows' values unchecked; their structure is still checked).
func (t *tableReader) checkHeader(header, required, optional []string) bool {
	if len(header) > framework.MaxColumns {
		t.errs.Add(1, "%d columns, over the limit of %d", len(header), framework.MaxColumns)
		return false
	}
	mapped := true
	cols := map[string]bool{}
	var unknown []string
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		header[i] = h
		if err := framework.FieldColumn.CheckAs(fmt.Sprintf("column %d name", i+1), h); err != nil {
			_, col := t.cr.FieldPos(i)
			t.errs.AddAt(1, col, "%v", err)
			mapped = false
			continue
		}
		if cols[h] {
			t.errs.Add(1, "column %q appears twice", h)
			mapped = false
		}
		cols[h] = true
		// An empty name is a spreadsheet's trailing empty column.
		if optional != nil && h != "" && !slices.Contains(required, h) && !slices.Contains(optional, h) {
			unknown = append(unknown, fmt.Sprintf("%q", h))
		}
	}
	var missing []string
	for _, c := range required {
		if !cols[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		t.errs.Add(1, "missing column(s) %s (want %s)", strings.Join(missing, ", "), strings.Join(required, ","))
		mapped = false
	}
	if len(unknown) > 0 {
		want := strings.Join(required, ", ")
		if len(optional) > 0 {
			want += ", and optionally " + strings.Join(optional, ", ")
		}
		t.errs.Add(1, "unknown column(s) %s: %s has the columns %s (nothing in an unknown column would be imported)",
			strings.Join(unknown, ", "), t.file, want)
	}
	return mapped
}

// parseError records a record encoding/csv could not read, at the line a
// person finds the fault on, and puts the reader where the next record
// starts.
func (t *tableReader) parseError(pe *csv.ParseError) {
	switch {
	case pe.Err == csv.ErrQuote && pe.Line > pe.StartLine:
		// An opening quote never closed: the reader went on through the
		// lines after it, as one field, until it gave up. The quote is on
		// the record's first line; the rows after it are read again.
		line := t.base + pe.StartLine
		t.errs.AddAt(line, t.quoteColumn(pe.StartLine), "a quote (\") opens a field that is never closed; "+
			"quote a whole field (\"…\"), and double a quote inside one (\"\")")
		t.start(t.lineOffset(pe.StartLine + 1))
	case pe.Err == csv.ErrQuote && t.lastLine(pe.StartLine) && t.quoteColumn(pe.StartLine) != 0:
		// The same on the file's last line, with nothing after it to run on
		// through.
		t.errs.AddAt(t.base+pe.StartLine, t.quoteColumn(pe.StartLine), "a quote (\") opens a field that is never closed; "+
			"quote a whole field (\"…\"), and double a quote inside one (\"\")")
	case pe.Err == csv.ErrQuote, pe.Err == csv.ErrBareQuote:
		// On one line: the reader is already at the next.
		t.errs.AddAt(t.base+pe.Line, pe.Column, "a stray quote (\") in a field; "+
			"quote a whole field (\"…\"), and double a quote inside one (\"\")")
	default:
		t.errs.Add(t.base+pe.Line, "%v", pe.Err)
	}
}

// lineOffset is the byte offset, in the file, of line l of the current
// reader (counted from 1), or the end.
func (t *tableReader) lineOffset(l int) int {
	off := t.off
	for i := 1; i < l; i++ {
		j := bytes.IndexByte(t.data[off:], '\n')
		if j < 0 {
			return len(t.data)
		}
		off += j + 1
	}
	return off
}

// lastLine says whether line l of the current reader is the file's last
// (no line break after it).
func (t *tableReader) lastLine(l int) bool {
	return bytes.IndexByte(t.data[t.lineOffset(l):], '\n') < 0
}

// quoteColumn is the column of the quote on line l of the current reader
// that opens a field the line leaves open (0 if the line leaves none
// open): a doubled quote inside a quoted field does not close it.
func (t *tableReader) quoteColumn(l int) int {
	off := t.lineOffset(l)
	end := bytes.IndexByte(t.data[off:], '\n')
	if end < 0 {
		end = len(t.data) - off
	}
	line, open := t.data[off:off+end], -1
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] != '"':
		case open < 0:
			open = i
		case i+1 < len(line) && line[i+1] == '"':
			i++
		default:
			open = -1
		}
	}
	if open >= 0 {
		return open + 1
	}
	return 0
}

// validUTF8 reports whether every field of rec is valid UTF-8, recording
// where each one that is not starts (encoding/csv passes the bytes through;
// left alone they would become U+FFFD when stored as JSON).
func (t *tableReader) validUTF8(header, rec []string) bool {
	ok := true
	for i, v := range rec {
		if at := framework.InvalidUTF8(v); at >= 0 {
			line, col := t.cr.FieldPos(i)
			t.errs.AddAt(t.base+line, col, "%s is not valid UTF-8 (byte %d of the field)", header[i], at+1)
			ok = false
		}
	}
	return ok
}
