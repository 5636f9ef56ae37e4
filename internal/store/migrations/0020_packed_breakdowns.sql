-- Kept counts by attribute packed by question position in a blob
-- (store/packed.go) instead of "question value n" text: a national report
-- with breakdowns read 2.7 KB rows on overflow pages and inserted a map
-- item per count; the blob is some 300 bytes, summed as arrays.
--
-- The text rows are kept aside for store.Open to repack in Go (the
-- 'repack_breakdowns' task, which needs each inspection's framework for
-- the positions) and then dropped: no answer is read, so an upgrade takes
-- seconds, not a recount.
ALTER TABLE breakdown_counts RENAME TO breakdown_counts_text;

CREATE TABLE breakdown_counts (
	inspection_id TEXT NOT NULL,
	attribute     TEXT NOT NULL,
	attr_value    TEXT NOT NULL,
	counts        BLOB NOT NULL,
	PRIMARY KEY (inspection_id, attribute, attr_value)
) WITHOUT ROWID;

INSERT INTO pending_tasks (name) VALUES ('repack_breakdowns') ON CONFLICT DO NOTHING;
