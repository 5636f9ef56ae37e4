package framework

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The limits on what people and devices send: every free-text field and
// every id has one here, and every place that takes it in (the server's
// RPCs and pushed ops, the CSV readers, the framework loader, the client's
// offline store) checks it with the same Field, so that what one accepts
// the others accept too. Text longer than its limit is refused, never cut;
// text that is not valid UTF-8 is refused, never repaired. With these
// limits no one entity (a case with every attribute at its longest, a
// conflict with two notes) comes near a pull page's byte budget, so no
// stored data can stop a device syncing. docs/limits.md is the table of
// them; TestLimitsDocumented keeps it in step with Fields.

// Field is one kind of text and its limit.
type Field struct {
	// Name is how errors name the field: the request field or CSV column.
	Name string
	// Max is the most bytes of UTF-8 it may hold.
	Max int
	// Required fields may not be empty.
	Required bool
	// Chars, for an id, says which characters it may hold (ok decides);
	// empty for free text, which may hold any valid UTF-8.
	Chars string
	ok    func(i int, r rune) bool
	// hint ends the message for a character it may not hold.
	hint string
}

// Free text.
var (
	FieldNote      = Field{Name: "note", Max: 8000}
	FieldRationale = Field{Name: "rationale", Max: 8000}
	FieldReason    = Field{Name: "reason", Max: 8000}
	// FieldWrittenText is a written judgement's text: the summary, a
	// strength or area for improvement, a recommendation (written.go).
	FieldWrittenText    = Field{Name: "written text", Max: 8000}
	FieldInspectionName = Field{Name: "inspection name", Max: 200, Required: true}
	FieldUnit           = Field{Name: "unit", Max: 200}
	// FieldAttributeValue is a case attribute's value (in cases.csv) and a
	// value a framework allows an attribute.
	FieldAttributeValue = Field{Name: "attribute value", Max: 200}
	// FieldValue is an answer's value as sent (yes, no, na or a number).
	FieldValue = Field{Name: "value", Max: 64}
	// FieldColumn is a CSV header's column name.
	FieldColumn = Field{Name: "column name", Max: 64}
	// Framework file text: titles (framework, domain, standard, attribute),
	// the framework's description and a standard's text, question text,
	// rating band names and their words.
	FieldTitle        = Field{Name: "title", Max: 300}
	FieldDescription  = Field{Name: "description", Max: 8000}
	FieldQuestionText = Field{Name: "question text", Max: 2000}
	FieldRating       = Field{Name: "rating", Max: 64}
)

// Ids. These end up in file names, URLs, logs and other people's
// terminals, so they hold only characters that are safe in all of them:
// no separators that climb out of a folder, no spaces, no control or
// bidirectional-override characters.
var (
	// FieldFrameworkID is a framework's id.
	FieldFrameworkID = Field{Name: "framework id", Max: 64, Required: true, Chars: idChars, ok: idRune}
	// FieldID is the id of a domain, standard or question ("2.3.3f",
	// "PP.IE3").
	FieldID = Field{Name: "id", Max: 64, Required: true, Chars: idChars, ok: idRune}
	// FieldAttributeName is a case attribute's name (a cases.csv column, a
	// breakdown, an export file name).
	FieldAttributeName = Field{Name: "attribute name", Max: 64, Required: true, Chars: idChars, ok: idRune}
	// FieldInspectionID is an inspection's id as a request names it (the
	// server makes them, as UUIDs).
	FieldInspectionID = Field{Name: "inspection_id", Max: 64, Required: true, Chars: idChars, ok: idRune}
	// FieldCaseRef is a case reference: a reference, never a name.
	FieldCaseRef = Field{Name: "case_ref", Max: 64, Required: true, Chars: "letters, digits and . _ / -", hint: " (a reference, never a name)",
		ok: func(i int, r rune) bool { return alnum(r) || i > 0 && (r == '.' || r == '_' || r == '/' || r == '-') }}
	// FieldUserName is a user's name.
	FieldUserName = Field{Name: "user name", Max: 64, Required: true, Chars: "letters, digits and . _ - @",
		ok: func(_ int, r rune) bool { return alnum(r) || r == '.' || r == '_' || r == '-' || r == '@' }}
	// FieldDeviceID is the id a device sends with its writes (a UUID from
	// the client store; empty for a write from no device).
	FieldDeviceID = Field{Name: "device_id", Max: 128, Chars: "printable ASCII without spaces",
		ok: func(_ int, r rune) bool { return r > ' ' && r < 0x7f }}
)

const idChars = "letters, digits and . _ - (starting with a letter or digit)"

func idRune(i int, r rune) bool { return alnum(r) || i > 0 && (r == '.' || r == '_' || r == '-') }

func alnum(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' }

// Counts.
const (
	// MaxAttributes is the most attributes a framework declares, and so the
	// most a case has; MaxAttributeValues the most values one allows.
	MaxAttributes      = 100
	MaxAttributeValues = 100
	// MaxColumns is the most columns a CSV file may have.
	MaxColumns = 128
)

// Token lifetimes: 0 asks for the default.
const (
	DefaultTokenTTL = 90 * 24 * time.Hour
	MaxTokenTTL     = 365 * 24 * time.Hour
)

// Fields lists every field limit, for the documentation test.
func Fields() []Field {
	return []Field{FieldNote, FieldRationale, FieldReason, FieldWrittenText, FieldInspectionName, FieldUnit, FieldAttributeValue, FieldValue, FieldColumn,
		FieldTitle, FieldDescription, FieldQuestionText, FieldRating,
		FieldFrameworkID, FieldID, FieldAttributeName, FieldInspectionID, FieldCaseRef, FieldUserName, FieldDeviceID}
}

// Check checks s against the field's limit; the error (CodeInvalid) names
// the field.
func (f Field) Check(s string) error { return f.CheckAs(f.Name, s) }

// CheckAs is Check with the field named otherwise in the error (e.g.
// "attribute pdu", "question 2.1.1 text").
func (f Field) CheckAs(name, s string) error {
	if p := f.problem(s); p != "" {
		return Errorf(CodeInvalid, "%s %s", name, p)
	}
	return nil
}

// problem is what is wrong with s, to follow the field's name, or "".
// The value is quoted only once it is known to be short and UTF-8; %q
// escapes control and bidirectional characters.
func (f Field) problem(s string) string {
	if i := InvalidUTF8(s); i >= 0 {
		return fmt.Sprintf("is not valid UTF-8 (byte %d)", i+1)
	}
	switch {
	case s == "" && f.Required:
		return "is empty"
	case len(s) > f.Max:
		return fmt.Sprintf("is %d bytes, over the limit of %d", len(s), f.Max)
	}
	if f.ok != nil {
		i := 0
		for _, r := range s {
			if !f.ok(i, r) {
				return fmt.Sprintf("%q may hold only %s%s", s, f.Chars, f.hint)
			}
			i++
		}
	}
	return ""
}

// InvalidUTF8 is the byte offset of the first byte of s that is not part
// of valid UTF-8, or -1 if s is valid.
func InvalidUTF8[T string | []byte](s T) int {
	b := []byte(s)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// LineColumn is the 1-based line and column (in bytes) of offset in data.
func LineColumn(data []byte, offset int) (line, col int) {
	line, start := 1, 0
	for i := 0; i < offset && i < len(data); i++ {
		if data[i] == '\n' {
			line, start = line+1, i+1
		}
	}
	return line, offset - start + 1
}

// CheckOp checks a pushed op's ids and short fields before anything of it
// is stored or repeated: a rejection's reason is recorded and sent back,
// so an op naming a case by a megabyte of text would otherwise be kept
// and echoed whole. Its note is checked with its answer (CheckAnswerNote).
func CheckOp(op Op) error {
	if err := checkUUID("op_id", op.ID, true); err != nil {
		return err
	}
	if op.Marking != nil {
		if err := checkMarkingOp(op); err != nil || op.Marking.Submit {
			return err
		}
	}
	if op.Written != nil {
		return checkWrittenOp(op)
	}
	if op.Status != nil {
		return checkStatusOp(op)
	}
	for _, c := range []struct {
		f    Field
		name string
		s    string
	}{{FieldInspectionID, "inspection_id", op.InspectionID}, {FieldCaseRef, "case_ref", op.CaseRef}, {FieldID, "question_id", op.QuestionID},
		{FieldValue, "value", op.Value}, {FieldDeviceID, "device_id", op.DeviceID}} {
		if err := c.f.CheckAs(c.name, c.s); err != nil {
			return err
		}
	}
	return checkSyncFields(op)
}

// checkSyncFields checks what every op carries besides what it writes.
func checkSyncFields(op Op) error {
	if err := FieldDeviceID.CheckAs("device_id", op.DeviceID); err != nil {
		return err
	}
	if err := checkUUID("conflict_id", op.ConflictID, false); err != nil {
		return err
	}
	if op.DeviceSeq < 0 || op.DeviceSeq > MaxDeviceSeq {
		return Errorf(CodeInvalid, "device_seq %d is out of range (0 to %d)", op.DeviceSeq, MaxDeviceSeq)
	}
	if len(op.Supersedes) > MaxSupersedes {
		return Errorf(CodeInvalid, "supersedes lists %d ops, over the limit of %d", len(op.Supersedes), MaxSupersedes)
	}
	for _, id := range op.Supersedes {
		if err := checkUUID("supersedes", id, true); err != nil {
			return err
		}
	}
	switch op.Resolution {
	case "", ResolveMine, ResolveTheirs, ResolveValue:
		return nil
	}
	return Errorf(CodeInvalid, "resolution must be %s, %s or %s", ResolveMine, ResolveTheirs, ResolveValue)
}

// checkWrittenOp checks an op that writes a written item: it names no
// case, question, value or note (an op writes one thing).
func checkWrittenOp(op Op) error {
	if err := FieldInspectionID.CheckAs("inspection_id", op.InspectionID); err != nil {
		return err
	}
	if op.CaseRef != "" || op.QuestionID != "" || op.Value != "" || op.Note != "" {
		return Errorf(CodeInvalid, "an op that writes a written item names no case_ref, question_id, value or note")
	}
	if err := checkWrittenFields(*op.Written); err != nil {
		return err
	}
	return checkSyncFields(op)
}

// checkStatusOp checks an op that moves a case to another status: it
// names its case, the case's status revision it saw (base_revision) and no
// question, value, note, supersessions or conflict (an op writes one thing).
func checkStatusOp(op Op) error {
	if op.Written != nil || op.QuestionID != "" || op.Value != "" || op.Note != "" || len(op.Supersedes) > 0 ||
		op.ConflictID != "" || op.Resolution != "" {
		return Errorf(CodeInvalid, "an op that changes a case's status names no question_id, value, note, supersedes, conflict_id or resolution")
	}
	if op.BaseRevision < 0 {
		return Errorf(CodeInvalid, "base_revision %d: a case's status revision is 0 or more", op.BaseRevision)
	}
	for _, c := range []struct {
		f    Field
		name string
		s    string
	}{{FieldInspectionID, "inspection_id", op.InspectionID}, {FieldCaseRef, "case_ref", op.CaseRef}, {FieldValue, "status", string(op.Status.Status)},
		{FieldReason, "reason", op.Status.Reason}} {
		if err := c.f.CheckAs(c.name, c.s); err != nil {
			return err
		}
	}
	if !ValidCaseStatus(op.Status.Status) || op.Status.Status == CaseNotStarted {
		return Errorf(CodeInvalid, "status %q is not one of in_progress, submitted, qa_checked, locked", op.Status.Status)
	}
	return checkSyncFields(op)
}

func checkUUID(name, id string, required bool) error {
	switch {
	case id == "" && !required:
		return nil
	case len(id) > 64:
		return Errorf(CodeInvalid, "%s is %d bytes: not a UUID", name, len(id))
	}
	if _, err := uuid.Parse(id); err != nil {
		return Errorf(CodeInvalid, "%s %q is not a UUID", name, id)
	}
	return nil
}

// TokenTTL checks a requested token lifetime in seconds and returns it
// (0: the default).
func TokenTTL(seconds int64) (time.Duration, error) {
	max := int64(MaxTokenTTL / time.Second)
	switch {
	case seconds == 0:
		return DefaultTokenTTL, nil
	case seconds < 0 || seconds > max:
		return 0, Errorf(CodeInvalid, "ttl_seconds %d is out of range: give 1 to %d (%d days), or 0 for the default of %d days",
			seconds, max, MaxTokenTTL/(24*time.Hour), DefaultTokenTTL/(24*time.Hour))
	}
	return time.Duration(seconds) * time.Second, nil
}
