// Package dataset writes the case-level dataset an analyst exports: one
// CSV file, a row per case (wide) or with Options.Long a row per answer,
// and its Frictionless Data Package descriptor, datapackage.json, which
// gives every column's type, allowed values, label and missing values so
// that R, Python and spreadsheets read the file with them. It writes a case
// at a time, as the cases arrive: nothing holds the whole dataset.
package dataset

import (
	"strconv"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// Cell values of the dataset besides the answers themselves.
const (
	// NoLongerApplies is the wide file's cell for an answer whose question
	// no longer applies to its case (framework.NoLongerApplies): the answer
	// is kept but counts in no figure, so the cell shows neither its value
	// nor an empty "unanswered". It is a missing value of the descriptor.
	// The long file keeps the value and says so in its status column.
	NoLongerApplies = "no_longer_applies"
	// Counts is the long file's status of an answer that counts.
	Counts = "counts"
)

// Options choose what the export holds.
type Options struct {
	// Notes adds each answer's evidence note (personal data).
	Notes bool
	// Long writes a row per answer instead of a row per case.
	Long bool
}

// FileName is the CSV file's name: the two layouts have names of their own.
func (o Options) FileName() string {
	if o.Long {
		return "dataset_long.csv"
	}
	return "dataset.csv"
}

// neutralised is what every free-text column's description says.
const neutralised = "Free text: a cell starting with =, +, -, @, tab or carriage return has a leading ' so that spreadsheets show it as text, not a formula."

// colKind is what a column holds.
type colKind int

const (
	colInspection colKind = iota
	colUnit
	colRef
	colStatus
	colAttribute   // key: the attribute's name
	colQuestion    // wide: key is the question id
	colNote        // wide: key is the question id
	colQuestionID  // long
	colValue       // long
	colAnswerState // long
	colAnswerNote  // long
)

type column struct {
	kind colKind
	key  string
	f    field
}

// field is a Table Schema field (datapackage.org, version 2).
type field struct {
	Name          string       `json:"name"`
	Type          string       `json:"type"`
	Title         string       `json:"title,omitempty"`
	Description   string       `json:"description,omitempty"`
	Constraints   *constraints `json:"constraints,omitempty"`
	Categories    []category   `json:"categories,omitempty"`
	MissingValues []string     `json:"missingValues,omitempty"`
}

type constraints struct {
	Required bool     `json:"required,omitempty"`
	Enum     []string `json:"enum,omitempty"`
	Minimum  *int64   `json:"minimum,omitempty"`
}

type category struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// yesNo are the values of a yes/no question, with their labels.
var yesNo = []category{{"yes", "Yes"}, {"no", "No"}, {"na", "Not applicable"}}

func caseStatuses() []string {
	return []string{string(framework.CaseNotStarted), string(framework.CaseInProgress), string(framework.CaseSubmitted),
		string(framework.CaseQAChecked), string(framework.CaseLocked)}
}

// columns are the file's columns in order; the CSV header and the
// descriptor's fields both come from here.
func columns(fw *framework.Framework, o Options) []column {
	cols := []column{
		{kind: colInspection, f: field{Name: "inspection", Type: "string", Title: "Inspection",
			Description: "The inspection's id.", Constraints: &constraints{Required: true}}},
		{kind: colUnit, f: field{Name: "unit", Type: "string", Title: "Unit",
			Description: "The inspection's unit (else its name), as pooled reports label it. " + neutralised}},
		{kind: colRef, f: field{Name: "case_ref", Type: "string", Title: "Case reference",
			Description: "The case's reference within its inspection.", Constraints: &constraints{Required: true}}},
		{kind: colStatus, f: field{Name: "case_status", Type: "string", Title: "Case status",
			Description: "Where the case's recording is.", Constraints: &constraints{Required: true, Enum: caseStatuses()}}},
	}
	for _, a := range fw.Attributes {
		f := field{Name: a.Name, Type: "string", Title: a.Title, Description: "Case attribute " + a.Name + "."}
		if len(a.Values) > 0 {
			f.Constraints = &constraints{Enum: a.Values}
		} else {
			f.Description += " " + neutralised
		}
		cols = append(cols, column{kind: colAttribute, key: a.Name, f: f})
	}
	if o.Long {
		var ids []string
		var labels []category
		for _, q := range fw.Questions() {
			ids = append(ids, q.ID)
			labels = append(labels, category{q.ID, q.Text})
		}
		cols = append(cols,
			column{kind: colQuestionID, f: field{Name: "question", Type: "string", Title: "Question",
				Description: "The question's id; its text is the category label.", Constraints: &constraints{Required: true, Enum: ids}, Categories: labels}},
			column{kind: colValue, f: field{Name: "value", Type: "string", Title: "Answer",
				Description: "yes, no or na; a whole number or na for a count question. Kept as answered even where status is " + NoLongerApplies + ".",
				Constraints: &constraints{Required: true}}},
			column{kind: colAnswerState, f: field{Name: "status", Type: "string", Title: "Counts in figures",
				Description: Counts + ": the answer counts in the figures; " + NoLongerApplies + ": its question no longer applies to the case (its attributes changed after it was answered), so it counts in no figure until it is changed to na or the case applies again.",
				Constraints: &constraints{Required: true, Enum: []string{Counts, NoLongerApplies}}, MissingValues: []string{""}}})
		if o.Notes {
			cols = append(cols, column{kind: colAnswerNote, f: field{Name: "note", Type: "string", Title: "Evidence note",
				Description: "The inspector's evidence note (personal data). " + neutralised}})
		}
		return uniqueNames(cols)
	}
	for _, q := range fw.Questions() {
		f := field{Name: q.ID, Title: q.Text}
		where := string(q.Kind) + " question"
		if q.StandardID != "" {
			where += " of standard " + q.StandardID
		}
		if q.Type == framework.TypeCount {
			f.Type = "integer"
			f.Description = "A count (" + where + "). Empty: unanswered; na (not applicable) and " + NoLongerApplies + " read as missing (the long layout keeps them apart)."
			f.MissingValues = []string{"", "na", NoLongerApplies}
			if q.Min != nil {
				f.Constraints = &constraints{Minimum: q.Min}
			}
			if q.Threshold > 0 {
				f.Description += " Figures count the cases at or above " + strconv.FormatInt(q.Threshold, 10) + "."
			}
		} else {
			f.Type = "string"
			f.Description = "yes, no or na (" + where + "). Empty: unanswered; " + NoLongerApplies + ": answered, but the question no longer applies to the case, so the answer counts in no figure."
			f.Constraints = &constraints{Enum: []string{"yes", "no", "na"}}
			f.Categories = yesNo
		}
		cols = append(cols, column{kind: colQuestion, key: q.ID, f: f})
		if o.Notes {
			cols = append(cols, column{kind: colNote, key: q.ID, f: field{Name: q.ID + "_note", Type: "string", Title: "Note: " + q.ID,
				Description: "The evidence note of the answer to " + q.ID + " (personal data). " + neutralised}})
		}
	}
	return uniqueNames(cols)
}

// uniqueNames makes the column names safe as CSV headers (report.CSVCell;
// ids and attribute names start with a letter or digit, so this changes
// nothing today) and distinct: a name met before (an attribute called
// unit, a question 1.1_note beside 1.1's note) gets _2, _3, …, its title
// unchanged, so no column is lost.
func uniqueNames(cols []column) []column {
	seen := map[string]bool{}
	for i := range cols {
		base := report.CSVCell(cols[i].f.Name)
		name := base
		for n := 2; seen[name]; n++ {
			name = base + "_" + strconv.Itoa(n)
		}
		seen[name] = true
		cols[i].f.Name = name
	}
	return cols
}
