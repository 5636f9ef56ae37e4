package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
)

func sampleInfo(csv string) framework.SampleInfo {
	return framework.SampleInfo{Method: framework.SampleMethod, Seed: 42, SizeRule: framework.SizeFixed, Requested: 2, Population: 10, Size: 2,
		Strata: []string{"sentence_type"}, Inspectors: []string{"insp.a", "insp.b"}, FrameworkID: "probation-pdu-2023",
		CaseloadSHA256: strings.Repeat("ab", 32), SampleSHA256: framework.SampleSHA256([]byte(csv))}
}

// A sample's method is kept with its cases, once however often the same
// file is imported, audited, and not at all when the cases are refused.
func TestImportSampleKeepsMethodWithCases(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	id := mustInspection(t, db)
	rows, err := interchange.ReadCases(strings.NewReader(casesCSV))
	if err != nil {
		t.Fatal(err)
	}
	info := sampleInfo(casesCSV)
	lead := framework.Actor{User: "lead", Device: "dev-l", Admin: true}
	for range 2 {
		if _, _, err := db.ImportSample(ctx, lead, id, rows, info); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Samples(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Seed != 42 || got[0].SampleSHA256 != info.SampleSHA256 || got[0].ImportedBy != "lead" ||
		got[0].DeviceID != "dev-l" || got[0].ImportedAt.IsZero() || strings.Join(got[0].Inspectors, ",") != "insp.a,insp.b" {
		t.Fatalf("kept %+v", got)
	}
	entries, err := db.Audit(ctx, id, "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Action == "sample.import" {
			n++
			if e.User != "lead" || !strings.Contains(e.After, `"seed":42`) || !strings.HasPrefix(e.Entity, "inspection/"+id+"/sample/") {
				t.Errorf("audit %+v", e)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d sample.import audit entries, want 1", n)
	}

	// A refused file keeps no sample.
	other := mustInspection(t, db)
	bad := strings.Replace(casesCSV, "medium", "extreme", 1)
	badRows, err := interchange.ReadCases(strings.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.ImportSample(ctx, lead, other, badRows, sampleInfo(bad)); err == nil {
		t.Fatal("bad rows imported")
	}
	if got, err := db.Samples(ctx, other); err != nil || len(got) != 0 {
		t.Errorf("sample kept without its cases: %+v, %v", got, err)
	}
}
