package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/client"

	"github.com/fieldworkhq/fieldwork/internal/buildinfo"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
)

// explain is the one place a command's failure to reach the server, or the
// server's refusal of the token, becomes a sentence a person can act on,
// or its refusal of this fieldwork as too old for it (rpcerr.UpdateNeeded),
// for every command: what happened, that nothing recorded here is lost,
// and the one thing to do next. Any other error is returned as it is.
// It applies only after the command dialled the server (a.dialled), so a
// local "not logged in" keeps its own message.
func (a *app) explain(cmd string, err error) error {
	if err == nil || !a.dialled {
		return err
	}
	addr := a.creds.Server
	if addr == "" {
		addr = "(unknown address)"
	}
	if ue, ok := rpcerr.UpdateNeeded(err); ok {
		return fmt.Errorf("%s: update fieldwork: this server needs version %s or later (this is %s, protocol %d); nothing was sent or changed, and your answers are kept on this laptop%s; sync again once fieldwork is updated",
			cmd, ue.MinRelease, buildinfo.Release(buildinfo.Protocol), buildinfo.Protocol, a.unsyncedNote())
	}
	switch {
	case rpcerr.Unreachable(err) && cmd == "login":
		return fmt.Errorf("login: the server at %s cannot be reached%s; nothing was saved: run the same fieldwork login again when it can be",
			addr, unreachableCause(err))
	case rpcerr.Unreachable(err):
		return fmt.Errorf("%s: the server at %s cannot be reached%s; your answers are kept on this laptop%s; run fieldwork sync when online",
			cmd, addr, unreachableCause(err), a.unsyncedNote())
	case status.Code(err) == codes.DeadlineExceeded && a.ctx.Err() == nil:
		// The call's own bound (client.CallTimeout), not a Ctrl-C.
		return fmt.Errorf("%s: the server at %s did not answer within %s%s; nothing recorded on this laptop is lost%s; try again later",
			cmd, addr, client.CallTimeout, slowHint(cmd), a.unsyncedNote())
	case rpcerr.Unauthenticated(err):
		return fmt.Errorf("%s: the server at %s refused this laptop's token (%s); your answers are kept on this laptop%s.\n"+
			"Ask your administrator for a new token (fieldwork token issue --user NAME), then run: fieldwork login --server %s --token -",
			cmd, addr, tokenReason(err), a.unsyncedNote(), addr)
	}
	return err
}

// slowHint says why a report can outlast the call's bound: the server
// computes one pooled report with per-case sections at a time
// (server.perCaseGate), and others wait for it.
func slowHint(cmd string) string {
	if cmd != "report" && cmd != "export" {
		return ""
	}
	return " (a pooled report with --case-progress waits while the server computes another, one at a time: leave --case-progress out, or try again in a minute)"
}

// unsyncedNote is " (N unsynced)" from the store, if the command opened it.
func (a *app) unsyncedNote() string {
	if a.local == nil {
		return ""
	}
	// The command's context may be the one that failed (or was cancelled).
	n, err := a.local.PendingCount(context.WithoutCancel(a.ctx))
	if err != nil {
		return ""
	}
	return fmt.Sprintf(" (%d unsynced)", n)
}

// unreachableCause names, in words, the commonest reasons a connection
// fails, from the transport's text (which is not shown: it reads as noise).
func unreachableCause(err error) string {
	s, _ := status.FromError(err)
	msg := strings.ToLower(s.Message())
	switch {
	case strings.Contains(msg, "connection refused"):
		return " (nothing answers at that address: the server is down or the address is wrong)"
	case strings.Contains(msg, "no such host"):
		return " (the name does not resolve: no network, or the address is wrong)"
	case strings.Contains(msg, "certificate") || strings.Contains(msg, "x509") || strings.Contains(msg, "handshake"):
		return " (its TLS certificate was not accepted: check the --ca file given to fieldwork login)"
	case strings.Contains(msg, "timeout") || strings.Contains(msg, "deadline"):
		return " (it did not answer in time)"
	case strings.Contains(msg, "network is unreachable"):
		return " (no network)"
	}
	return ""
}

// tokenReason is the server's reason ("token revoked", "token expired",
// "unknown token"), or a general one.
func tokenReason(err error) string {
	msg := "revoked, expired or unknown"
	if s, ok := status.FromError(err); ok {
		msg = s.Message()
	} else {
		// FromStatus's error: the innermost message is the server's.
		for e := err; e != nil; e = errors.Unwrap(e) {
			msg = e.Error()
		}
	}
	return msg
}
