package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The lead of a public-protection inspection (unrated: the Chief
// Inspector's judgement) records the summary, a finding and a
// recommendation offline, with the server down; syncs; the report JSON,
// terminal, CSV and HTML carry them. An inspector cannot write them, and a
// locked inspection refuses them, keeping the refused text on the laptop.
func TestWrittenJudgementsOfflineThenEveryFormat(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "fieldwork.db")
	addr := freeAddr(t)
	out, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatalf("admin-token: %v", err)
	}
	srv := startServer(t, db, addr)
	admin := filepath.Join(dir, "admin")
	cli(t, admin, false, "login", "--server", addr, "--token", strings.TrimSpace(string(out)))
	id, _ := cli(t, admin, false, "inspection", "create", "--name", "PP South West", "--framework", "probation-public-protection-2025")
	id = strings.TrimSpace(id)
	login := func(user, role string) string {
		cli(t, admin, false, "user", "create", "--name", user)
		cli(t, admin, false, "team", "add", "--inspection", id, "--user", user, "--role", role)
		tok, _ := cli(t, admin, false, "token", "issue", "--user", user)
		home := filepath.Join(dir, user)
		cli(t, home, false, "login", "--server", addr, "--token", strings.TrimSpace(tok))
		cli(t, home, false, "sync")
		return home
	}
	lead := login("lead.jones", "lead")
	insp := login("insp.x", "inspector")

	// Offline: the server is down.
	srv.stop(t)
	hostile := "=HYPERLINK(\"http://evil\") \x1b[2J <b>bold</b>"
	cli(t, lead, false, "judge", "--inspection", id, "--summary", "Public protection work requires improvement.")
	cli(t, lead, false, "finding", "--inspection", id, "--standard", "PP2", "--improvement", "Home visits were not completed where necessary.")
	cli(t, lead, false, "finding", "--inspection", id, "--standard", "PP1", "--strength", "Assessments drew on police information.")
	cli(t, lead, false, "recommend", "--inspection", id, "Withdraw me")
	cli(t, lead, false, "recommend", "--inspection", id, hostile)
	if out, _ := cli(t, lead, false, "written", "withdraw", "--inspection", id, "--item", "1"); !strings.Contains(out, "recommendation 1 (item ") || !strings.Contains(out, "was: Withdraw me") {
		t.Errorf("written withdraw does not say which item it withdraws, in its words: %q", out)
	}
	list, _ := cli(t, lead, false, "written", "list", "--inspection", id)
	if !strings.Contains(list, "Chief Inspector's judgement") || !strings.Contains(list, "not yet synced") || !strings.Contains(list, "Recommendation 1") ||
		strings.Contains(list, "Withdraw me") || strings.Contains(list, "\x1b") {
		t.Errorf("written list offline:\n%s", list)
	}
	_, stderr := cli(t, insp, true, "recommend", "--inspection", id, "an inspector's idea")
	if !strings.Contains(stderr, "only the lead") {
		t.Errorf("inspector's recommend: %s", stderr)
	}

	srv = startServer(t, db, addr)
	cli(t, lead, false, "sync")
	js, _ := cli(t, lead, false, "report", "--inspection", id, "--format", "json")
	var doc struct {
		Written struct {
			Summary  struct{ Title, Text string }
			Findings []struct {
				Kind, Standard, Text string
			}
			Recommendations []struct {
				Number int
				Text   string
			}
		}
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatal(err)
	}
	w := doc.Written
	if w.Summary.Title != "Chief Inspector's judgement" || w.Summary.Text != "Public protection work requires improvement." {
		t.Errorf("summary %+v", w.Summary)
	}
	if len(w.Findings) != 2 || w.Findings[0].Standard != "PP1" || w.Findings[1].Kind != "improvement" {
		t.Errorf("findings %+v", w.Findings)
	}
	if len(w.Recommendations) != 1 || w.Recommendations[0].Number != 1 || w.Recommendations[0].Text != hostile {
		t.Errorf("recommendations %+v", w.Recommendations)
	}
	term, _ := cli(t, lead, false, "report", "--inspection", id)
	if !strings.Contains(term, "Written judgements") || !strings.Contains(term, "Home visits were not completed") || strings.Contains(term, "\x1b") {
		t.Errorf("terminal report:\n%s", term)
	}
	annexe := filepath.Join(dir, "annexe")
	cli(t, lead, false, "export", "--inspection", id, "--format", "csv", "--out", annexe)
	csv, err := os.ReadFile(filepath.Join(annexe, "written.csv"))
	if err != nil || !strings.Contains(string(csv), `'=HYPERLINK`) || !strings.Contains(string(csv), "Chief Inspector's judgement") {
		t.Errorf("written.csv: %v\n%s", err, csv)
	}
	page := filepath.Join(dir, "annexe.html")
	cli(t, lead, false, "export", "--inspection", id, "--format", "html", "--out", page)
	html, _ := os.ReadFile(page)
	if !strings.Contains(string(html), "Assessments drew on police information.") || strings.Contains(string(html), "<b>bold</b>") {
		t.Error("the HTML annexe lacks the finding or carries the lead's markup unescaped")
	}
	// The inspector's device never received the lead's text.
	cli(t, insp, false, "sync")
	if l, _ := cli(t, insp, false, "written", "list", "--inspection", id); strings.Contains(l, "requires improvement") {
		t.Errorf("the inspector's laptop holds the lead's written items:\n%s", l)
	}

	// Locked from elsewhere while the lead writes offline: refused on sync,
	// nothing stored, the text kept on the lead's laptop.
	cli(t, admin, false, "inspection", "lock", "--inspection", id)
	cli(t, lead, false, "recommend", "--inspection", id, "Too late")
	cli(t, lead, false, "sync")
	js, _ = cli(t, lead, false, "report", "--inspection", id, "--format", "json")
	if strings.Contains(js, "Too late") {
		t.Error("a locked inspection stored a recommendation")
	}
	list, _ = cli(t, lead, false, "written", "list", "--inspection", id)
	if !strings.Contains(list, "REFUSED") || !strings.Contains(list, "Too late") || !strings.Contains(list, "locked") {
		t.Errorf("the refused recommendation is not kept and listed:\n%s", list)
	}
	if st, _ := cli(t, lead, false, "status"); !strings.Contains(st, "written judgements: 0 open conflict(s), 1 refused edit(s)") {
		t.Errorf("status does not count the refused written edit:\n%s", st)
	}
	if _, stderr := cli(t, lead, true, "recommend", "--inspection", id, "After the lock"); !strings.Contains(stderr, "locked") {
		t.Errorf("recording on a locked inspection: %s", stderr)
	}
	srv.stop(t)
}
