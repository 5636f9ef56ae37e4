-- A case's status revision: how many deliberate status changes it has had
-- (SetCaseStatus and status ops; not the automatic first-answer move), and
-- the device of the last. A status op queued offline names the revision it
-- saw, so a submission made before QA returned the case cannot undo the
-- return unseen (docs/sync.md, "Case status ops").
ALTER TABLE cases ADD COLUMN status_rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN status_device TEXT NOT NULL DEFAULT '';
