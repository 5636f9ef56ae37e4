-- Second marking (0016) came beside retention (0017): a purge removes an
-- inspection's second markings, their history, conflicts, moderation
-- decisions and QA selections too. Marking history stays append-only
-- except within a purge, as answer history does (0017's purging table).
DROP TRIGGER marking_history_append_only_delete;
CREATE TRIGGER marking_history_append_only_delete BEFORE DELETE ON marking_history
WHEN NOT EXISTS (SELECT 1 FROM purging p JOIN cases c ON c.inspection_id = p.inspection_id WHERE c.id = OLD.case_id)
BEGIN SELECT RAISE(ABORT, 'marking history is append-only'); END;
