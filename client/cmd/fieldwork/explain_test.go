package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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

// A report that outlasts the call's bound (a pooled --case-progress report
// waiting for another the server is computing) says so in words, with what
// to do, rather than "rpc error: code = DeadlineExceeded"; after a Ctrl-C
// (the command's context cancelled) the error is left as it is.
func TestExplainDeadline(t *testing.T) {
	a := &app{ctx: context.Background(), dialled: true, creds: client.Credentials{Server: "fieldwork.example:7070"}}
	slow := fmt.Errorf("report: %w", status.Error(codes.DeadlineExceeded, "context deadline exceeded"))
	got := a.explain("report", slow)
	if got == nil || !strings.HasPrefix(got.Error(), "report: the server at fieldwork.example:7070 did not answer within 1m0s") ||
		!strings.Contains(got.Error(), "leave --case-progress out") || strings.Contains(got.Error(), "rpc error") {
		t.Errorf("explain(%v) = %v", slow, got)
	}
	if got := a.explain("sync", slow); got == nil || strings.Contains(got.Error(), "case-progress") || !strings.Contains(got.Error(), "did not answer") {
		t.Errorf("explain for sync = %v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a.ctx = ctx
	if got := a.explain("report", slow); got != slow {
		t.Errorf("after Ctrl-C: %v", got)
	}
}
