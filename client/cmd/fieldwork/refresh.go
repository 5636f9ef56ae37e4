package main

import (
	"context"

	"github.com/fieldworkhq/fieldwork/client"
	"github.com/fieldworkhq/fieldwork/internal/rpcerr"
	"github.com/fieldworkhq/fieldwork/internal/termsafe"
)

// change runs fn, an online command that changes something on the server
// (a lock, an unlock, an import, a judgement, the team), and then
// refreshes this laptop's copy with a pull: without it the copy says what
// the server said before the change until the next sync, so the next
// answer is refused ("inspection is locked" after an unlock) and
// conflicts shows what is no longer so.
func (a *app) change(fn func(ctx context.Context, c *client.Client) error) error {
	c, done, err := a.online()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := a.rpcCtx()
	err = fn(ctx, c)
	cancel()
	switch {
	case err == nil:
		a.refresh(c)
	case !rpcerr.Unreachable(err) && !rpcerr.Unauthenticated(err):
		// A refusal may follow a part that was made (an import's cases
		// before its refused answers): the copy is refreshed all the same,
		// quietly, as the command's own error is what is shown.
		pctx, cancel := context.WithTimeout(a.ctx, client.CallTimeout)
		c.Pull(pctx)
		cancel()
	}
	return err
}

// refresh pulls what changed on the server into this laptop's copy. The
// change itself is made, so a failed pull is not the command's failure: it
// says the copy may be stale and how to bring it up to date.
func (a *app) refresh(c *client.Client) {
	ctx, cancel := context.WithTimeout(a.ctx, client.CallTimeout)
	defer cancel()
	if _, err := c.Pull(ctx); err != nil {
		a.staleNote(err)
	}
}

// staleNote says, on stderr, that the change is made on the server but
// this laptop's copy was not refreshed, and why in words (the transport's
// text is not shown, as in explain).
func (a *app) staleNote(err error) {
	why := err.Error()
	switch {
	case rpcerr.Unreachable(err):
		why = "the server could not be reached" + unreachableCause(err)
	case rpcerr.Unauthenticated(err):
		why = "the server refused this laptop's token (" + tokenReason(err) + ")"
	}
	termsafe.Fprintf(a.stderr, "note: the change is made on the server, but this laptop's copy could not be refreshed: %s.\n"+
		"It may be stale (an answer may be refused here, conflicts may be out of date) until you run: fieldwork sync\n", why)
}
