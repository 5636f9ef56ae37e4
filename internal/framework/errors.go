package framework

import (
	"errors"
	"fmt"
)

// Code classifies an error for callers; the gRPC edge maps each code to a
// status code in one table (internal/rpcerr).
type Code string

// Error codes. Anything not carrying one of these is an internal error.
const (
	CodeInvalid      Code = "invalid"        // bad input: unknown id, value not allowed, malformed file
	CodeNotFound     Code = "not_found"      // the named inspection, case or framework does not exist
	CodeExists       Code = "already_exists" // a create named something that already exists
	CodePrecondition Code = "failed_precondition"
	CodeConflict     Code = "conflict" // a write based on a stale revision
	CodePermission   Code = "permission_denied"
	CodeUnauthorized Code = "unauthenticated"
)

// Codes lists every error code, for the tables that must map each one
// (rpcerr's gRPC codes, the live view's HTTP statuses) to test against.
func Codes() []Code {
	return []Code{CodeInvalid, CodeNotFound, CodeExists, CodePrecondition, CodeConflict, CodePermission, CodeUnauthorized}
}

// Error is an error the user can act on: its message names the offending
// field, row or question.
type Error struct {
	Code    Code
	Message string
	rows    *RowErrors // the problems of a file the message lists (RowProblemsOf)
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or "" if
// there is none (an internal error).
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
