-- Kept counts by case attribute, beside question_counts, so that pooled
-- reports break every figure down by any attribute (--by) without reading
-- an answer. Kept current inside every write's transaction by the same
-- rule as question_counts (store/counts.go).
--
-- A row per inspection, declared attribute and the value cases have of it
-- ('' where a case has none): how many cases have it, and the answers that
-- count on those cases, packed by question and value in one text
-- ("question US value US n", joined by RS, sorted; only n != 0). Packed
-- because a national report sums them over every inspection: one row per
-- question and value made that 120,000 rows through SQLite per attribute,
-- ~200 ms; packed it is some 600 rows, summed in Go (BENCHMARKS.md).
CREATE TABLE breakdown_counts (
	inspection_id TEXT    NOT NULL,
	attribute     TEXT    NOT NULL,
	attr_value    TEXT    NOT NULL,
	cases         INTEGER NOT NULL,
	counts        TEXT    NOT NULL,
	PRIMARY KEY (inspection_id, attribute, attr_value)
) WITHOUT ROWID;

-- Which answers count is Go's rule (framework.NoLongerApplies), not SQL's:
-- store.Open backfills the table by its recount, once.
INSERT INTO pending_tasks (name) VALUES ('recount') ON CONFLICT DO NOTHING;
