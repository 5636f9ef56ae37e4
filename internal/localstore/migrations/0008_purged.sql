-- An inspection purged on the server (docs/retention.md): the laptop drops
-- everything of it but its row (status purged) and keeps this notice, so
-- the next command can say so, with how many edits made here went with it.
CREATE TABLE purge_notices (
	inspection_id TEXT    PRIMARY KEY,
	name          TEXT    NOT NULL,
	dropped_edits INTEGER NOT NULL,
	dropped_at    TEXT    NOT NULL,
	told          INTEGER NOT NULL DEFAULT 0
);
