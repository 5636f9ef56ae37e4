-- Retention (docs/retention.md): a published inspection's case-level
-- personal data can be purged (fieldworkd purge). Its report, as last
-- computed, is kept here, frozen: the encoded fieldwork.v1.Report, served
-- by GetReport and the exports from then on. No case-level data is in it
-- (the per-case sections are left out when it is frozen).
CREATE TABLE frozen_reports (
	inspection_id TEXT    PRIMARY KEY REFERENCES inspections(id),
	report        BLOB    NOT NULL,
	as_of_seq     INTEGER NOT NULL,
	purged_at     TEXT    NOT NULL,
	purged_by     TEXT    NOT NULL
);

-- The append-only tables stay append-only except within a purge: the
-- purge's transaction holds a row here (its inspection) while it removes
-- that inspection's history and redacts its audit rows, and deletes it
-- before committing, so no other transaction ever sees a row.
CREATE TABLE purging (
	inspection_id TEXT PRIMARY KEY
) WITHOUT ROWID;

DROP TRIGGER audit_append_only_update;
DROP TRIGGER audit_append_only_delete;
DROP TRIGGER answer_history_append_only_update;
DROP TRIGGER answer_history_append_only_delete;
DROP TRIGGER written_history_append_only_update;
DROP TRIGGER written_history_append_only_delete;
-- Audit rows are redacted, never deleted: who did what, when, stays.
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
WHEN NOT EXISTS (SELECT 1 FROM purging WHERE inspection_id = OLD.inspection_id)
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER answer_history_append_only_update BEFORE UPDATE ON answer_history
BEGIN SELECT RAISE(ABORT, 'answer history is append-only'); END;
CREATE TRIGGER answer_history_append_only_delete BEFORE DELETE ON answer_history
WHEN NOT EXISTS (SELECT 1 FROM purging p JOIN cases c ON c.inspection_id = p.inspection_id WHERE c.id = OLD.case_id)
BEGIN SELECT RAISE(ABORT, 'answer history is append-only'); END;
CREATE TRIGGER written_history_append_only_update BEFORE UPDATE ON written_history
BEGIN SELECT RAISE(ABORT, 'written history is append-only'); END;
CREATE TRIGGER written_history_append_only_delete BEFORE DELETE ON written_history
WHEN NOT EXISTS (SELECT 1 FROM purging WHERE inspection_id = OLD.inspection_id)
BEGIN SELECT RAISE(ABORT, 'written history is append-only'); END;
