package localstore

import (
	"context"
	"strconv"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// ReportInput is what a report of one inspection is computed from, as
// this laptop holds it: the cases and answers pulled at the last sync with
// the edits made here since laid over them, the judged ratings and the
// written items (unsent ones after the server's, in the order they were
// made). pending counts this inspection's edits not yet acknowledged, which
// the input includes. AsOfSeq is the change the last pull reached.
func (l *Store) ReportInput(ctx context.Context, inspectionID string) (in framework.Sample, pending int, err error) {
	in.InspectionID = inspectionID
	if in.Cases, err = l.Cases(ctx, inspectionID); err != nil {
		return in, 0, err
	}
	// Only what a report needs of the answers, as the server reads them.
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT case_ref, question_id, value FROM answers WHERE inspection_id = ? ORDER BY case_ref, question_id`, inspectionID)
	if err != nil {
		return in, 0, err
	}
	for rows.Next() {
		var a framework.Answer
		if err := rows.Scan(&a.CaseRef, &a.QuestionID, &a.Value); err != nil {
			rows.Close()
			return in, 0, err
		}
		in.Answers = append(in.Answers, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return in, 0, err
	}
	jrows, err := l.conn.Writer.QueryContext(ctx, `SELECT standard_id, rating, rationale, judged_by, judged_at FROM judgements WHERE inspection_id = ? ORDER BY standard_id`, inspectionID)
	if err != nil {
		return in, 0, err
	}
	for jrows.Next() {
		var j framework.Judgement
		var at string
		if err := jrows.Scan(&j.StandardID, &j.Rating, &j.Rationale, &j.JudgedBy, &at); err != nil {
			jrows.Close()
			return in, 0, err
		}
		j.JudgedAt = sqlite.ParseTime(at)
		in.Judgements = append(in.Judgements, j)
	}
	jrows.Close()
	if err := jrows.Err(); err != nil {
		return in, 0, err
	}
	items, err := l.Written(ctx, inspectionID)
	if err != nil {
		return in, 0, err
	}
	for _, it := range items {
		in.Written = append(in.Written, it.WrittenItem)
	}
	err = l.conn.Writer.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE inspection_id = ?`, inspectionID).Scan(&pending)
	if err != nil {
		return in, 0, err
	}
	cur, err := l.Meta(ctx, "cursor")
	if err != nil {
		return in, 0, err
	}
	in.AsOfSeq, _ = strconv.ParseInt(cur, 10, 64) // "" before the first pull: 0
	return in, pending, nil
}
