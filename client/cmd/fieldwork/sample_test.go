package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSampleRefusesBadOptions(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FIELDWORK_HOME", filepath.Join(dir, "home"))
	caseload := filepath.Join(dir, "caseload.csv")
	os.WriteFile(caseload, []byte("case_ref,sentence_type,sex,age_band,ethnicity,rosh,mappa,pdu,contact_suspended,start_date\n"+
		"A-1,community,male,26-39,white,low,none,=cmd|' /C calc'!A0,false,2025-01-02\n"+
		"A-2,licence,female,26-39,white,low,none,North,false,\n"), 0o600)
	out := filepath.Join(dir, "cases.csv")
	base := []string{"sample", "--caseload", caseload, "--out", out}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "give --size N, or --confidence C with --margin E"},
		{[]string{"--size", "1", "--confidence", "80", "--margin", "10"}, "give --size N, or"},
		{[]string{"--confidence", "80"}, "give --size N, or"},
		{[]string{"--confidence", "70", "--margin", "10"}, "confidence 70% is not supported (use one of 80, 85, 90, 95, 99)"},
		{[]string{"--size", "3"}, "--size 3 is more than the 2 eligible case(s)"},
		{[]string{"--size", "1", "--strata", "colour"}, "--strata colour: framework probation-pdu-2023 has no such attribute"},
		{[]string{"--size", "1", "--strata", "sex,sex"}, "--strata sex is given twice"},
		{[]string{"--size", "1", "--inspectors", "a,a"}, "a is listed twice"},
		{[]string{"--size", "1", "--from", "2025-02-30"}, `--from "2025-02-30" is not a date`},
		{[]string{"--size", "1", "--from", "2025-02-01", "--to", "2025-01-01"}, "--to 2025-01-01 is before --from 2025-02-01"},
		{[]string{"--size", "1", "--from", "2025-01-01"}, "line 3: case A-2: start_date is empty: --from/--to need every case's start date"},
		{[]string{"--size", "1", "--framework", "nope"}, "--framework nope: not in the local store nor built in"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), append(base, c.args...), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("sample %v: %v, want %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a refused draw wrote its file")
	}
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), append(base, "--size", "2", "--seed", "3"), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if !strings.Contains(string(got), `A-1,,community,male,26-39,white,low,none,'=cmd|' /C calc'!A0,false`+"\n") {
		t.Errorf("formula not neutralised, or start_date written:\n%s", got)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("sample mode %v, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(stdout.String(), "no --inspectors: the inspector column is empty") {
		t.Errorf("no note of the empty inspector column:\n%s", stdout.String())
	}
}
