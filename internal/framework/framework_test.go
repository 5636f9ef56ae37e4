package framework_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

func TestBuiltin_LoadsWithPublishedIDs(t *testing.T) {
	fws, _, err := framework.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*framework.Framework{}
	for _, f := range fws {
		byID[f.ID] = f
	}
	pdu := byID["probation-pdu-2023"]
	if pdu == nil || byID["probation-public-protection-2025"] == nil {
		t.Fatalf("built-ins = %v, want the PDU and public-protection frameworks", byID)
	}
	// Every id of the published PDU framework, exactly as published.
	for _, id := range strings.Fields(`2.1.1 2.1.1a 2.1.1b 2.1.1c 2.1.2 2.1.2a 2.1.2b 2.1.2c 2.1.3 2.1.3a 2.1.3b 2.1.3c
		2.1.S1 2.1.S2 2.1.S3 2.1.S4 2.1.S5 2.1.S6 2.1.S7 2.2.1 2.2.1a 2.2.1b 2.2.1c 2.2.1d 2.2.1e 2.2.2 2.2.2a 2.2.2b
		2.2.2c 2.2.3 2.2.3a 2.2.3b 2.2.3c 2.2.3d 2.3.1 2.3.1a 2.3.1b 2.3.1c 2.3.2 2.3.2a 2.3.2b 2.3.2c 2.3.2d 2.3.3
		2.3.3a 2.3.3b 2.3.3c 2.3.3d 2.3.3e 2.3.3f 2.3.S1 2.4.1 2.4.1a 2.4.1b 2.4.1c 2.4.2 2.4.2a 2.4.2b 2.4.2c 2.4.2d
		2.4.3 2.4.3a 2.4.3b 2.4.3c 2.4.3d M.1`) {
		if _, ok := pdu.Question(id); !ok {
			t.Errorf("probation-pdu-2023 lacks question %s", id)
		}
	}
	if n := len(pdu.Questions()); n != 66 {
		t.Errorf("probation-pdu-2023 has %d questions, want 66", n)
	}
	for _, id := range []string{"P1.1", "P1.2", "P1.3", "P2.1", "P2.2", "P2.3", "P2.4"} {
		if _, ok := pdu.Standard(id); !ok {
			t.Errorf("probation-pdu-2023 lacks standard %s", id)
		}
	}
	if pdu.Rating.MaxScore(len(pdu.Standards())) != 21 {
		t.Errorf("max score = %d, want 21", pdu.Rating.MaxScore(len(pdu.Standards())))
	}
}

func TestLoad_AdultFrameworkFileNeedsNoCode(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "frameworks", "probation-adult-2018.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := framework.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Standards()); n != 10 {
		t.Errorf("standards = %d, want 10", n)
	}
	for score, want := range map[int]string{0: "Inadequate", 5: "Inadequate", 6: "Requires improvement", 15: "Requires improvement", 16: "Good", 25: "Good", 26: "Outstanding", 30: "Outstanding"} {
		if got, _ := f.Rating.OverallRating(score); got != want {
			t.Errorf("overall(%d) = %q, want %q", score, got, want)
		}
	}
}

// mutate loads the built-in PDU file, lets fn change it, and returns Load's error.
func mutate(t *testing.T, fn func(m map[string]any)) error {
	t.Helper()
	_, raws, err := framework.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raws[0], &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	data, _ := json.Marshal(m)
	_, err = framework.Load(data)
	return err
}

func path(m map[string]any, keys ...any) any {
	var v any = m
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v
}

func TestLoad_RejectsInconsistentFilesListingEveryProblem(t *testing.T) {
	err := mutate(t, func(m map[string]any) {
		rating := m["rating"].(map[string]any)
		bands := rating["bands"].([]any)
		bands[1].(map[string]any)["min_percent"] = 85.0 // Good now overlaps Outstanding
		bands[3].(map[string]any)["min_percent"] = 10.0 // nothing below 10%
		overall := rating["overall"].([]any)
		overall[1].(map[string]any)["min_score"] = 5.0 // gap 4
		kq := path(m, "domains", 1, "standards", 2, "key_questions", 2).(map[string]any)
		prompt := kq["prompts"].([]any)[5].(map[string]any) // 2.3.3f
		prompt["applies_when"] = []any{map[string]any{"attribute": "tier", "not_in": []any{"none"}}}
		kq["prompts"] = append(kq["prompts"].([]any), map[string]any{"id": "2.1.1", "text": "dup"})
	})
	if framework.ErrorCode(err) != framework.CodeInvalid {
		t.Fatalf("Load error = %v, want invalid", err)
	}
	for _, want := range []string{"duplicate id \"2.1.1\"", "unknown attribute \"tier\"", "overlap", "below 10%", "gap: scores 4–4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not list %q:\n%v", want, err)
		}
	}
}

func TestLoad_RejectsStructuralMistakes(t *testing.T) {
	tests := []struct {
		name string
		fn   func(m map[string]any)
		want string
	}{
		{"unknown field", func(m map[string]any) { m["colour"] = "red" }, "unknown field"},
		{"judged standard with questions", func(m map[string]any) {
			path(m, "domains", 0, "standards", 0).(map[string]any)["key_questions"] = []any{map[string]any{"id": "X.1", "text": "x"}}
		}, "judged standard P1.1 must not have key questions"},
		{"case-rated standard without key questions", func(m map[string]any) {
			delete(path(m, "domains", 1, "standards", 0).(map[string]any), "key_questions")
		}, "case-rated standard P2.1 has no key questions"},
		{"count key question", func(m map[string]any) {
			path(m, "domains", 1, "standards", 0, "key_questions", 0).(map[string]any)["type"] = "count"
		}, "key question 2.1.1 must be a yes/no question"},
		{"unknown type", func(m map[string]any) {
			path(m, "supplementary", 0).(map[string]any)["type"] = "scale"
		}, "unknown type \"scale\""},
		{"value the attribute does not allow", func(m map[string]any) {
			p := path(m, "domains", 1, "standards", 2, "key_questions", 2, "prompts", 5).(map[string]any)
			p["applies_when"] = []any{map[string]any{"attribute": "mappa", "not_in": []any{"nil"}}}
		}, "value \"nil\""},
		{"overall bands short of the maximum", func(m map[string]any) {
			o := path(m, "rating", "overall", 3).(map[string]any)
			o["max_score"] = 20.0
		}, "maximum score is 21"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mutate(t, tt.fn)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestCheckAnswer(t *testing.T) {
	pdu := builtin(t, "probation-pdu-2023")
	noMAPPA := map[string]string{"mappa": "none"}
	mappa2 := map[string]string{"mappa": "2"}
	tests := []struct {
		name      string
		q, v      string
		attrs     map[string]string
		want      string // canonical value, or "" for an error
		wantInErr string
	}{
		{"yes", "2.1.1", "yes", noMAPPA, "yes", ""},
		{"upper-case N/A", "2.1.1", "N/A", noMAPPA, "na", ""},
		{"count", "2.3.S1", "4", noMAPPA, "4", ""},
		{"count below minimum", "2.3.S1", "0", noMAPPA, "", "below the minimum 1"},
		{"count on yes/no question", "2.1.1", "2", noMAPPA, "", "yes, no or na"},
		{"word on count question", "2.3.S1", "yes", noMAPPA, "", "whole number"},
		{"unknown question", "2.9.9", "yes", noMAPPA, "", "unknown question"},
		{"standard is not a question", "P2.1", "yes", noMAPPA, "", "is a standard"},
		{"not applicable answered yes", "2.3.3f", "yes", noMAPPA, "", "does not apply"},
		{"not applicable answered na", "2.3.3f", "na", noMAPPA, "na", ""},
		{"applicable", "2.3.3f", "no", mappa2, "no", ""},
		{"empty", "2.1.1", " ", noMAPPA, "", "empty value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := pdu.CheckAnswer("C-1", framework.Facts{Attributes: tt.attrs}, tt.q, tt.v)
			if tt.want != "" {
				if err != nil || v.String() != tt.want {
					t.Errorf("CheckAnswer(%s, %q) = %v, %v; want %s", tt.q, tt.v, v, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantInErr) || !strings.Contains(err.Error(), "case C-1 question "+tt.q) {
				t.Errorf("CheckAnswer(%s, %q) error = %v, want one naming case, question and %q", tt.q, tt.v, err, tt.wantInErr)
			}
		})
	}
}
