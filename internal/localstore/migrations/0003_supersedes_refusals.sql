-- Each op lists the earlier edits of its answer still in the outbox when it
-- was made (comma-separated op_ids): the server supersedes only those.
ALTER TABLE outbox ADD COLUMN supersedes TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_by_answer ON outbox(inspection_id, case_ref, question_id);
-- The device id each op was made under: a store found restored or copied
-- takes a new device id for its next edits, and its queued ops keep theirs
-- (an op_id names one payload).
ALTER TABLE outbox ADD COLUMN device_id TEXT NOT NULL DEFAULT '';

-- A refused edit stays in front of its author until they record it again
-- or dismiss it: the note they typed is kept with the value.
ALTER TABLE rejected ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE rejected ADD COLUMN code TEXT NOT NULL DEFAULT '';
-- open, rerecorded (recorded again as op rerecorded_as) or dismissed; kept
-- either way, so the device's record of what was refused is whole.
ALTER TABLE rejected ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
ALTER TABLE rejected ADD COLUMN settled_at TEXT NOT NULL DEFAULT '';
ALTER TABLE rejected ADD COLUMN rerecorded_as TEXT NOT NULL DEFAULT '';
-- A dismissal is audited on the server: 1 once it has been sent there.
ALTER TABLE rejected ADD COLUMN dismissal_sent INTEGER NOT NULL DEFAULT 0;
