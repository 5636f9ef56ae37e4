-- Per-inspection, per-question answer counts, kept current inside every
-- answer write, so pooled reports over millions of answers read a few
-- thousand rows instead of every answer. `fieldworkd recount` checks them
-- against a full recount.
CREATE TABLE question_counts (
	inspection_id TEXT    NOT NULL,
	question_id   TEXT    NOT NULL,
	value         TEXT    NOT NULL,
	n             INTEGER NOT NULL,
	PRIMARY KEY (inspection_id, question_id, value)
) WITHOUT ROWID;

INSERT INTO question_counts (inspection_id, question_id, value, n)
SELECT c.inspection_id, a.question_id, a.value, count(*)
FROM answers a JOIN cases c ON c.id = a.case_id
GROUP BY c.inspection_id, a.question_id, a.value;
