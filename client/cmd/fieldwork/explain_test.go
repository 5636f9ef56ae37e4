package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
)

// A server's refusal of this fieldwork as too old reads "update fieldwork:
// this server needs version X or later" for every command, whether the
// status reached explain as it came or as rpc.go's FromStatus made it, and
// says nothing was lost; another FailedPrecondition passes as it is.
func TestExplainUpdateNeeded(t *testing.T) {
	a := &app{ctx: context.Background(), dialled: true, creds: client.Credentials{Server: "fieldwork.example:7070"}}
	refusal := rpcerr.ClientTooOld(2, "v0.5.0", 1, "v0.4.0")
	for _, err := range []error{fmt.Errorf("push: %w", refusal), fmt.Errorf("report: %w", rpcerr.FromStatus(refusal))} {
		got := a.explain("sync", err)
		if got == nil || !strings.HasPrefix(got.Error(), "sync: update fieldwork: this server needs version v0.5.0 or later") ||
			!strings.Contains(got.Error(), "kept on this laptop") {
			t.Errorf("explain(%v) = %v", err, got)
		}
	}
	locked := errors.New("inspection I is locked")
	if got := a.explain("sync", locked); got != locked {
		t.Errorf("another error was reworded: %v", got)
	}
}
