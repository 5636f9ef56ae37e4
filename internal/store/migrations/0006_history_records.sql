-- A push writes one row per answer version from Go (BENCHMARKS.md: binding
-- values through cgo costs more than SQLite's own work per row), and the
-- history row is also the op record and the audit payload of that version:
--   * device_seq: the device sequence of the op that wrote the version
--     (NULL for imports, server-side writes made before this migration, and
--     versions written before it, whose op records stay in ops_applied);
--   * op_records: every op's recorded result, from ops_applied (ops that
--     wrote nothing, and ops before this migration) and from the history
--     rows of ops that wrote a version;
--   * audit.history_id: an "answer.write" audit row points at the version it
--     records instead of copying it; audit_trail shows every audit row whole.
ALTER TABLE answer_history ADD COLUMN device_seq INTEGER;
CREATE UNIQUE INDEX answer_history_by_op ON answer_history(op_id) WHERE op_id IS NOT NULL;
CREATE TRIGGER answer_history_append_only_update BEFORE UPDATE ON answer_history
BEGIN SELECT RAISE(ABORT, 'answer history is append-only'); END;
CREATE TRIGGER answer_history_append_only_delete BEFORE DELETE ON answer_history
BEGIN SELECT RAISE(ABORT, 'answer history is append-only'); END;

CREATE VIEW op_records AS
SELECT op_id, result, revision, reason, conflict_id, user_name, device_id, device_seq, applied_at, case_id, question_id
FROM ops_applied
UNION ALL
SELECT op_id, 1, revision, '', NULL, updated_by, device_id, device_seq, updated_at, case_id, question_id
FROM answer_history WHERE op_id IS NOT NULL AND device_seq IS NOT NULL;

ALTER TABLE audit ADD COLUMN history_id INTEGER;
CREATE VIEW audit_trail AS
SELECT a.seq, a.inspection_id, a.action,
	CASE WHEN a.history_id IS NULL THEN a.at ELSE h.updated_at END AS at,
	CASE WHEN a.history_id IS NULL THEN a.user_name ELSE h.updated_by END AS user_name,
	CASE WHEN a.history_id IS NULL THEN a.device_id ELSE h.device_id END AS device_id,
	CASE WHEN a.history_id IS NULL THEN a.entity ELSE 'case/' || c.inspection_id || '/' || c.case_ref || '/' || h.question_id END AS entity,
	CASE WHEN a.history_id IS NULL THEN a.before ELSE (
		SELECT json_object('note', p.note, 'revision', p.revision, 'value', p.value) FROM answer_history p
		WHERE p.case_id = h.case_id AND p.question_id = h.question_id AND p.revision = h.revision - 1 ORDER BY p.id DESC LIMIT 1) END AS before,
	CASE WHEN a.history_id IS NULL THEN a.after
		ELSE json_object('note', h.note, 'op_id', coalesce(h.op_id, ''), 'revision', h.revision, 'value', h.value) END AS after
FROM audit a LEFT JOIN answer_history h ON h.id = a.history_id LEFT JOIN cases c ON c.id = h.case_id;
