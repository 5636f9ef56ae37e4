package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// MarkingPairs returns, for an inspection, every double-marked
// case–question pair whose two markings are both submitted (the blind
// lifted) and both answered: what the agreement figures are computed from.
//
// The first value is the first marking as submitted. Once both markings
// are submitted the case's answers change only by correction (QA or the
// lead) or by moderation; moderation keeps the first marking's value
// beside its decision, so a moderated question's first value is the one
// its earliest decision recorded, and every other question's is the case's
// current answer. (A correction outside moderation after the blind lifted
// would count as the first marking: docs/qa.md.) Pairs are in case, then
// framework question order.
func (db *DB) MarkingPairs(ctx context.Context, inspectionID string) ([]framework.MarkingPair, error) {
	var out []framework.MarkingPair
	err := db.read(ctx, func(tx *sql.Tx) error {
		fw, _, err := db.inspectionFramework(ctx, tx, inspectionID)
		if err != nil {
			return err
		}
		order := map[string]int{}
		for i, q := range fw.Questions() {
			order[q.ID] = i
		}
		rows, err := tx.QueryContext(ctx, `SELECT c.case_ref, a.question_id, c.inspector,
				coalesce((SELECT d.first_value FROM moderations d WHERE d.case_id = a.case_id AND d.question_id = a.question_id ORDER BY d.id LIMIT 1), a.value),
				s.qa_user, m.value
			FROM qa_selections s JOIN cases c ON c.id = s.case_id
			JOIN marking_answers m ON m.case_id = s.case_id
			JOIN answers a ON a.case_id = s.case_id AND a.question_id = m.question_id
			WHERE s.inspection_id = ? AND s.lifted = 1 ORDER BY c.case_ref`, inspectionID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p framework.MarkingPair
			if err := rows.Scan(&p.CaseRef, &p.QuestionID, &p.FirstMarker, &p.First, &p.SecondMarker, &p.Second); err != nil {
				return err
			}
			out = append(out, p)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		sortPairs(out, order)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("marking pairs of inspection %s: %w", inspectionID, err)
	}
	return out, nil
}

func sortPairs(ps []framework.MarkingPair, order map[string]int) {
	slices.SortStableFunc(ps, func(a, b framework.MarkingPair) int {
		return cmp.Or(cmp.Compare(a.CaseRef, b.CaseRef), cmp.Compare(order[a.QuestionID], order[b.QuestionID]))
	})
}
