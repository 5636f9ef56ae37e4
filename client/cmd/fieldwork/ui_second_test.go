package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// fieldwork ui --second needs the case it marks, and --inspection and
// --case mean nothing without --second: refused before the store is
// opened.
func TestUISecondNeedsItsCase(t *testing.T) {
	for _, args := range [][]string{
		{"ui", "--second"},
		{"ui", "--second", "--inspection", "I"},
		{"ui", "--second", "--case", "C-1"},
		{"ui", "--inspection", "I", "--case", "C-1"},
	} {
		home := t.TempDir()
		t.Setenv("FIELDWORK_HOME", home)
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "--second takes --inspection ID and --case REF") {
			t.Errorf("fieldwork %s: %v", strings.Join(args, " "), err)
		}
		if ents, _ := os.ReadDir(home); len(ents) > 0 {
			t.Errorf("fieldwork %s touched the home", strings.Join(args, " "))
		}
	}
}
