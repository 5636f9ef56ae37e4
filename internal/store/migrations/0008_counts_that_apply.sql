-- Kept counts leave out answers whose question no longer applies to their
-- case (framework's Question.Counts); the counts kept before this version
-- were of every answer. That rule is Go's, not SQL's, so this migration
-- only asks for a recount, which store.Open runs once and clears.
CREATE TABLE pending_tasks (name TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT INTO pending_tasks (name) VALUES ('recount');
