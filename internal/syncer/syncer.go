// Package syncer holds the sync protocol's rules, shared by client and
// server and testable without a network or a database.
package syncer

// Outcome is what applying a write to the current answer does.
type Outcome int

// Outcomes of Decide.
const (
	// Apply: the write is based on the current revision; store it as the next revision.
	Apply Outcome = iota + 1
	// Converge: the value and note are already current; store nothing, report applied.
	Converge
	// Conflict: the write is based on a stale revision and differs; keep the server's value.
	Conflict
)

// Current is the server's current answer, if any.
type Current struct {
	Exists   bool
	Value    string
	Note     string
	Revision int64
}

// Decide applies the rule "never lose, never silently overwrite": a write
// wins only if it was made on top of the current revision. A stale write
// that says the same thing converges; one that differs is a conflict.
// Clocks play no part.
func Decide(cur Current, baseRevision int64, value, note string) Outcome {
	if cur.Exists && cur.Value == value && cur.Note == note {
		return Converge
	}
	if cur.Revision == baseRevision {
		return Apply
	}
	return Conflict
}
