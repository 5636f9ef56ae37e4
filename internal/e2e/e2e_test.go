// Package e2e runs the real fieldworkd and fieldwork binaries against each
// other: the documented flow from an empty server to the published table.
package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fieldwork-e2e-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	flag.Parse()
	startPrevious() // release v0.3.0, for the compatibility test, meanwhile
	build := exec.Command("go", "build", "-o", dir, "../../server/cmd/fieldworkd", "../../client/cmd/fieldwork")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build binaries:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type daemon struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

// startServer runs fieldworkd and waits until its health check serves.
func startServer(tb testing.TB, db, addr string, extra ...string) *daemon {
	tb.Helper()
	return startServerAt(tb, binDir, db, addr, extra...)
}

// startServerAt is startServer with the fieldworkd binary in bin.
func startServerAt(tb testing.TB, bin, db, addr string, extra ...string) *daemon {
	tb.Helper()
	d := &daemon{logs: &bytes.Buffer{}}
	d.cmd = exec.Command(filepath.Join(bin, "fieldworkd"), append([]string{"--db", db, "--listen", addr}, extra...)...)
	d.cmd.Stderr = d.logs
	if err := d.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			d.cmd.Wait()
		}
	})
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return d
		}
		if time.Now().After(deadline) {
			tb.Fatalf("fieldworkd did not become healthy: %v\n%s", err, d.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and expects a clean exit.
func (d *daemon) stop(tb testing.TB) {
	tb.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	if err := d.cmd.Wait(); err != nil {
		tb.Fatalf("fieldworkd did not stop cleanly on SIGTERM: %v\n%s", err, d.logs)
	}
}

// cli runs fieldwork with FIELDWORK_HOME=home and returns stdout; it fails
// the test on a non-zero exit unless wantFail.
func cli(tb testing.TB, home string, wantFail bool, args ...string) (string, string) {
	tb.Helper()
	cmd := exec.Command(filepath.Join(binDir, "fieldwork"), args...)
	cmd.Env = append(os.Environ(), "FIELDWORK_HOME="+home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if wantFail != (err != nil) {
		tb.Fatalf("fieldwork %s: err = %v (want failure: %v)\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, wantFail, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

func gwent(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "gwent-2025", name)
}

// splitAnswers writes answers.csv without the rows of one case, and
// returns that case's rows.
func splitAnswers(tb testing.TB, caseRef, out string) [][]string {
	tb.Helper()
	f, err := os.Open(gwent("answers.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	var rest, mine [][]string
	for i, r := range rows {
		if i > 0 && r[0] == caseRef {
			mine = append(mine, r)
		} else {
			rest = append(rest, r)
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.WriteAll(rest)
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return mine
}

func TestGwentOfflineRecordingThenSyncReproducesPublishedFigures(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "fieldwork.db")
	addr := freeAddr(t)

	out, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatalf("admin-token: %v", err)
	}
	adminToken := strings.TrimSpace(string(out))
	if !strings.HasPrefix(adminToken, "fw_") || strings.Contains(adminToken, "\n") {
		t.Fatalf("admin-token printed %q, want one token line", out)
	}

	srv := startServer(t, db, addr)
	lead := filepath.Join(dir, "lead")
	cli(t, lead, false, "login", "--server", addr, "--token", adminToken)
	id, _ := cli(t, lead, false, "inspection", "create", "--name", "Gwent PDU 2025", "--framework", "probation-pdu-2023")
	id = strings.TrimSpace(id)
	rest := filepath.Join(dir, "answers-rest.csv")
	mine := splitAnswers(t, "GW-001", rest) // GW-001 is insp.ahmed's
	cli(t, lead, false, "import", "--inspection", id, "--cases", gwent("cases.csv"), "--answers", rest, "--judgements", gwent("judgements.csv"))

	// A malformed file is refused whole, naming the line, and stores nothing.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("case_ref,question_id,answer,note\nGW-001,2.1.1,yes,\nGW-001,2.1.1x,yes,\n"), 0o644)
	_, stderr := cli(t, lead, true, "import", "--inspection", id, "--answers", bad)
	if !strings.Contains(stderr, "line 3") || !strings.Contains(stderr, "2.1.1x") {
		t.Errorf("bad import stderr = %q, want it to name line 3 and question 2.1.1x", stderr)
	}

	// The inspector logs in and pulls their cases while the server is up.
	inspToken, _ := cli(t, lead, false, "token", "issue", "--user", "insp.ahmed")
	insp := filepath.Join(dir, "ahmed")
	cli(t, insp, false, "login", "--server", addr, "--token", strings.TrimSpace(inspToken))
	cli(t, insp, false, "sync")
	cases, _ := cli(t, insp, false, "cases", "--inspection", id)
	if !strings.Contains(cases, "GW-001") || strings.Contains(cases, "GW-002") {
		t.Errorf("insp.ahmed's cases:\n%s\nwant GW-001 and not insp.baker's GW-002", cases)
	}

	// The server goes away; the inspector records GW-001 offline.
	srv.stop(t)
	for _, r := range mine {
		cli(t, insp, false, "answer", "--inspection", id, "--case", r[0], "--question", r[1], "--value", r[2], "--note", r[3])
	}
	_, stderr = cli(t, insp, true, "answer", "--inspection", id, "--case", "GW-001", "--question", "2.1.1", "--value", "maybe")
	if !strings.Contains(stderr, "2.1.1") || !strings.Contains(stderr, "maybe") {
		t.Errorf("offline invalid answer stderr = %q, want it to name the question and value", stderr)
	}
	status, _ := cli(t, insp, false, "status")
	if !strings.Contains(status, fmt.Sprintf("unsynced answers: %d", len(mine))) {
		t.Errorf("status while offline:\n%s\nwant %d unsynced answers", status, len(mine))
	}
	_, stderr = cli(t, insp, true, "sync")
	if !strings.Contains(stderr, "your answers are kept on this laptop") {
		t.Errorf("sync while server is down: stderr = %q", stderr)
	}

	// The server comes back on the same database; the inspector syncs.
	srv = startServer(t, db, addr)
	syncOut, _ := cli(t, insp, false, "sync")
	if !strings.Contains(syncOut, fmt.Sprintf("%d applied, 0 conflict(s), 0 rejected", len(mine))) {
		t.Errorf("sync output = %q, want %d applied", syncOut, len(mine))
	}
	status, _ = cli(t, insp, false, "status")
	if !strings.Contains(status, "unsynced answers: 0") {
		t.Errorf("status after sync:\n%s", status)
	}

	// The lead's report reproduces every published figure.
	reportJSON, _ := cli(t, lead, false, "report", "--inspection", id, "--format", "json")
	checkAgainstPublished(t, reportJSON)
	table, _ := cli(t, lead, false, "report", "--inspection", id)
	if !strings.Contains(table, "Score 4/21 — overall: Requires improvement") {
		t.Errorf("report table does not state the score and overall rating:\n%s", table)
	}

	// The data annexe in every format.
	annexe := filepath.Join(dir, "annexe")
	cli(t, lead, false, "export", "--inspection", id, "--by", "sentence_type", "--format", "csv", "--out", annexe)
	grid, err := os.ReadFile(filepath.Join(annexe, "ratings_grid.csv"))
	if err != nil || !strings.Contains(string(grid), "P2.1,Assessment,case_rated,Inadequate,0,2.1.3,28") {
		t.Errorf("ratings_grid.csv = %q, %v", grid, err)
	}
	cli(t, lead, false, "export", "--inspection", id, "--format", "csv", "--out", annexe+".zip")
	cli(t, lead, false, "export", "--inspection", id, "--format", "xlsx", "--out", annexe+".xlsx")
	cli(t, lead, false, "export", "--inspection", id, "--format", "html", "--out", annexe+".html")
	for _, f := range []string{annexe + ".zip", annexe + ".xlsx", annexe + ".html"} {
		if fi, err := os.Stat(f); err != nil || fi.Size() < 1000 {
			t.Errorf("export %s: %v", f, err)
		}
	}
	// From a figure to its cases: 2.1.3's published Yes count, case by case.
	var pub published
	if data, err := os.ReadFile(gwent("expected.json")); err != nil || json.Unmarshal(data, &pub) != nil {
		t.Fatalf("expected.json: %v", err)
	}
	want := pub.KeyQuestions["2.1.3"]
	ev, _ := cli(t, lead, false, "evidence", "--inspection", id, "--question", "2.1.3", "--value", "yes")
	if !strings.Contains(ev, fmt.Sprintf("\n%d case(s)\n", want.Yes)) || !strings.HasPrefix(ev, "CASE  ") {
		t.Errorf("evidence 2.1.3 yes: want %d cases:\n%s", want.Yes, ev)
	}
	var rows []struct {
		CaseRef, Inspector, Value string
	}
	evj, _ := cli(t, lead, false, "evidence", "--inspection", id, "--question", "2.1.3", "--format", "json")
	if err := json.Unmarshal([]byte(evj), &rows); err != nil {
		t.Fatalf("evidence --format json: %v\n%s", err, evj)
	}
	relevant := 0
	for _, r := range rows {
		if r.Value == "yes" || r.Value == "no" {
			relevant++
		}
	}
	if relevant != want.Relevant {
		t.Errorf("evidence 2.1.3: %d yes/no rows, published relevant %d", relevant, want.Relevant)
	}
	_, stderr = cli(t, lead, true, "evidence", "--inspection", id, "--question", "9.9.9")
	if !strings.Contains(stderr, `"9.9.9" is not a question`) {
		t.Errorf("evidence of an unknown question: stderr %q", stderr)
	}
	_, stderr = cli(t, lead, true, "report", "--inspection", id, "--by", "shoe_size")
	if !strings.Contains(stderr, "shoe_size") {
		t.Errorf("report --by an unknown attribute: stderr %q", stderr)
	}

	// Team changes: someone with cases assigned cannot be taken off the team.
	cli(t, lead, false, "team", "add", "--inspection", id, "--user", "analyst.x", "--role", "analyst")
	removed, _ := cli(t, lead, false, "team", "remove", "--inspection", id, "--user", "analyst.x")
	if !strings.Contains(removed, "analyst.x (analyst) is off the team") || !strings.Contains(removed, "57 case(s)") {
		t.Errorf("team remove: %q", removed)
	}
	_, stderr = cli(t, lead, true, "team", "remove", "--inspection", id, "--user", "insp.ahmed")
	if !strings.Contains(stderr, "reassign them first") {
		t.Errorf("team remove of an inspector with cases: stderr %q", stderr)
	}
	_, stderr = cli(t, lead, true, "team", "remove", "--inspection", id, "--user", "analyst.x")
	if !strings.Contains(stderr, "not on the team") {
		t.Errorf("team remove of a user not on the team: stderr %q", stderr)
	}

	// A second inspection of the same framework pools with the first.
	id2, _ := cli(t, lead, false, "inspection", "create", "--name", "Gwent again", "--unit", "Gwent B", "--framework", "probation-pdu-2023")
	id2 = strings.TrimSpace(id2)
	cli(t, lead, false, "import", "--inspection", id2, "--cases", gwent("cases.csv"), "--answers", gwent("answers.csv"))
	pooled, _ := cli(t, lead, false, "report", "--inspections", id+","+id2, "--format", "json")
	var doc struct {
		Cases        int `json:"cases"`
		KeyQuestions map[string]struct {
			Yes, Relevant int
		} `json:"key_questions"`
		Units      []string                                           `json:"units"`
		Breakdowns map[string]map[string]map[string]struct{ Yes int } `json:"breakdowns"`
		Overall    *string                                            `json:"overall"`
	}
	if err := json.Unmarshal([]byte(pooled), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Cases != 114 || doc.KeyQuestions["2.1.1"].Yes != 82 || doc.KeyQuestions["2.1.1"].Relevant != 114 || len(doc.Units) != 2 {
		t.Errorf("pooled report: %d cases, 2.1.1 = %+v, units %v; want 114 cases, 82/114, 2 units", doc.Cases, doc.KeyQuestions["2.1.1"], doc.Units)
	}
	if doc.Breakdowns["unit"]["2.1.1"]["Gwent B"].Yes != 41 {
		t.Errorf("pooled per-unit breakdown = %+v", doc.Breakdowns["unit"]["2.1.1"])
	}
	if doc.Overall != nil {
		t.Errorf("pooled report has overall %q; judged ratings are not pooled", *doc.Overall)
	}
	srv.stop(t)
}

// published mirrors testdata/gwent-2025/expected.json.
type published struct {
	Cases        int                       `json:"cases"`
	KeyQuestions map[string]publishedShare `json:"key_questions"`
	Prompts      map[string]publishedShare `json:"prompts"`
	Standards    map[string]struct {
		Rating        string `json:"rating"`
		LowestPercent *int   `json:"lowest_percent"`
	} `json:"standards"`
	Score              int    `json:"score"`
	MaxScore           int    `json:"max_score"`
	Overall            string `json:"overall"`
	Practitioners3Plus int    `json:"practitioners_3plus"`
}

type publishedShare struct {
	Yes      int `json:"yes"`
	Relevant int `json:"relevant"`
	Percent  int `json:"percent"`
}

type reportDoc struct {
	Cases        int `json:"cases"`
	KeyQuestions map[string]struct {
		Yes      int  `json:"yes"`
		Relevant int  `json:"relevant"`
		Percent  *int `json:"percent"`
	} `json:"key_questions"`
	Questions map[string]struct {
		Yes      int  `json:"yes"`
		Relevant int  `json:"relevant"`
		Percent  *int `json:"percent"`
	} `json:"questions"`
	Standards map[string]struct {
		Rating        *string `json:"rating"`
		LowestPercent *int    `json:"lowest_percent"`
	} `json:"standards"`
	Score    *int    `json:"score"`
	MaxScore *int    `json:"max_score"`
	Overall  *string `json:"overall"`
}

func checkAgainstPublished(t *testing.T, reportJSON string) {
	t.Helper()
	data, err := os.ReadFile(gwent("expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want published
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	var got reportDoc
	if err := json.Unmarshal([]byte(reportJSON), &got); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, reportJSON)
	}
	if got.Cases != want.Cases {
		t.Errorf("cases = %d, want %d", got.Cases, want.Cases)
	}
	for id, w := range want.KeyQuestions {
		g, ok := got.KeyQuestions[id]
		if !ok || g.Yes != w.Yes || g.Relevant != w.Relevant || g.Percent == nil || *g.Percent != w.Percent {
			t.Errorf("key question %s = %+v, want %+v", id, g, w)
		}
	}
	for id, w := range want.Prompts {
		g, ok := got.Questions[id]
		if !ok || g.Yes != w.Yes || g.Relevant != w.Relevant || g.Percent == nil || *g.Percent != w.Percent {
			t.Errorf("question %s = %+v, want %+v", id, g, w)
		}
	}
	for id, w := range want.Standards {
		g := got.Standards[id]
		if g.Rating == nil || *g.Rating != w.Rating {
			t.Errorf("standard %s rating = %v, want %s", id, g.Rating, w.Rating)
		}
		if w.LowestPercent != nil && (g.LowestPercent == nil || *g.LowestPercent != *w.LowestPercent) {
			t.Errorf("standard %s lowest = %v, want %d", id, g.LowestPercent, *w.LowestPercent)
		}
	}
	if got.Score == nil || *got.Score != want.Score || got.MaxScore == nil || *got.MaxScore != want.MaxScore {
		t.Errorf("score = %v/%v, want %d/%d", got.Score, got.MaxScore, want.Score, want.MaxScore)
	}
	if got.Overall == nil || *got.Overall != want.Overall {
		t.Errorf("overall = %v, want %s", got.Overall, want.Overall)
	}
	if q := got.Questions["2.3.S1"]; q.Yes != want.Practitioners3Plus {
		t.Errorf("cases with 3 or more practitioners = %d, want %d", q.Yes, want.Practitioners3Plus)
	}
}

func TestFrameworkFileLoadedAtRunTime(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "fieldwork.db")
	addr := freeAddr(t)
	out, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join("..", "..", "testdata", "frameworks", "probation-adult-2018.json")
	srv := startServer(t, db, addr, "--framework", file)
	home := filepath.Join(dir, "admin")
	cli(t, home, false, "login", "--server", addr, "--token", strings.TrimSpace(string(out)))
	list, _ := cli(t, home, false, "frameworks", "list")
	for _, id := range []string{"probation-pdu-2023", "probation-public-protection-2025", "probation-adult-2018"} {
		if !strings.Contains(list, id) {
			t.Errorf("frameworks list lacks %s:\n%s", id, list)
		}
	}
	show, _ := cli(t, home, false, "frameworks", "show", "probation-adult-2018")
	for _, want := range []string{"3.2 Statutory victim work (case-rated)", "3.2.1 Is victim contact", "[applies where sentence_type is licence]", "1.4 Information and facilities (judged)"} {
		if !strings.Contains(show, want) {
			t.Errorf("frameworks show lacks %q:\n%s", want, show)
		}
	}
	id, _ := cli(t, home, false, "inspection", "create", "--name", "Old style", "--framework", "probation-adult-2018", "--version", "1")
	if _, stderr := cli(t, home, true, "inspection", "create", "--name", "No such", "--framework", "probation-adult-2018", "--version", "99"); !strings.Contains(stderr, `framework "probation-adult-2018" has no version 99`) {
		t.Errorf("inspection create --version 99: stderr %q", stderr)
	}
	rep, _ := cli(t, home, false, "report", "--inspection", strings.TrimSpace(id))
	// Nothing rated yet: no score (not "0/30", which reads as Inadequate throughout).
	if !strings.Contains(rep, "Score: not rated yet (0 of 10 standards rated); overall: not rated yet") || strings.Contains(rep, "0/30") {
		t.Errorf("empty adult-2018 report:\n%s", rep)
	}
	js, _ := cli(t, home, false, "report", "--inspection", strings.TrimSpace(id), "--format", "json")
	var doc struct {
		Standards map[string]struct {
			Points *int `json:"points"`
		} `json:"standards"`
		Score            *int    `json:"score"`
		ProvisionalScore *int    `json:"provisional_score"`
		Overall          *string `json:"overall"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatalf("report --format json: %v\n%s", err, js)
	}
	for sid, st := range doc.Standards {
		if st.Points != nil {
			t.Errorf("unrated standard %s has points %d, want null", sid, *st.Points)
		}
	}
	if len(doc.Standards) == 0 || doc.Score != nil || doc.Overall != nil || doc.ProvisionalScore == nil || *doc.ProvisionalScore != 0 {
		t.Errorf("empty adult-2018 JSON: %d standards, score %v, provisional %v, overall %v; want null, 0, null", len(doc.Standards), doc.Score, doc.ProvisionalScore, doc.Overall)
	}
	srv.stop(t)

	// A broken framework file stops the server with every problem listed.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"id":"x","version":0,"attributes":[],"domains":[]}`), 0o644)
	cmd := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "--listen", addr, "--framework", bad)
	msg, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "version must be 1 or more") || !strings.Contains(string(msg), "no standards") {
		t.Errorf("fieldworkd with a broken framework: err = %v, output:\n%s", err, msg)
	}
}
