-- Which answer each op wrote, so an op that arrives after a later op from
-- the same device can be recognised as superseded.
ALTER TABLE ops_applied ADD COLUMN case_id TEXT;
ALTER TABLE ops_applied ADD COLUMN question_id TEXT;
CREATE INDEX ops_applied_by_answer ON ops_applied(case_id, question_id, device_id);
