-- Written judgements (framework/written.go), recorded offline like answers.
-- A written op waits in the outbox like an answer op, with case_ref '' and
-- question_id the item's id (so an item's earlier unsent edits are found
-- as an answer's are); written holds its framework.WrittenOp as JSON.
ALTER TABLE outbox ADD COLUMN written TEXT NOT NULL DEFAULT '';

-- The local view of each item: revision is the last server revision seen
-- (the base of the next edit), ord the server's order of first creation
-- (0 until the server has it), pending the edits not yet acknowledged.
CREATE TABLE written_items (
	inspection_id TEXT    NOT NULL,
	item_id       TEXT    NOT NULL,
	kind          TEXT    NOT NULL,
	standard_id   TEXT    NOT NULL,
	text          TEXT    NOT NULL,
	withdrawn     INTEGER NOT NULL,
	revision      INTEGER NOT NULL,
	ord           INTEGER NOT NULL,
	created_by    TEXT    NOT NULL,
	created_at    TEXT    NOT NULL,
	updated_by    TEXT    NOT NULL,
	updated_at    TEXT    NOT NULL,
	pending       INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (inspection_id, item_id)
);

-- Conflicts the server reported on this device's written edits: both texts
-- kept (body: framework.WrittenConflict as JSON) until the lead resolves.
CREATE TABLE written_conflicts (
	id            TEXT PRIMARY KEY,
	inspection_id TEXT NOT NULL,
	item_id       TEXT NOT NULL,
	status        TEXT NOT NULL, -- open, resolving, resolved
	body          TEXT NOT NULL
);

-- Written edits the server refused, kept whole (body: the WrittenOp as
-- JSON) so that nothing typed is lost.
CREATE TABLE written_refused (
	op_id         TEXT PRIMARY KEY,
	inspection_id TEXT NOT NULL,
	item_id       TEXT NOT NULL,
	body          TEXT NOT NULL,
	reason        TEXT NOT NULL,
	code          TEXT NOT NULL,
	at            TEXT NOT NULL,
	status        TEXT NOT NULL DEFAULT 'open' -- open or dismissed (kept either way)
);
