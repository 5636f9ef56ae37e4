package e2e

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// gw001Home is insp.ahmed's laptop with the Gwent inspection synced to it
// (GW-001 unanswered), the server stopped: walk works offline.
func gw001Home(t *testing.T) (home, id string) {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "fieldwork.db")
	addr := freeAddr(t)
	out, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatalf("admin-token: %v", err)
	}
	srv := startServer(t, db, addr)
	lead := filepath.Join(dir, "lead")
	cli(t, lead, false, "login", "--server", addr, "--token", strings.TrimSpace(string(out)))
	id, _ = cli(t, lead, false, "inspection", "create", "--name", "Gwent PDU 2025", "--framework", "probation-pdu-2023")
	id = strings.TrimSpace(id)
	cli(t, lead, false, "import", "--inspection", id, "--cases", gwent("cases.csv"))
	token, _ := cli(t, lead, false, "token", "issue", "--user", "insp.ahmed")
	home = filepath.Join(dir, "ahmed")
	cli(t, home, false, "login", "--server", addr, "--token", strings.TrimSpace(token))
	cli(t, home, false, "sync")
	srv.stop(t)
	return home, id
}

// terminal is a program running on a pseudo-terminal, its screen read as
// it comes.
type terminal struct {
	cmd *exec.Cmd
	tty *os.File
	mu  sync.Mutex
	out bytes.Buffer
}

func startTerminal(t *testing.T, home string, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "fieldwork"), args...)
	cmd.Env = append(os.Environ(), "FIELDWORK_HOME="+home)
	tty, err := pty.Start(cmd) // its own session, the pty its controlling terminal
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{cmd: cmd, tty: tty}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		tty.Close()
	})
	return term
}

func (term *terminal) screen() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// waitFor waits until the screen shows want.
func (term *terminal) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(term.screen(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal never showed %q:\n%s", want, term.screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (term *terminal) typeKeys(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(term.tty, s); err != nil {
		t.Fatal(err)
	}
}

// Ctrl-C in walk acts at once, typed on a real terminal to the real
// binary: the half-typed line is not saved, the answer before it is, the
// walk says both and exits cleanly, and the next walk resumes there.
func TestWalk_CtrlCOnATerminal(t *testing.T) {
	home, _ := gw001Home(t)
	term := startTerminal(t, home, "walk", "--case", "GW-001") // the laptop's only inspection
	term.waitFor(t, "[1/65] 2.1.1 (key)")
	term.typeKeys(t, "y: risk plan seen\r")
	term.waitFor(t, "saved 2.1.1 = Yes, note: risk plan seen")
	term.waitFor(t, "[2/65] 2.1.1a")
	term.typeKeys(t, "n: half typed") // no Enter
	time.Sleep(100 * time.Millisecond)
	term.typeKeys(t, "\x03") // Ctrl-C: the terminal sends SIGINT
	done := make(chan error, 1)
	go func() { done <- term.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("walk exited with %v after Ctrl-C, want a clean exit:\n%s", err, term.screen())
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("walk did not stop within 5s of Ctrl-C:\n%s", term.screen())
	}
	time.Sleep(50 * time.Millisecond)
	screen := term.screen()
	for _, want := range []string{"Interrupted: nothing typed on this line was saved.", "Last answer saved: 2.1.1 = Yes, note: risk plan seen.", "Position saved"} {
		if !strings.Contains(screen, want) {
			t.Errorf("after Ctrl-C the walk does not say %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "context canceled") {
		t.Errorf("walk reports a raw context error:\n%s", screen)
	}
	answers, _ := cli(t, home, false, "answers", "--case", "GW-001")
	if !strings.Contains(answers, "2.1.1 ") || strings.Contains(answers, "2.1.1a") || strings.Contains(answers, "half typed") {
		t.Errorf("answers after Ctrl-C:\n%s\nwant 2.1.1 only", answers)
	}
	// The next walk starts at the question Ctrl-C left.
	term = startTerminal(t, home, "walk", "--case", "GW-001")
	term.waitFor(t, "[2/65] 2.1.1a")
	term.typeKeys(t, "q\r")
	term.waitFor(t, "Position saved")
}

// gw001Script is a whole GW-001 walk, as an experienced inspector types
// it: its recorded answers in walk order, a short note on every fourth.
// before is the old grammar ("y note"), after the new: "y: note", and na!
// for what does not apply as a whole — "na! STANDARD: note" for a standard
// whose every question is na (GW-001's 2.4, 14 answers; its note then goes
// on each of them, as one reason for the section), na! for a key question
// whose prompts are all na. want is what the store must hold afterwards.
func gw001Script(t *testing.T) (before, after string, want map[string]string) {
	t.Helper()
	f, err := os.Open(gwent("answers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	given := map[string]string{}
	for _, r := range rows[1:] {
		if r[0] == "GW-001" {
			given[r[1]] = r[2]
		}
	}
	fw, _, err := framework.BuiltinByID("probation-pdu-2023")
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{"sentence_type": "community", "sex": "male", "age_band": "26-39", "ethnicity": "white", "rosh": "medium",
		"mappa": "none", "pdu": "Gwent", "contact_suspended": "false"}
	qs := fw.Applicable(framework.CaseFacts(attrs, given))
	word := map[string]string{"yes": "y", "no": "n", "na": "na"}
	notes := map[string]string{}
	want = map[string]string{}
	var b, a strings.Builder
	for i, q := range qs {
		v := given[q.ID]
		if v == "" {
			t.Fatalf("GW-001 has no answer to %s", q.ID)
		}
		w := word[v]
		if w == "" {
			w = v // the number
		}
		note := ""
		if i%4 == 3 {
			note = "seen in OASys"
			notes[q.ID] = note
		}
		want[q.ID] = v + "|" + note
		if note != "" {
			fmt.Fprintf(&b, "%s %s\n", w, note)
		} else {
			fmt.Fprintf(&b, "%s\n", w)
		}
	}
	for i := 0; i < len(qs); i++ {
		q := qs[i]
		if i == 0 || qs[i-1].StandardID != q.StandardID {
			j, all, note := i, true, ""
			for j < len(qs) && qs[j].StandardID == q.StandardID {
				all = all && given[qs[j].ID] == "na"
				if notes[qs[j].ID] != "" {
					note = notes[qs[j].ID]
				}
				j++
			}
			if all && j > i+1 {
				for _, p := range qs[i:j] {
					want[p.ID] = "na|" + note
				}
				if note != "" {
					fmt.Fprintf(&a, "na! %s: %s\n", q.StandardID, note)
				} else {
					fmt.Fprintf(&a, "na! %s\n", q.StandardID)
				}
				i = j - 1
				continue
			}
		}
		if q.Kind == framework.QuestionKey {
			j := i + 1
			for j < len(qs) && qs[j].KeyQuestionID == q.ID && qs[j].Kind == framework.QuestionPrompt {
				j++
			}
			all := true
			for _, p := range qs[i:j] {
				all = all && given[p.ID] == "na" && notes[p.ID] == notes[q.ID]
			}
			if all && j > i+1 {
				if notes[q.ID] != "" {
					fmt.Fprintf(&a, "na!: %s\n", notes[q.ID])
				} else {
					a.WriteString("na!\n")
				}
				i = j - 1
				continue
			}
		}
		w := word[given[q.ID]]
		if w == "" {
			w = given[q.ID]
		}
		if n := notes[q.ID]; n != "" {
			fmt.Fprintf(&a, "%s: %s\n", w, n)
		} else {
			fmt.Fprintf(&a, "%s\n", w)
		}
	}
	return b.String(), a.String(), want
}

// The keystrokes of a whole case in walk (BENCHMARKS.md): the new script
// typed into the real binary leaves exactly GW-001's answers.
func TestWalk_GW001Keystrokes(t *testing.T) {
	home, _ := gw001Home(t)
	before, after, want := gw001Script(t)
	cmd := exec.Command(filepath.Join(binDir, "fieldwork"), "walk", "--case", "GW-001")
	cmd.Env = append(os.Environ(), "FIELDWORK_HOME="+home)
	cmd.Stdin = strings.NewReader(after)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("walk: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "All 65 applicable questions answered. Submit with") || strings.Contains(out.String(), "nothing saved") {
		t.Errorf("the scripted walk did not end complete, or refused a line:\n%s", out.String())
	}
	csvOut, _ := cli(t, home, false, "answers", "--case", "GW-001")
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(csvOut), "\n")[1:] {
		f := strings.Fields(line)
		note := ""
		if len(f) > 4 {
			note = strings.Join(f[4:], " ")
		}
		got[f[0]] = f[1] + "|" + note
	}
	for q, v := range want {
		if got[q] != v {
			t.Errorf("%s = %q, want %q", q, got[q], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d answers stored, want %d", len(got), len(want))
	}
	t.Logf("GW-001 in walk: %d keystrokes before (old grammar), %d after (%d lines → %d)", len(before), len(after),
		strings.Count(before, "\n"), strings.Count(after, "\n"))
	if len(after) >= len(before) {
		t.Errorf("the new walk takes %d keystrokes for GW-001, the old %d", len(after), len(before))
	}
}

// The recording commands with no --inspection (the laptop's only one,
// named on stderr), offline: what is missing, a standard marked not
// applicable in one command, and a submission queued with a plain message.
func TestRecordingCommands_DefaultInspectionAndOfflineSubmit(t *testing.T) {
	home, id := gw001Home(t)
	out, stderr := cli(t, home, false, "answers", "--case", "GW-001", "--missing")
	if n := strings.Count(out, "\n  g "); n != 65 || !strings.Contains(stderr, "inspection "+id+" (the only inspection on this laptop)") {
		t.Errorf("answers --missing: %d g lines (want 65), stderr %q", n, stderr)
	}
	out, stderr = cli(t, home, true, "submit", "--case", "GW-001")
	if strings.Count(out, "\n  g ") != 65 || !strings.Contains(stderr, "65 applicable question(s) unanswered") || strings.Contains(stderr, "more") {
		t.Errorf("submit of an unanswered case: stdout %q stderr %q; want all 65 listed", out, stderr)
	}
	out, _ = cli(t, home, false, "answer", "--case", "GW-001", "--question", "P2.4", "--value", "na", "--with-prompts", "--note", "no reviews due")
	if !strings.Contains(out, "14 answer(s) saved") || !strings.Contains(out, "saved GW-001 2.4.3d = na") {
		t.Errorf("answer --with-prompts on a standard:\n%s", out)
	}
	out, _ = cli(t, home, false, "answers", "--case", "GW-001", "--text")
	if !strings.Contains(out, "2.1.1 ") || !strings.Contains(out, "— unanswered (required)") || !strings.Contains(out, "Does assessment focus sufficiently") ||
		!strings.Contains(out, "51 applicable question(s) unanswered") {
		t.Errorf("answers --text:\n%s", out)
	}
	_, after, _ := gw001Script(t)
	cmd := exec.Command(filepath.Join(binDir, "fieldwork"), "walk", "--case", "GW-001")
	cmd.Env = append(os.Environ(), "FIELDWORK_HOME="+home)
	cmd.Stdin = strings.NewReader(strings.Replace(after, "na! P2.4: seen in OASys\n", "u\n", 1)) // P2.4 is done: on to the next unanswered
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "All 65 applicable questions answered") {
		t.Fatalf("walk: %v\n%s", err, b)
	}
	out, stderr = cli(t, home, false, "submit", "--case", "GW-001") // the server is down
	if !strings.Contains(out, "submission of case GW-001 queued on this laptop: the server at ") || !strings.Contains(out, " cannot be reached") ||
		strings.Contains(out+stderr, "rpc error") || strings.Contains(out+stderr, "Unavailable") {
		t.Errorf("offline submit: stdout %q stderr %q", out, stderr)
	}
	if out, _ := cli(t, home, false, "cases"); !strings.Contains(out, "submitted (queued, not yet sent)") {
		t.Errorf("cases after an offline submit:\n%s", out)
	}
}
