-- An op_id names one payload forever (DESIGN: sync). Each op record keeps a
-- fingerprint of the payload it was applied with (framework.OpPayload), so
-- that a re-sent op_id with another payload is refused instead of being
-- answered as a duplicate. NULL for records made before this migration,
-- which are compared field by field instead.
ALTER TABLE ops_applied ADD COLUMN payload INTEGER;
ALTER TABLE answer_history ADD COLUMN payload INTEGER;
-- A refusal's code (framework.Code), so a re-sent op is refused with the
-- same code as the first time, not only the same words.
ALTER TABLE ops_applied ADD COLUMN code TEXT;

DROP VIEW op_records;
CREATE VIEW op_records AS
SELECT op_id, result, revision, reason, conflict_id, user_name, device_id, device_seq, applied_at, case_id, question_id, payload, code
FROM ops_applied
UNION ALL
SELECT op_id, 1, revision, '', NULL, updated_by, device_id, device_seq, updated_at, case_id, question_id, payload, NULL
FROM answer_history WHERE op_id IS NOT NULL AND device_seq IS NOT NULL;

-- "Superseded" names ops, not counters: an op lists the earlier edits of
-- the same answer still unsent on its device when it was made, and once it
-- is applied each of them is superseded by it. A restored or copied store
-- makes new op_ids, which no applied op has named, so its new edits are
-- applied or become conflicts, never superseded (docs/sync.md).
CREATE TABLE supersessions (
	op_id       TEXT PRIMARY KEY, -- the earlier edit
	by_op_id    TEXT NOT NULL,    -- the applied later edit that named it
	user_name   TEXT NOT NULL,    -- who, from which device, on which answer:
	device_id   TEXT NOT NULL,    -- an op is superseded only by its own
	case_id     TEXT NOT NULL,    -- device's edit of the same answer
	question_id TEXT NOT NULL
) WITHOUT ROWID;

-- Refused ops their authors dismissed (SyncService.DismissRefusals): each
-- is audited once, however often its dismissal is sent.
CREATE TABLE dismissals (
	op_id TEXT PRIMARY KEY
) WITHOUT ROWID;
