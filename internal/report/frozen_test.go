package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/report"
)

// A purged inspection's frozen report says so in every format; a live
// report says nothing of it and has "frozen": null.
func TestFrozen_SaidInEveryFormat(t *testing.T) {
	r, fw := gwentReport(t)
	live := renderAll(t, r, fw)
	if strings.Contains(live.term+live.html+live.json, "FROZEN") || !strings.Contains(live.json, `"frozen": null`) {
		t.Error("a live report speaks of being frozen, or lacks frozen: null")
	}
	r.Frozen = &aggregate.Frozen{PurgedAt: time.Date(2026, 12, 1, 15, 4, 5, 0, time.UTC)}
	const want = "FROZEN REPORT: the case-level data of this published inspection was purged on 2026-12-01 15:04 UTC"
	out := renderAll(t, r, fw)
	if !strings.Contains(out.term, want) || !strings.Contains(out.html, want) {
		t.Errorf("terminal or HTML lacks %q", want)
	}
	if !strings.Contains(out.json, `"frozen": {`+"\n"+`    "purged_at": "2026-12-01T15:04:05Z"`) {
		t.Errorf("json frozen:\n%s", out.json[strings.LastIndex(out.json, "frozen")-1:])
	}
	dir := t.TempDir()
	if err := report.ExportCSV(dir, r, fw); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "method.txt")); !strings.HasPrefix(string(b), want) {
		t.Errorf("method.txt does not open with the frozen note:\n%s", b)
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
		t.Errorf("the XLSX method sheet does not open with the note: %q", rows[:min(6, len(rows))])
	}
}
