package client

import (
	"context"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// StatusChange is what SetCaseStatus did: the case as the server now has
// it, and Unrefreshed, the error of the sync after the change if that
// failed (the status is changed on the server; this laptop shows the old
// one until the next sync).
type StatusChange struct {
	Case        framework.Case
	Unrefreshed error
}

// SyncFirstError is SetCaseStatus failing to send this laptop's unsynced
// answers before asking: the status was not changed, and the answers are
// kept here.
type SyncFirstError struct{ Err error }

func (e *SyncFirstError) Error() string { return "sync before changing status: " + e.Err.Error() }
func (e *SyncFirstError) Unwrap() error { return e.Err }

// SetCaseStatus moves a case to status (submitting it is
// framework.CaseSubmitted); reason is audited and needed to move a case
// back. The server judges a submission's completeness on the answers it
// holds, so unsynced answers are pushed first; the sync afterwards brings
// the new status (and anything else) to this laptop. The call itself is
// bounded by CallTimeout, the syncs by ctx.
func (c *Client) SetCaseStatus(ctx context.Context, inspectionID, caseRef string, status framework.CaseStatus, reason string) (StatusChange, error) {
	if c.off == nil {
		return StatusChange{}, errNoStore
	}
	if n, _ := c.off.PendingCount(ctx); n > 0 {
		if _, err := c.Sync(ctx); err != nil {
			return StatusChange{}, &SyncFirstError{Err: err}
		}
	}
	rctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	cs, err := c.setCaseStatus(rctx, inspectionID, caseRef, status, reason)
	if err != nil {
		return StatusChange{}, err
	}
	_, err = c.Sync(ctx)
	return StatusChange{Case: cs, Unrefreshed: err}, nil
}
