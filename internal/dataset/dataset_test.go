package dataset_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/dataset"
	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// tinyFW has a key question K, a prompt P that applies only where mappa is
// not none, and a supplementary count N (at least 0, threshold 3); mappa
// has allowed values, pdu is free text.
const tinyFW = `{"id":"tiny","version":1,"title":"Tiny",
	"attributes":[{"name":"mappa","title":"MAPPA level","values":["none","yes"]},{"name":"pdu","title":"PDU"}],
	"domains":[{"id":"D","title":"d","standards":[{"id":"S","title":"s","kind":"case_rated","key_questions":[
		{"id":"K","text":"Is the plan sound?","prompts":[
			{"id":"P","text":"Is MAPPA information shared?","applies_when":[{"attribute":"mappa","not_in":["none"]}]}]}]}]}],
	"supplementary":[{"id":"N","text":"How many practitioners?","type":"count","min":0,"threshold":3}]}`

func tiny(t *testing.T) *framework.Framework {
	t.Helper()
	fw, err := framework.Load([]byte(tinyFW))
	if err != nil {
		t.Fatal(err)
	}
	return fw
}

var header = framework.DatasetHeader{FrameworkID: "tiny", FrameworkVersion: 1, InspectionIDs: []string{"i-1"}, Units: []string{"North"},
	Cases: 3, AsOfSeq: 42, Notes: true}

// tinyCases: C-1 with a formula for a pdu and a note starting with '-';
// C-2 whose P (yes) no longer applies (mappa none), with a note over two
// lines; C-3 with no answers. Answers come out of framework order.
func tinyCases() []framework.DatasetCase {
	return []framework.DatasetCase{
		{InspectionID: "i-1", Unit: "North", Ref: "C-1", Status: framework.CaseSubmitted,
			Attributes: map[string]string{"mappa": "yes", "pdu": `=HYPERLINK("http://x")`},
			Answers: []framework.DatasetAnswer{{QuestionID: "N", Value: "4"}, {QuestionID: "P", Value: "no"},
				{QuestionID: "K", Value: "yes", Note: "-seen the plan"}}},
		{InspectionID: "i-1", Unit: "North", Ref: "C-2", Status: framework.CaseInProgress,
			Attributes: map[string]string{"mappa": "none", "pdu": "Gwent"},
			Answers: []framework.DatasetAnswer{{QuestionID: "K", Value: "na", Note: "line one\nline two, more"},
				{QuestionID: "P", Value: "yes"}, {QuestionID: "N", Value: "na"}}},
		{InspectionID: "i-1", Unit: "North", Ref: "C-3", Status: framework.CaseNotStarted,
			Attributes: map[string]string{"mappa": "none", "pdu": "Gwent"}},
	}
}

func feed(cases []framework.DatasetCase) func() (framework.DatasetCase, error) {
	return func() (framework.DatasetCase, error) {
		if len(cases) == 0 {
			return framework.DatasetCase{}, io.EOF
		}
		c := cases[0]
		cases = cases[1:]
		return c, nil
	}
}

func golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriter_WideWithNotesMatchesTheHandWrittenFile(t *testing.T) {
	var buf bytes.Buffer
	w, err := dataset.NewWriter(&buf, tiny(t), dataset.Options{Notes: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tinyCases() {
		if err := w.Write(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := golden(t, "tiny_wide_notes.csv"); buf.String() != string(want) {
		t.Errorf("wide CSV:\n%s\nwant:\n%s", buf.String(), want)
	}
	if got, want := w.Stats(), (dataset.Stats{Cases: 3, Answers: 6, NoLongerApplies: 1}); got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
}

func TestWriter_LongMatchesTheHandWrittenFile(t *testing.T) {
	var buf bytes.Buffer
	w, err := dataset.NewWriter(&buf, tiny(t), dataset.Options{Long: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tinyCases() {
		if err := w.Write(c); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	if want := golden(t, "tiny_long.csv"); buf.String() != string(want) {
		t.Errorf("long CSV:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestDescriptor_MatchesTheHandWrittenOne(t *testing.T) {
	created := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	got, err := dataset.Descriptor(tiny(t), header, dataset.Options{Notes: true}, dataset.Stats{Cases: 3, Answers: 6, NoLongerApplies: 1}, created)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(golden(t, "tiny_wide_notes.datapackage.json"), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("datapackage.json:\n%s", got)
	}
}

func TestWriter_RefusesAnAnswerTheFrameworkCannotRead(t *testing.T) {
	for _, a := range []framework.DatasetAnswer{{QuestionID: "Z9", Value: "yes"}, {QuestionID: "K", Value: "maybe"}} {
		w, _ := dataset.NewWriter(io.Discard, tiny(t), dataset.Options{})
		err := w.Write(framework.DatasetCase{InspectionID: "i-1", Ref: "C-9", Attributes: map[string]string{"mappa": "none"},
			Answers: []framework.DatasetAnswer{a}})
		if err == nil || !strings.Contains(err.Error(), "C-9") || !strings.Contains(err.Error(), a.QuestionID) {
			t.Errorf("answer %+v: err = %v, want one naming case C-9 and the question", a, err)
		}
	}
}

// TestExport_PackageIsConsistent writes both layouts with Export and checks
// each package as a Frictionless reader would: as many fields as header
// columns, the same names, every value allowed by its field's enum (or a
// missing value), every integer cell an integer, the primary key unique.
func TestExport_PackageIsConsistent(t *testing.T) {
	for _, opts := range []dataset.Options{{}, {Notes: true}, {Long: true}, {Long: true, Notes: true}} {
		dir := filepath.Join(t.TempDir(), "out")
		st, err := dataset.Export(dir, tiny(t), header, opts, feed(tinyCases()), nil)
		if err != nil {
			t.Fatal(err)
		}
		rows := CheckPackage(t, dir)
		want := 4 // header and 3 cases
		if opts.Long {
			want = 7
		}
		if len(rows) != want || st.Cases != 3 {
			t.Errorf("%+v: %d rows, stats %+v", opts, len(rows), st)
		}
		for _, name := range []string{opts.FileName(), dataset.DescriptorName} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v, mode %v; want 0600", name, err, fi.Mode())
			}
		}
	}
}

func TestExport_FailingMidwayLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	cases := tinyCases()
	n := 0
	_, err := dataset.Export(dir, tiny(t), header, dataset.Options{}, func() (framework.DatasetCase, error) {
		if n++; n > 1 {
			return framework.DatasetCase{}, io.ErrUnexpectedEOF
		}
		return cases[0], nil
	}, nil)
	if err == nil {
		t.Fatal("export whose source failed succeeded")
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("a failed export left %v", left)
	}
}

// CheckPackage validates the data package in dir structurally and returns
// the CSV's rows (header first).
func CheckPackage(t *testing.T, dir string) [][]string {
	t.Helper()
	var pkg struct {
		Resources []struct {
			Path   string
			Schema struct {
				Fields []struct {
					Name, Type    string
					MissingValues []string
					Constraints   struct {
						Required bool
						Enum     []string
						Minimum  *int64
					}
				}
				MissingValues []string
				PrimaryKey    []string
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, dataset.DescriptorName))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil || len(pkg.Resources) != 1 {
		t.Fatalf("datapackage.json: %v, %d resources", err, len(pkg.Resources))
	}
	r := pkg.Resources[0]
	f, err := os.Open(filepath.Join(dir, r.Path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	fields := r.Schema.Fields
	if len(rows) == 0 || len(rows[0]) != len(fields) {
		t.Fatalf("%d header columns, %d fields", len(rows[0]), len(fields))
	}
	col := map[string]int{}
	for i, fd := range fields {
		if rows[0][i] != fd.Name {
			t.Errorf("column %d is %q, field %q", i, rows[0][i], fd.Name)
		}
		if _, dup := col[fd.Name]; dup {
			t.Errorf("field %q twice", fd.Name)
		}
		col[fd.Name] = i
	}
	keys := map[string]bool{}
	for n, row := range rows[1:] {
		for i, cell := range row {
			fd := fields[i]
			missing := fd.MissingValues
			if missing == nil {
				missing = r.Schema.MissingValues
			}
			if slices.Contains(missing, cell) {
				if fd.Constraints.Required {
					t.Errorf("row %d: required %s is missing", n+1, fd.Name)
				}
				continue
			}
			if len(fd.Constraints.Enum) > 0 && !slices.Contains(fd.Constraints.Enum, cell) {
				t.Errorf("row %d: %s = %q, not one of %v", n+1, fd.Name, cell, fd.Constraints.Enum)
			}
			if fd.Type == "integer" {
				v, err := strconv.ParseInt(cell, 10, 64)
				if err != nil || fd.Constraints.Minimum != nil && v < *fd.Constraints.Minimum {
					t.Errorf("row %d: %s = %q is not an allowed integer", n+1, fd.Name, cell)
				}
			}
		}
		var key []string
		for _, k := range r.Schema.PrimaryKey {
			key = append(key, row[col[k]])
		}
		if k := strings.Join(key, "\x00"); keys[k] {
			t.Errorf("row %d: primary key %v repeats", n+1, key)
		} else {
			keys[k] = true
		}
	}
	return rows
}

// A framework whose attributes are named like the dataset's own columns
// (inspection, unit, case_ref, case_status) loses none of them and mixes
// none up: the attribute's column is renamed (case_ref_2 …), its title
// kept, and the case reference stays the primary key's column.
func TestExport_AttributesNamedLikeTheDatasetsColumns(t *testing.T) {
	fw, err := framework.Load([]byte(`{"id":"clash","version":1,"title":"Clash",
	"attributes":[{"name":"case_ref","title":"Old reference"},{"name":"unit","title":"Team"},{"name":"inspection","title":"Visit"},{"name":"case_status","title":"Order status","values":["open","closed"]}],
	"domains":[{"id":"D","title":"d","standards":[{"id":"S","title":"s","kind":"case_rated","key_questions":[{"id":"K","text":"Is the plan sound?"}]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	h := framework.DatasetHeader{FrameworkID: "clash", FrameworkVersion: 1, InspectionIDs: []string{"i-1"}, Units: []string{"North"}, Cases: 1}
	c := framework.DatasetCase{InspectionID: "i-1", Unit: "North", Ref: "C-1", Status: framework.CaseSubmitted,
		Attributes: map[string]string{"case_ref": "OLD-9", "unit": "Team A", "inspection": "V-3", "case_status": "closed"},
		Answers:    []framework.DatasetAnswer{{QuestionID: "K", Value: "yes"}}}
	dir := filepath.Join(t.TempDir(), "out")
	if _, err := dataset.Export(dir, fw, h, dataset.Options{}, feed([]framework.DatasetCase{c}), nil); err != nil {
		t.Fatal(err)
	}
	rows := CheckPackage(t, dir)
	got := map[string]string{}
	for i, name := range rows[0] {
		if _, dup := got[name]; dup {
			t.Errorf("column %q twice", name)
		}
		got[name] = rows[1][i]
	}
	want := map[string]string{"inspection": "i-1", "unit": "North", "case_ref": "C-1", "case_status": "submitted",
		"case_ref_2": "OLD-9", "unit_2": "Team A", "inspection_2": "V-3", "case_status_2": "closed", "K": "yes"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("columns and values:\n got %v\nwant %v", got, want)
	}
}
