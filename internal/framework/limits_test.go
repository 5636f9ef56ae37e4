package framework_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Ids that would climb out of a folder, hide their text or fill a screen
// are refused when a framework is loaded, every one listed and none
// repeated whole.
func TestLoad_IDsLimitedToASafeSet(t *testing.T) {
	huge := strings.Repeat("q", 100000)
	err := mutate(t, func(m map[string]any) {
		m["id"] = "../../etc"
		path(m, "domains", 1, "standards", 0).(map[string]any)["id"] = "P2.1\u202e"
		path(m, "domains", 1, "standards", 0, "key_questions", 0).(map[string]any)["id"] = "2.1/1"
		path(m, "domains", 1, "standards", 0, "key_questions", 1).(map[string]any)["id"] = huge
		path(m, "domains", 1, "standards", 0, "key_questions", 2).(map[string]any)["id"] = ".hidden"
		m["attributes"] = append(m["attributes"].([]any), map[string]any{"name": "x/../../y"})
	})
	if framework.ErrorCode(err) != framework.CodeInvalid {
		t.Fatalf("Load error = %v, want invalid", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"framework (no valid id) has",
		`id "../../etc" may hold only letters, digits and . _ - (starting with a letter or digit)`,
		`standard (invalid id 1): id "P2.1\u202e" may hold only`,
		`key question (invalid id 2): id "2.1/1" may hold only`,
		"key question (invalid id 3): id is 100000 bytes, over the limit of 64",
		`key question (invalid id 4): id ".hidden" may hold only`,
		`attribute name "x/../../y" may hold only`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, huge) || strings.ContainsRune(msg, '\u202e') {
		t.Errorf("error repeats an id it refused (%d bytes)", len(msg))
	}
}

// Framework text over its limit is listed with the rest.
func TestLoad_TextLimits(t *testing.T) {
	err := mutate(t, func(m map[string]any) {
		m["title"] = strings.Repeat("t", 301)
		path(m, "domains", 1, "standards", 0, "key_questions", 0).(map[string]any)["text"] = strings.Repeat("q", 2001)
		path(m, "attributes", 0).(map[string]any)["values"] = []any{strings.Repeat("v", 201), "ok"}
	})
	for _, want := range []string{"title is 301 bytes, over the limit of 300", "question 2.1.1 text is 2001 bytes, over the limit of 2000",
		"value is 201 bytes, over the limit of 200"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load error = %v, want it to say %q", err, want)
		}
	}
}

// A framework file that is not valid UTF-8 is refused with the line and
// column of the first bad byte (the JSON decoder would make it U+FFFD).
func TestLoad_InvalidUTF8GivesLineAndColumn(t *testing.T) {
	_, raws, _ := framework.Builtin()
	i := bytes.Index(raws[0], []byte(`"title": "`)) + len(`"title": "`) // inside the string
	data := append(append(append([]byte{}, raws[0][:i]...), 0xff), raws[0][i:]...)
	line, col := 1+bytes.Count(raws[0][:i], []byte("\n")), i-bytes.LastIndexByte(raws[0][:i], '\n')
	_, err := framework.Load(data)
	want := "framework file: line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col) + ": not valid UTF-8"
	if err == nil || err.Error() != want {
		t.Errorf("Load error = %v, want %q", err, want)
	}
}

func TestField_Check(t *testing.T) {
	for _, c := range []struct {
		f    framework.Field
		s    string
		want string
	}{
		{framework.FieldNote, strings.Repeat("é", 4000), ""},
		{framework.FieldNote, strings.Repeat("é", 4000) + "x", "note is 8001 bytes, over the limit of 8000"},
		{framework.FieldNote, "ok \xe2\x82", "note is not valid UTF-8 (byte 4)"},
		{framework.FieldNote, "", ""},
		{framework.FieldInspectionName, "", "inspection name is empty"},
		{framework.FieldCaseRef, "GW/001", ""},
		{framework.FieldCaseRef, "/GW", `case_ref "/GW" may hold only letters, digits and . _ / - (a reference, never a name)`},
		{framework.FieldID, "2.3.3f", ""},
		{framework.FieldID, "PP.IE3", ""},
		{framework.FieldDeviceID, "", ""},
		{framework.FieldDeviceID, "0199a0b2-7e44-7c3a-9d1e-4b6f0a2c5d8e", ""},
		{framework.FieldDeviceID, "a b", `device_id "a b" may hold only printable ASCII without spaces`},
		{framework.FieldUserName, "insp.ahmed@hmip", ""},
	} {
		err := c.f.Check(c.s)
		if got := ""; err != nil {
			got = err.Error()
			if got != c.want || framework.ErrorCode(err) != framework.CodeInvalid {
				t.Errorf("%s.Check(%.20q) = %v, want %q", c.f.Name, c.s, err, c.want)
			}
		} else if c.want != "" {
			t.Errorf("%s.Check(%.20q) = nil, want %q", c.f.Name, c.s, c.want)
		}
	}
}

// docs/limits.md states every limit as limits.go has it.
func TestLimitsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "limits.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // field name → limit cell
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		name := strings.TrimSpace(cells[1])
		if _, rest, ok := strings.Cut(name, "`"); ok {
			if field, _, ok := strings.Cut(rest, "`"); ok {
				rows[field] = cells[2]
			}
		}
	}
	for _, f := range framework.Fields() {
		limit, ok := rows[f.Name]
		if !ok {
			t.Errorf("docs/limits.md has no row for %s", f.Name)
			continue
		}
		if !strings.Contains(limit, strconv.Itoa(f.Max)+" ") && !strings.Contains(limit, "–"+strconv.Itoa(f.Max)) {
			t.Errorf("docs/limits.md gives %s the limit %q, limits.go %d", f.Name, strings.TrimSpace(limit), f.Max)
		}
		if f.Required != strings.Contains(limit, "1–") {
			t.Errorf("docs/limits.md: %s required = %v in limits.go, limit %q", f.Name, f.Required, strings.TrimSpace(limit))
		}
	}
}
