package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// A report computed on a laptop says so in every format; the server's
// report (Local nil) says nothing of the kind and has "local_copy": null.
func TestLocalCopy_SaidInEveryFormat(t *testing.T) {
	r, fw := gwentReport(t)
	server := renderAll(t, r, fw)
	if strings.Contains(server.term+server.html+server.json, "LOCAL COPY") || !strings.Contains(server.json, `"local_copy": null`) {
		t.Error("the server's report speaks of a local copy, or lacks local_copy: null")
	}
	r.Local = &aggregate.LocalCopy{LastSync: "2026-12-01T15:04:05Z", Unsynced: 3}
	const want = "LOCAL COPY: computed on this laptop from its store (as of the last sync, 2026-12-01 15:04 UTC), including 3 edits made here and not yet synced"
	out := renderAll(t, r, fw)
	if !strings.Contains(out.term, want) || !strings.Contains(out.html, want) {
		t.Errorf("terminal or HTML lacks %q", want)
	}
	if !strings.Contains(out.json, `"local_copy": {`+"\n"+`    "last_sync": "2026-12-01T15:04:05Z",`+"\n"+`    "unsynced_edits": 3`) {
		t.Errorf("json local_copy:\n%s", out.json[strings.LastIndex(out.json, "local_copy")-1:])
	}
	dir := t.TempDir()
	if err := report.ExportCSV(dir, r, fw); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "method.txt")); !strings.HasPrefix(string(b), want) {
		t.Errorf("method.txt does not open with the local-copy note:\n%s", b)
	}
	var buf bytes.Buffer
	if err := report.ExportXLSX(&buf, r, fw); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("method")
	if len(rows) < 5 || !strings.Contains(strings.Join(rows[4], " "), want) { // the notes start under the title block
		t.Errorf("the XLSX method sheet's notes do not open with the note: %q", rows[:min(5, len(rows))])
	}
	r.Local = &aggregate.LocalCopy{}
	if out := renderAll(t, r, fw); !strings.Contains(out.term, "(never synced), including 0 edits") || !strings.Contains(out.json, `"last_sync": null`) {
		t.Error("a never-synced local copy is not said so")
	}
}
