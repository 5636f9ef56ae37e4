package store

import (
	"context"
	"database/sql"
	"fmt"
)

// InspectorAmendments is, for one inspector, how many answers on their
// cases stood when each case was first submitted, and how many of those a
// QA or lead user later changed to another value.
type InspectorAmendments struct {
	Inspector          string
	Submitted, Amended int
}

// qaAmendments reads the answer history in the audit trail's order (the
// audit row of each version, and the case.status rows, share one
// sequence): a case's first submission is its first case.status entry to
// submitted; an answer's submitted value is its last version audited
// before that; it is amended when a later version by a user who is QA or
// lead on the team, or an administrator, other than the case's inspector
// (a lead or QA who inspects cases of their own corrects them, not QA),
// has another value. A changed note alone is not an amendment. Versions written before the audit pointed at
// the history (migration 0006) are not seen.
const qaAmendments = `
WITH submitted AS (
	SELECT c.id AS case_id, c.inspector, min(a.seq) AS at_seq
	FROM audit a JOIN cases c ON c.inspection_id = ?1 AND a.entity = 'case/' || c.inspection_id || '/' || c.case_ref
	WHERE a.inspection_id = ?1 AND a.action = 'case.status' AND json_extract(a.after, '$.status') = 'submitted'
	GROUP BY c.id
),
versions AS MATERIALIZED (
	SELECT h.case_id, h.question_id, h.value, h.updated_by, a.seq
	FROM audit a JOIN answer_history h ON h.id = a.history_id
	WHERE a.inspection_id = ?1 AND a.action = 'answer.write'
),
at_submission AS MATERIALIZED (
	SELECT case_id, inspector, at_seq, question_id, value FROM (
		SELECT s.case_id, s.inspector, s.at_seq, v.question_id, v.value,
			row_number() OVER (PARTITION BY v.case_id, v.question_id ORDER BY v.seq DESC) AS rn
		FROM submitted s JOIN versions v ON v.case_id = s.case_id AND v.seq < s.at_seq)
	WHERE rn = 1
),
amenders AS (
	SELECT user_name AS name FROM team WHERE inspection_id = ?1 AND role IN ('qa', 'lead')
	UNION SELECT name FROM users WHERE admin = 1
),
amended AS (
	SELECT DISTINCT s.case_id, s.question_id
	FROM at_submission s
	JOIN versions v ON v.case_id = s.case_id AND v.question_id = s.question_id AND v.seq > s.at_seq AND v.value <> s.value
	JOIN amenders m ON m.name = v.updated_by AND m.name <> s.inspector
)
SELECT s.inspector, count(*), count(m.case_id)
FROM at_submission s LEFT JOIN amended m ON m.case_id = s.case_id AND m.question_id = s.question_id
GROUP BY s.inspector ORDER BY s.inspector`

// QAAmendments is the QA amendment rate's counts for every inspector with
// a submitted case in the inspection (docs/agreement.md), by name.
func (db *DB) QAAmendments(ctx context.Context, inspectionID string) ([]InspectorAmendments, error) {
	var out []InspectorAmendments
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, qaAmendments, inspectionID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a InspectorAmendments
			if err := rows.Scan(&a.Inspector, &a.Submitted, &a.Amended); err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("qa amendments: %w", err)
	}
	return out, nil
}
