-- Case status ops (framework.CaseStatusOp): a submission made offline waits
-- in the outbox like an answer op, with question_id '' and case_status its
-- JSON ({"Status", "Reason", "From"}: From is the case's status on this
-- laptop when it was queued, shown again if the server refuses it).
ALTER TABLE outbox ADD COLUMN case_status TEXT NOT NULL DEFAULT '';

-- What a refused edit was: an answer, or a case status change (then
-- question_id is '', value the status asked for and note its reason).
ALTER TABLE rejected ADD COLUMN kind TEXT NOT NULL DEFAULT 'answer';
