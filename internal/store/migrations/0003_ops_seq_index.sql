-- The superseded-op check reads max(device_seq) for one answer, device and
-- user among applied ops: make that a single index seek.
DROP INDEX ops_applied_by_answer;
CREATE INDEX ops_applied_by_answer ON ops_applied(case_id, question_id, device_id, user_name, result, device_seq);
