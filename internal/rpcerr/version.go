package rpcerr

import (
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// tooOldReason marks the status by which a server refuses a client older
// than it serves, so a client tells it from any other FailedPrecondition
// (a locked inspection) by its detail, not by its words.
const tooOldReason = "CLIENT_TOO_OLD"

// ClientTooOld is the server's refusal of a client whose protocol (got; 0
// for a client that sends none, v0.3.0 and earlier) is below the oldest it
// serves (min, first in release minRelease). Its message is the whole
// explanation on its own, for a client too old to know this status: such
// a client prints the server's message as it is.
func ClientTooOld(min int, minRelease string, got int, gotRelease string) error {
	msg := fmt.Sprintf("update fieldwork: this server needs fieldwork %s or later (protocol %d); this laptop runs %s (protocol %d)"+
		"; nothing was sent or changed, and your answers are kept on this laptop until you sync with the updated fieldwork", minRelease, min, gotRelease, got)
	if got == 0 {
		msg = fmt.Sprintf("update fieldwork: this server needs fieldwork %s or later (protocol %d); this laptop runs fieldwork %s or earlier"+
			"; nothing was sent or changed, and your answers are kept on this laptop until you sync with the updated fieldwork", minRelease, min, gotRelease)
	}
	st, err := status.New(codes.FailedPrecondition, msg).WithDetails(&errdetails.ErrorInfo{
		Reason: tooOldReason, Domain: "fieldwork",
		Metadata: map[string]string{"min_protocol": strconv.Itoa(min), "min_release": minRelease},
	})
	if err != nil {
		return status.Error(codes.FailedPrecondition, msg)
	}
	return st.Err()
}

// UpdateError is a server's refusal of this client as too old, as
// FromStatus returns it: a FailedPrecondition (framework.CodePrecondition)
// that also says which release the server needs.
type UpdateError struct {
	MinProtocol int
	MinRelease  string
	err         error // the framework error with the server's message
}

func (e *UpdateError) Error() string { return e.err.Error() }
func (e *UpdateError) Unwrap() error { return e.err }

// UpdateNeeded returns the server's refusal of this client as too old, if
// err (wrapped or not, a status or what FromStatus made of it) is one.
func UpdateNeeded(err error) (*UpdateError, bool) {
	var ue *UpdateError
	if errors.As(err, &ue) {
		return ue, true
	}
	s, ok := status.FromError(err)
	if !ok || s.Code() != codes.FailedPrecondition {
		return nil, false
	}
	for _, d := range s.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == tooOldReason && info.GetDomain() == "fieldwork" {
			min, _ := strconv.Atoi(info.GetMetadata()["min_protocol"])
			return &UpdateError{MinProtocol: min, MinRelease: info.GetMetadata()["min_release"],
				err: framework.Errorf(framework.CodePrecondition, "%s", s.Message())}, true
		}
	}
	return nil, false
}
