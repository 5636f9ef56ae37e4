package rpcerr

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Every fieldwork code survives the trip server → status → client, message
// and all, also when wrapped; an error without a code is internal and its
// text (SQL, paths) is not sent; cancellation keeps its own codes.
func TestRoundTrip(t *testing.T) {
	for _, fc := range framework.Codes() {
		gc, ok := toGRPC[fc]
		if !ok {
			t.Errorf("code %s has no gRPC code: it would reach clients as an internal error", fc)
			continue
		}
		err := fmt.Errorf("case T-1: %w", framework.Errorf(fc, "the reason"))
		st := ToStatus(err)
		if status.Code(st) != gc || Code(err) != gc {
			t.Errorf("%s: status code %v, Code %v; want %v", fc, status.Code(st), Code(err), gc)
		}
		back := FromStatus(st)
		if framework.ErrorCode(back) != fc || back.Error() != "case T-1: the reason" {
			t.Errorf("%s: back as %q (%s), want the same code and message", fc, back, framework.ErrorCode(back))
		}
		if again := FromCode(gc, "m"); framework.ErrorCode(again) != fc || again.Error() != "m" {
			t.Errorf("%s: FromCode = %v", fc, again)
		}
		if IsInternal(err) {
			t.Errorf("%s: IsInternal, want not", fc)
		}
	}
	secret := errors.New("sqlite: no such table users at /var/lib/fieldwork.db")
	st := ToStatus(secret)
	if status.Code(st) != codes.Internal || status.Convert(st).Message() != "internal error" || !IsInternal(secret) {
		t.Errorf("an uncoded error became %v (internal %v), want Internal with no detail", st, IsInternal(secret))
	}
	for _, e := range []error{context.Canceled, context.DeadlineExceeded} {
		if c := status.Code(ToStatus(fmt.Errorf("push: %w", e))); c != status.FromContextError(e).Code() || IsInternal(e) {
			t.Errorf("%v became %v", e, c)
		}
	}
	if ToStatus(nil) != nil || FromCode(codes.OK, "") != nil || Code(nil) != codes.OK {
		t.Error("nil and OK must stay nil and OK")
	}
	plain := status.Error(codes.Unavailable, "connection refused")
	if FromStatus(plain) != plain || ToStatus(plain) != plain {
		t.Error("a status with no fieldwork code passes through unchanged")
	}
}

// The transport's failures are told apart from the server's refusals, also
// when wrapped by the command that met them.
func TestUnreachableAndUnauthenticated(t *testing.T) {
	down := fmt.Errorf("push: %w", status.Error(codes.Unavailable, "connection error: desc = \"transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused\""))
	if !Unreachable(down) || Unauthenticated(down) {
		t.Errorf("Unavailable: Unreachable %v, Unauthenticated %v", Unreachable(down), Unauthenticated(down))
	}
	revoked := fmt.Errorf("sync: %w", FromStatus(status.Error(codes.Unauthenticated, "token revoked")))
	if Unreachable(revoked) || !Unauthenticated(revoked) {
		t.Errorf("Unauthenticated: Unreachable %v, Unauthenticated %v", Unreachable(revoked), Unauthenticated(revoked))
	}
	for _, err := range []error{
		status.Error(codes.PermissionDenied, "not on the team"),
		FromStatus(status.Error(codes.FailedPrecondition, "locked")),
		errors.New("disk full"),
		nil,
	} {
		if Unreachable(err) || Unauthenticated(err) {
			t.Errorf("%v: Unreachable %v, Unauthenticated %v; want neither", err, Unreachable(err), Unauthenticated(err))
		}
	}
}
