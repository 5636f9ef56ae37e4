-- The lead's written judgements (framework/written.go): the summary
-- judgement, each standard's strengths and areas for improvement, and the
-- recommendations. One row per item as it stands; every revision in
-- written_history (append-only), a withdrawal included, so nothing written
-- is ever lost. ord is the order of first creation within the inspection,
-- in which recommendations are numbered.
CREATE TABLE written_items (
	inspection_id TEXT    NOT NULL REFERENCES inspections(id),
	item_id       TEXT    NOT NULL, -- "summary", or a UUID made by the device
	kind          TEXT    NOT NULL, -- summary, strength, improvement, recommendation
	standard_id   TEXT    NOT NULL, -- a strength's or improvement's standard, else ''
	text          TEXT    NOT NULL,
	withdrawn     INTEGER NOT NULL,
	revision      INTEGER NOT NULL,
	ord           INTEGER NOT NULL,
	created_by    TEXT    NOT NULL,
	created_at    TEXT    NOT NULL,
	updated_by    TEXT    NOT NULL,
	device_id     TEXT    NOT NULL,
	updated_at    TEXT    NOT NULL,
	PRIMARY KEY (inspection_id, item_id)
) WITHOUT ROWID;

CREATE TABLE written_history (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	inspection_id TEXT    NOT NULL,
	item_id       TEXT    NOT NULL,
	revision      INTEGER NOT NULL,
	text          TEXT    NOT NULL,
	withdrawn     INTEGER NOT NULL,
	updated_by    TEXT    NOT NULL,
	device_id     TEXT    NOT NULL,
	updated_at    TEXT    NOT NULL,
	op_id         TEXT    -- NULL for an import
);
CREATE INDEX written_history_by_item ON written_history(inspection_id, item_id, revision);
CREATE TRIGGER written_history_append_only_update BEFORE UPDATE ON written_history
BEGIN SELECT RAISE(ABORT, 'written history is append-only'); END;
CREATE TRIGGER written_history_append_only_delete BEFORE DELETE ON written_history
BEGIN SELECT RAISE(ABORT, 'written history is append-only'); END;

-- A stale edit whose text differed: the server kept its text, and both are
-- kept here until the lead resolves it (docs/sync.md).
CREATE TABLE written_conflicts (
	id               TEXT    PRIMARY KEY,
	inspection_id    TEXT    NOT NULL,
	item_id          TEXT    NOT NULL,
	op_id            TEXT    NOT NULL,
	base_revision    INTEGER NOT NULL,
	server_revision  INTEGER NOT NULL,
	server_text      TEXT    NOT NULL,
	server_withdrawn INTEGER NOT NULL,
	client_text      TEXT    NOT NULL,
	client_withdrawn INTEGER NOT NULL,
	client_user      TEXT    NOT NULL,
	client_device    TEXT    NOT NULL,
	created_at       TEXT    NOT NULL,
	status           TEXT    NOT NULL,
	resolved_by      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX written_conflicts_by_op ON written_conflicts(op_id);
CREATE INDEX written_conflicts_by_item ON written_conflicts(inspection_id, item_id);
