package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// run runs fieldwork with FIELDWORK_HOME=home in folder dir (when not
// empty), stdin and extra environment, and returns stdout, stderr and
// whether it succeeded.
func runCLI(t *testing.T, home, dir, stdin string, env []string, args ...string) (string, string, bool) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "fieldwork"), args...)
	cmd.Env = append(append(os.Environ(), "FIELDWORK_HOME="+home), env...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err == nil
}

func savedCredentials(t *testing.T, home string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(home, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLoginTokenSources: the token comes from --token as written, from one
// line of stdin (--token -) or from FIELDWORK_TOKEN, so it need not sit in
// shell history or ps.
func TestLoginTokenSources(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "fieldwork.db")
	out, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(out))
	addr := freeAddr(t)
	startServer(t, db, addr)

	cases := []struct {
		name  string
		stdin string
		env   []string
		args  []string
	}{
		{"flag as written", "", nil, []string{"--token", token}},
		{"stdin", token + "\n", nil, []string{"--token", "-"}},
		{"stdin without newline", "  " + token, nil, []string{"--token", "-"}},
		{"environment", "", []string{"FIELDWORK_TOKEN=" + token}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			home := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			stdout, stderr, ok := runCLI(t, home, "", tc.stdin, tc.env, append([]string{"login", "--server", addr}, tc.args...)...)
			if !ok || !strings.Contains(stdout, "logged in to "+addr+" as admin") {
				t.Fatalf("login: ok=%v stdout %q stderr %q", ok, stdout, stderr)
			}
			if got := savedCredentials(t, home)["token"]; got != token {
				t.Errorf("saved token = %q, want the one given", got)
			}
			who, _ := cli(t, home, false, "whoami")
			if !strings.Contains(who, "admin") {
				t.Errorf("whoami = %q", who)
			}
		})
	}
	// No token anywhere, or an empty stdin: a clear refusal, nothing saved.
	home := filepath.Join(dir, "none")
	env := []string{"FIELDWORK_TOKEN="}
	for _, args := range [][]string{{"login", "--server", addr}, {"login", "--server", addr, "--token", "-"}} {
		_, stderr, ok := runCLI(t, home, "", "", env, args...)
		if ok || !strings.Contains(stderr, "token") {
			t.Errorf("%v with no token: ok=%v stderr %q", args, ok, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "credentials.json")); err == nil {
		t.Error("a refused login saved credentials")
	}
}

// TestLoginRefusesPlaintextOffLoopback: --insecure would send the token in
// clear; it is refused at login, and a login saved by an older version
// with it is refused at use.
func TestLoginRefusesPlaintextOffLoopback(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "c")
	// 192.0.2.1 is TEST-NET-1: never this machine.
	_, stderr, ok := runCLI(t, home, "", "", nil, "login", "--server", "192.0.2.1:7443", "--token", "fw_x", "--insecure")
	if ok || !strings.Contains(stderr, "refusing plaintext to 192.0.2.1:7443") {
		t.Errorf("login --insecure off loopback: ok=%v stderr %q", ok, stderr)
	}
	if _, err := os.Stat(filepath.Join(home, "credentials.json")); err == nil {
		t.Error("the refused login saved credentials")
	}
	os.MkdirAll(home, 0o700)
	os.WriteFile(filepath.Join(home, "credentials.json"), []byte(`{"server":"192.0.2.1:7443","token":"fw_x","user":"u","insecure":true}`), 0o600)
	start := time.Now()
	_, stderr, ok = runCLI(t, home, "", "", nil, "whoami")
	if ok || !strings.Contains(stderr, "refusing plaintext") {
		t.Errorf("whoami with a saved --insecure login: ok=%v stderr %q", ok, stderr)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("the refusal took %v: it must come before any connection", time.Since(start))
	}
	// A saved relative CA path is refused rather than resolved from the
	// folder the command happens to run in.
	os.WriteFile(filepath.Join(home, "credentials.json"), []byte(`{"server":"localhost:7443","token":"fw_x","user":"u","ca_file":"tls/cert.pem"}`), 0o600)
	_, stderr, ok = runCLI(t, home, "", "", nil, "whoami")
	if ok || !strings.Contains(stderr, "relative path") {
		t.Errorf("whoami with a saved relative CA path: ok=%v stderr %q", ok, stderr)
	}
}

// TestLoginStoresCAPathAbsolute: login --ca with a relative path works
// from any folder afterwards.
func TestLoginStoresCAPathAbsolute(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "dev-cert", filepath.Join(dir, "tls")).CombinedOutput(); err != nil {
		t.Fatalf("dev-cert: %v\n%s", err, out)
	}
	cert, key := filepath.Join(dir, "tls", "cert.pem"), filepath.Join(dir, "tls", "key.pem")
	db := filepath.Join(dir, "fieldwork.db")
	tok, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "admin-token").Output()
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	addr := freeAddr(t)
	srv := exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "--listen", addr, "--tls-cert", cert, "--tls-key", key)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()

	home := filepath.Join(dir, "c")
	deadline := time.Now().Add(20 * time.Second)
	for {
		// Relative to dir, the folder login runs in; the token from stdin.
		stdout, stderr, ok := runCLI(t, home, dir, token+"\n", nil, "login", "--server", addr, "--token", "-", "--ca", filepath.Join("tls", "cert.pem"))
		if ok {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("login --ca tls/cert.pem: %s%s", stdout, stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got, _ := savedCredentials(t, home)["ca_file"].(string)
	fi1, err1 := os.Stat(got)
	fi2, _ := os.Stat(cert)
	if !filepath.IsAbs(got) || err1 != nil || !os.SameFile(fi1, fi2) {
		t.Errorf("saved ca_file = %q, want the absolute path of %s", got, cert)
	}
	elsewhere := t.TempDir()
	stdout, stderr, ok := runCLI(t, home, elsewhere, "", nil, "whoami")
	if !ok || !strings.Contains(stdout, "admin") {
		t.Errorf("whoami from another folder: ok=%v %q %q", ok, stdout, stderr)
	}
}
