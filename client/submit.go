package client

import (
	"context"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Queued is what QueueCaseStatus did: the op queued and, if the client
// could sync at once, what the server made of it.
type Queued struct {
	Op framework.Op
	// Unsent is why the op is still in the outbox (ErrOffline without a
	// server, else the failed sync's error): it is sent on the next sync.
	Unsent error
	// Refused is the server's refusal of the op (kept on this laptop and
	// listed by Offline.Rejections until its author acts), nil otherwise.
	Refused *Rejection
	// Case is the case as this laptop shows it afterwards.
	Case framework.Case
}

// QueueCaseStatus moves a case to another status the offline way, which
// is also the way online: checked here by the server's rule, queued in the
// outbox as a status op, then, with a server, sent by a sync at once in
// the same push as any unsynced answers (which the server applies first,
// in order). A refusal here queues nothing; a refusal by the server is
// kept like a refused answer.
func (c *Client) QueueCaseStatus(ctx context.Context, user, inspectionID, caseRef string, to framework.CaseStatus, reason string) (Queued, error) {
	if c.off == nil {
		return Queued{}, errNoStore
	}
	op, err := c.off.QueueCaseStatus(ctx, user, inspectionID, caseRef, to, reason)
	if err != nil {
		return Queued{}, err
	}
	q := Queued{Op: op}
	if !c.Online() {
		q.Unsent = ErrOffline
	} else if _, err := c.Sync(ctx); err != nil {
		// Sent unless still queued (the push may have gone through and the
		// pull after it failed).
		if st, qerr := c.off.QueuedCaseStatus(ctx, inspectionID, caseRef); qerr != nil || st != "" {
			q.Unsent = err
		}
	}
	if rs, err := c.off.Rejections(ctx); err == nil {
		for i := range rs {
			if rs[i].OpID == op.ID {
				q.Refused = &rs[i]
			}
		}
	}
	cases, err := c.off.Cases(ctx, inspectionID)
	if err != nil {
		return q, nil // the op's fate is known; the case may have been withdrawn
	}
	for _, k := range cases {
		if k.Ref == caseRef {
			q.Case = k
		}
	}
	return q, nil
}
