-- Outbox ops may resolve a conflict.
ALTER TABLE outbox ADD COLUMN conflict_id TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN resolution TEXT NOT NULL DEFAULT '';
