package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	out, err := exec.Command(filepath.Join(binDir, "fieldworkd"), "dev-cert", filepath.Join(dir, "tls")).CombinedOutput()
	if err != nil {
		t.Fatalf("dev-cert: %v\n%s", err, out)
	}
	cert, key := filepath.Join(dir, "tls", "cert.pem"), filepath.Join(dir, "tls", "key.pem")
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode(), err)
	}
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
		cmd := exec.Command(filepath.Join(binDir, "fieldwork"), "login", "--server", addr, "--token", token, "--ca", cert)
		cmd.Env = append(os.Environ(), "FIELDWORK_HOME="+home)
		if out, err := cmd.CombinedOutput(); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("login over TLS with --ca: %v\n%s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	who, _ := cli(t, home, false, "whoami")
	if !strings.Contains(who, "admin") {
		t.Errorf("whoami over TLS = %q", who)
	}
	for _, f := range []string{"credentials.json", "client.db"} {
		if fi, err := os.Stat(filepath.Join(home, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, %v; want 0600", f, fi.Mode().Perm(), err)
		}
	}
	// The certificate is verified: without the CA the system roots reject it.
	_, stderr := cli(t, filepath.Join(dir, "c2"), true, "login", "--server", addr, "--token", token, "--tls")
	if !strings.Contains(stderr, "certificate") {
		t.Errorf("login without the CA: stderr = %q, want a certificate error", stderr)
	}
	// A plaintext client cannot talk to the TLS server.
	cli(t, filepath.Join(dir, "c3"), true, "login", "--server", addr, "--token", token)

	// Plaintext on a non-loopback address is refused unless --insecure.
	out, err = exec.Command(filepath.Join(binDir, "fieldworkd"), "--db", db, "--listen", "0.0.0.0:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "refusing to serve without TLS") {
		t.Errorf("plaintext on 0.0.0.0: err = %v, output %s", err, out)
	}
}
