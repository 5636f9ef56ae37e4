// Package rpcerr is the one translation between fieldwork's error codes
// (framework.Code) and gRPC status codes, used by the server to answer and
// by the client to turn a status back into the same error.
package rpcerr

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

var toGRPC = map[framework.Code]codes.Code{
	framework.CodeInvalid:      codes.InvalidArgument,
	framework.CodeNotFound:     codes.NotFound,
	framework.CodeExists:       codes.AlreadyExists,
	framework.CodePrecondition: codes.FailedPrecondition,
	framework.CodeConflict:     codes.Aborted,
	framework.CodePermission:   codes.PermissionDenied,
	framework.CodeUnauthorized: codes.Unauthenticated,
}

// ToStatus maps an error to a gRPC status error. Errors without a
// fieldwork code are internal: their text (which may hold SQL or paths)
// is not sent; the caller logs it.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if c, ok := toGRPC[framework.ErrorCode(err)]; ok {
		return status.Error(c, err.Error())
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	return status.Error(codes.Internal, "internal error")
}

// IsInternal reports whether ToStatus would hide err's text.
func IsInternal(err error) bool {
	return framework.ErrorCode(err) == "" && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// FromStatus turns a gRPC status error back into a framework error with
// the same code and the server's message, so callers use
// framework.ErrorCode instead of inspecting gRPC codes.
func FromStatus(err error) error {
	s, ok := status.FromError(err)
	if !ok || s.Code() == codes.OK {
		return err
	}
	if ue, ok := UpdateNeeded(err); ok {
		return ue
	}
	for fc, gc := range toGRPC {
		if gc == s.Code() {
			return framework.Errorf(fc, "%s", s.Message())
		}
	}
	return err
}

// Code is the gRPC code ToStatus would give err (codes.Internal for an
// error without a fieldwork code), for errors carried inside a message,
// such as a refused op's ack.
func Code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	return status.Code(ToStatus(err))
}

// FromCode is FromStatus for a code and message carried inside a message.
func FromCode(c codes.Code, msg string) error {
	if c == codes.OK {
		return nil
	}
	return FromStatus(status.Error(c, msg))
}

// Unreachable reports whether err (wrapped or not) is the transport's
// "no server answered": the client could not connect, or lost the
// connection. Nothing was refused, so what the client holds is intact and
// the same call can be made again later.
func Unreachable(err error) bool {
	s, ok := status.FromError(err)
	return ok && s.Code() == codes.Unavailable
}

// Unauthenticated reports whether the server refused the caller's token
// (unknown, revoked or expired), as a status or as the framework error
// FromStatus made of it.
func Unauthenticated(err error) bool {
	if s, ok := status.FromError(err); ok && s.Code() == codes.Unauthenticated {
		return true
	}
	return framework.ErrorCode(err) == framework.CodeUnauthorized
}
