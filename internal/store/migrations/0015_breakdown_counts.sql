-- Kept counts by case attribute, beside question_counts, so that pooled
-- reports break every figure down by any attribute (--by) without reading
-- an answer. Kept current inside every write's transaction by the same
-- rule as question_counts (store/counts.go).
--
-- breakdown_counts: a row per inspection, declared attribute and the
-- value cases have of it ('' where a case has none): the answers that
-- count on those cases, packed by question and value in one text
-- ("question US value US n", joined by RS, sorted; only n != 0). Packed
-- because a national report sums them over every inspection: one row per
-- question and value made that 120,000 rows through SQLite per attribute,
-- ~200 ms; packed it is some 600 rows, summed in Go (BENCHMARKS.md).
CREATE TABLE breakdown_counts (
	inspection_id TEXT    NOT NULL,
	attribute     TEXT    NOT NULL,
	attr_value    TEXT    NOT NULL,
	counts        TEXT    NOT NULL,
	PRIMARY KEY (inspection_id, attribute, attr_value)
) WITHOUT ROWID;

-- attribute_counts: the cases with each value of every declared attribute,
-- by inspection (a breakdown's columns, the profile, the case count), in
-- a table of small rows of its own: read for every pooled report.
CREATE TABLE attribute_counts (
	inspection_id TEXT    NOT NULL,
	attribute     TEXT    NOT NULL,
	value         TEXT    NOT NULL,
	n             INTEGER NOT NULL,
	PRIMARY KEY (inspection_id, attribute, value)
) WITHOUT ROWID;

-- Which answers count is Go's rule (framework.NoLongerApplies), not SQL's:
-- store.Open backfills the table by its recount, once.
INSERT INTO pending_tasks (name) VALUES ('recount') ON CONFLICT DO NOTHING;
