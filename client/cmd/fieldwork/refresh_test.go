package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/client"
)

// A change made on the server whose refresh cannot reach it says the copy
// here may be stale and to sync, in words (no gRPC text).
func TestRefreshThatFailsSaysTheCopyMayBeStale(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing answers there now
	home := t.TempDir()
	if err := client.SaveCredentials(home, client.Credentials{Server: addr, Token: "fw_x", User: "lead"}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	a := &app{ctx: context.Background(), home: home, stdout: &stdout, stderr: &stderr}
	defer func() { a.local.Close() }()
	c, done, err := a.online()
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	a.refresh(c)
	got := stderr.String()
	for _, want := range []string{"the change is made on the server, but this laptop's copy could not be refreshed: the server could not be reached (nothing answers",
		"It may be stale", "run: fieldwork sync"} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr = %q, want %q", got, want)
		}
	}
	if strings.Contains(got, "rpc error") {
		t.Errorf("stderr shows gRPC text: %q", got)
	}
}
