package server_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/server"
)

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// healthy says whether a new connection that trusts only the certificate
// in ca completes a health check.
func healthy(t *testing.T, addr, ca string) bool {
	t.Helper()
	conn, err := client.Dial(client.Credentials{Server: addr, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err == nil
}

// A renewed certificate written over the files is served to new
// connections after ReloadTLS (SIGHUP), without a restart; a broken pair
// is refused and the one served stays.
func TestReloadTLS(t *testing.T) {
	dir := t.TempDir()
	oldCert, oldKey, err := server.WriteDevCert(filepath.Join(dir, "old"), nil)
	if err != nil {
		t.Fatal(err)
	}
	newCert, newKey, err := server.WriteDevCert(filepath.Join(dir, "new"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	copyFile(t, oldCert, cert)
	copyFile(t, oldKey, key)
	cfg := server.DefaultConfig()
	cfg.DBPath = filepath.Join(dir, "fieldwork.db")
	cfg.TLSCertFile, cfg.TLSKeyFile = cert, key
	env := newTestServerAt(t, cfg, &syncBuffer{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { env.srv.Serve(ctx, lis); close(done) }()
	defer func() { cancel(); <-done }()
	addr := lis.Addr().String()

	if !healthy(t, addr, oldCert) {
		t.Fatal("the certificate served at start is not trusted")
	}
	copyFile(t, newCert, cert)
	copyFile(t, newKey, key)
	if healthy(t, addr, newCert) {
		t.Fatal("the new certificate was served before ReloadTLS")
	}
	if err := env.srv.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if !healthy(t, addr, newCert) || healthy(t, addr, oldCert) {
		t.Fatal("after ReloadTLS new connections do not get the new certificate alone")
	}
	copyFile(t, oldKey, key) // a key that does not match the certificate
	if err := env.srv.ReloadTLS(); err == nil {
		t.Error("ReloadTLS took a mismatched pair")
	}
	if !healthy(t, addr, newCert) {
		t.Error("after a refused reload the previous certificate is no longer served")
	}
}
