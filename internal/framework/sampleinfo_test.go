package framework_test

import (
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

const casesCSV = "case_ref,sex,inspector\nT-1,male,insp.a\n"

func TestCheckSampleInfo(t *testing.T) {
	info := framework.SampleInfo{Method: framework.SampleMethod, Seed: 42, SizeRule: framework.SizeFixed, Requested: 2, Population: 10, Size: 2,
		Strata: []string{"sentence_type"}, Inspectors: []string{"insp.a"}, FrameworkID: "probation-pdu-2023",
		CaseloadSHA256: strings.Repeat("ab", 32), SampleSHA256: framework.SampleSHA256([]byte(casesCSV))}
	if err := framework.CheckSampleInfo(info, []byte(casesCSV)); err != nil {
		t.Fatal(err)
	}
	if err := framework.CheckSampleInfo(info, []byte(casesCSV+"T-3,female,insp.a\n")); err == nil ||
		!strings.Contains(err.Error(), "it describes another file") {
		t.Errorf("another file: %v", err)
	}
	bad := info
	bad.Method, bad.Size, bad.Strata, bad.From, bad.CaseloadSHA256 = "x", 11, []string{"no spaces"}, "2025-13-01", "ABC"
	err := framework.CheckSampleInfo(bad, []byte(casesCSV))
	for _, want := range []string{`method "x"`, "size 11 of population 10", "stratum", `from "2025-13-01"`, `caseload_sha256 "ABC"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
