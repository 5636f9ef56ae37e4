package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The lead's laptop computes the report from its own store with the same
// code as the server: after a sync it equals the server's figure for
// figure (JSON, with and without a breakdown); with the server gone,
// report and export fall back to it and say so, with the unsynced edit
// counted in. An inspector's laptop does not report.
func TestLocalReport_EqualsTheServersAfterASyncAndStandsInOffline(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "fieldwork.db")
	addr := freeAddr(t)
	out, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, db, addr)
	lead := filepath.Join(dir, "lead")
	cli(t, lead, false, "login", "--server", addr, "--token", strings.TrimSpace(string(out)))
	id, _ := cli(t, lead, false, "inspection", "create", "--name", "Gwent PDU 2025", "--framework", "probation-pdu-2023")
	id = strings.TrimSpace(id)
	cli(t, lead, false, "import", "--inspection", id, "--cases", gwent("cases.csv"), "--answers", gwent("answers.csv"), "--judgements", gwent("judgements.csv"))
	cli(t, lead, false, "sync")
	cli(t, lead, false, "judge", "--inspection", id, "--summary", "Gwent requires improvement.")
	cli(t, lead, false, "recommend", "--inspection", id, "Improve risk assessments.")
	cli(t, lead, false, "sync")

	doc := func(s string) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("report JSON: %v\n%s", err, s)
		}
		return m
	}
	for _, by := range [][]string{nil, {"--by", "sentence_type"}} {
		server, _ := cli(t, lead, false, append([]string{"report", "--inspection", id, "--format", "json"}, by...)...)
		local, _ := cli(t, lead, false, append([]string{"report", "--inspection", id, "--format", "json", "--local"}, by...)...)
		s, l := doc(server), doc(local)
		if s["local_copy"] != nil {
			t.Errorf("the server's report has local_copy %v, want null", s["local_copy"])
		}
		lc, _ := l["local_copy"].(map[string]any)
		if lc == nil || lc["unsynced_edits"] != float64(0) || lc["last_sync"] == nil {
			t.Errorf("the local report's local_copy = %v, want 0 unsynced edits and the last sync", l["local_copy"])
		}
		if _, ok := s["written"]; !ok {
			t.Fatal("the server's report has no written judgements: the comparison would miss them")
		}
		for _, k := range []string{"generated_at", "local_copy"} {
			delete(s, k)
			delete(l, k)
		}
		for k := range s {
			if !reflect.DeepEqual(s[k], l[k]) {
				t.Errorf("by %v: %q differs:\nserver %v\nlocal  %v", by, k, s[k], l[k])
			}
		}
		if len(l) != len(s) {
			t.Errorf("by %v: the local report has %d fields, the server's %d", by, len(l), len(s))
		}
	}

	// On the train: the server is gone, the lead changes one answer.
	before := doc(func() string {
		s, _ := cli(t, lead, false, "report", "--inspection", id, "--format", "json", "--local")
		return s
	}())
	srv.stop(t)
	cli(t, lead, false, "answer", "--inspection", id, "--case", "GW-001", "--question", "2.1.1", "--value", "no", "--note", "on reflection")
	js, stderr := cli(t, lead, false, "report", "--inspection", id, "--format", "json")
	if !strings.Contains(stderr, "the server at "+addr+" cannot be reached") || !strings.Contains(stderr, "showing instead the local copy computed on this laptop") {
		t.Errorf("report with the server gone: stderr = %q", stderr)
	}
	after := doc(js)
	if lc, _ := after["local_copy"].(map[string]any); lc == nil || lc["unsynced_edits"] != float64(1) {
		t.Errorf("local_copy offline = %v, want 1 unsynced edit", after["local_copy"])
	}
	yes := func(d map[string]any) float64 {
		return d["key_questions"].(map[string]any)["2.1.1"].(map[string]any)["yes"].(float64)
	}
	if yes(after) != yes(before)-1 {
		t.Errorf("2.1.1 yes offline = %v, want %v (GW-001 now no)", yes(after), yes(before)-1)
	}
	table, _ := cli(t, lead, false, "report", "--inspection", id)
	if !strings.Contains(table, "LOCAL COPY: computed on this laptop from its store (as of the last sync, ") || !strings.Contains(table, "including 1 edit made here and not yet synced") {
		t.Errorf("the table offline does not say it is the local copy:\n%s", table)
	}
	annexe := filepath.Join(dir, "annexe")
	cli(t, lead, false, "export", "--inspection", id, "--format", "csv", "--out", annexe)
	cli(t, lead, false, "export", "--inspection", id, "--format", "html", "--out", annexe+".html")
	cli(t, lead, false, "export", "--inspection", id, "--format", "xlsx", "--out", annexe+".xlsx")
	for _, f := range []string{filepath.Join(annexe, "method.txt"), annexe + ".html"} {
		if b, err := os.ReadFile(f); err != nil || !strings.Contains(string(b), "LOCAL COPY: computed on this laptop") {
			t.Errorf("%s does not say it is the local copy (%v)", f, err)
		}
	}
	if _, stderr := cli(t, lead, true, "report", "--inspections", id+","+id, "--local"); !strings.Contains(stderr, "pooled report") {
		t.Errorf("pooled --local: stderr = %q", stderr)
	}

	// An inspector's laptop holds their cases, and no report.
	srv = startServer(t, db, addr)
	tok, _ := cli(t, lead, false, "token", "issue", "--user", "insp.ahmed")
	insp := filepath.Join(dir, "ahmed")
	cli(t, insp, false, "login", "--server", addr, "--token", strings.TrimSpace(tok))
	cli(t, insp, false, "sync")
	if _, stderr := cli(t, insp, true, "report", "--inspection", id, "--local"); !strings.Contains(stderr, "does not read its report") {
		t.Errorf("an inspector's local report: stderr = %q", stderr)
	}
	srv.stop(t)
}
