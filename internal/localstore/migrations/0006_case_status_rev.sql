-- The case's status revision as last pulled (framework.Case.StatusRevision):
-- the base a status op queued here names.
ALTER TABLE cases ADD COLUMN status_rev INTEGER NOT NULL DEFAULT 0;
