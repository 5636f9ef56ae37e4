package framework_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// A framework file states its format; this build reads format 1 (or none
// stated) and refuses a higher one with "update fieldwork", before any
// field of the newer format is judged, and a nonsense format as invalid.
func TestLoad_Format(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "frameworks", "probation-adult-2018.json"))
	if err != nil {
		t.Fatal(err)
	}
	with := func(format string, extra string) []byte {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if format != "" {
			m["format"] = json.RawMessage(format)
		}
		if extra != "" {
			m["needs_a_newer_reader"] = json.RawMessage(extra)
		}
		out, _ := json.Marshal(m)
		return out
	}
	for _, ok := range []string{"", "1"} {
		if _, err := framework.Load(with(ok, "")); err != nil {
			t.Errorf("format %q: %v", ok, err)
		}
	}
	_, err = framework.Load(with("2", `{"a": 1}`))
	if framework.ErrorCode(err) != framework.CodePrecondition || !strings.HasPrefix(err.Error(), "update fieldwork: ") ||
		!strings.Contains(err.Error(), "format 2") || !strings.Contains(err.Error(), "up to 1") || !strings.Contains(err.Error(), "probation-adult-2018") {
		t.Errorf("format 2 = %v (%s), want FailedPrecondition \"update fieldwork: … format 2 … up to 1\" naming the framework", err, framework.ErrorCode(err))
	}
	for _, bad := range []string{`0`, `"2"`, `1.5`, `-3`} {
		if _, err := framework.Load(with(bad, "")); framework.ErrorCode(err) != framework.CodeInvalid || !strings.Contains(err.Error(), "format") {
			t.Errorf("format %s = %v, want an invalid-format error", bad, err)
		}
	}
	if _, err := framework.Load(with("", `1`)); err == nil || strings.Contains(err.Error(), "update fieldwork") {
		t.Errorf("an unknown field in format 1 = %v, want refused as unknown, not as a newer format", err)
	}
}
