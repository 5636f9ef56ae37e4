package syncer

import "github.com/fieldworkhq/fieldwork/internal/framework"

// LogMark is what the server's change log holds at a pull cursor: the
// token of the last change at or before Seq (0 when none), and the log's
// highest seq.
type LogMark struct {
	Seq, Token, Max int64
}

// Diverged reports whether a laptop that pulled up to cursor after, whose
// last pulled page named the change there by token, pulled from another
// history than the one the server now holds: the server was restored
// from an earlier copy (a backup, a replica, any file copy). Its log then
// ends before the cursor, or holds other changes under the same seq
// numbers, each with a random token of its own. Either way the laptop's
// cursor means nothing here any more: pulling on from it would skip the
// changes whose seq numbers were used again. A token of 0 is a cursor
// from before tokens (an older client): only the end of the log is
// checked for it.
func Diverged(after, token int64, at LogMark) bool {
	if after <= 0 {
		return false
	}
	if after > at.Max {
		return true
	}
	return token != 0 && at.Token != token
}

// Resend decides, after a restored server was found and the laptop pulled
// everything again, whether an answer this user had settled (mine: the
// value the server had acknowledged, with the server's time) must be sent
// again, and on which base revision. server is the answer the restored
// server holds now (nil: none).
//
//   - The server holds mine (same value and note): nothing to send.
//   - The server holds no answer: a first write, on base 0.
//   - The server's answer was written after mine (by the server's clock, the
//     one clock both times come from): someone changed it since mine was
//     lost, so mine must not replace it unseen. The base is the revision
//     before the server's, which Decide finds stale: the server keeps its
//     value and records a conflict with both (or converges).
//   - Otherwise the server holds a value mine had already replaced: mine goes
//     on the server's current revision and applies.
//
// Revision numbers are no guide here: a restored server numbers revisions
// again from where its copy stopped, so a revision the laptop saw may now
// name another value.
func Resend(mine framework.Answer, server *framework.Answer) (base int64, send bool) {
	switch {
	case server == nil:
		return 0, true
	case server.Value == mine.Value && server.Note == mine.Note:
		return 0, false
	case server.UpdatedAt.After(mine.UpdatedAt):
		return max(server.Revision-1, 0), true
	default:
		return server.Revision, true
	}
}

// Rebase is the base revision for an edit still queued on the laptop when
// a restored server was found, given the revision of the answer the
// restored server holds (0: none). The queued edit's own base named a
// revision of the lost history, which the restored server may since have
// issued again for another value: sent on it, the edit could replace that
// value unseen. Rebased on the revision before the server's, it applies
// only where Decide finds that revision written by this same device and
// user (its own edit the server kept); over anyone else's value it becomes
// a conflict (or converges), never a silent replacement. With no answer on
// the server it is a first write.
func Rebase(serverRevision int64) int64 {
	return max(serverRevision-1, 0)
}
