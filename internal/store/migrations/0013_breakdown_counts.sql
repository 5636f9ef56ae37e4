-- Kept counts by case attribute, beside question_counts, so that pooled
-- reports break every figure down by any attribute (--by) from a few
-- thousand rows instead of every answer. Both are kept current inside
-- every write's transaction by the same rule (store/counts.go).
--
-- breakdown_counts: the answers that count, by inspection, attribute,
-- the attribute's value on the case ('' where the case has none),
-- question and value. Every declared attribute of the framework.
CREATE TABLE breakdown_counts (
	inspection_id TEXT    NOT NULL,
	attribute     TEXT    NOT NULL,
	attr_value    TEXT    NOT NULL,
	question_id   TEXT    NOT NULL,
	value         TEXT    NOT NULL,
	n             INTEGER NOT NULL,
	PRIMARY KEY (inspection_id, attribute, attr_value, question_id, value)
) WITHOUT ROWID;

-- attribute_counts: the cases of each value of every declared attribute,
-- by inspection (a breakdown's columns and the sample profile).
CREATE TABLE attribute_counts (
	inspection_id TEXT    NOT NULL,
	attribute     TEXT    NOT NULL,
	value         TEXT    NOT NULL,
	n             INTEGER NOT NULL,
	PRIMARY KEY (inspection_id, attribute, value)
) WITHOUT ROWID;

-- Which answers count is Go's rule (framework.NoLongerApplies), not SQL's:
-- store.Open backfills both tables by its recount, once.
INSERT INTO pending_tasks (name) VALUES ('recount') ON CONFLICT DO NOTHING;
