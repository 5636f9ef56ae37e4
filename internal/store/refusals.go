package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// MaxDismissals bounds one DismissRefusals call.
const MaxDismissals = 5000

// DismissRefusals audits that u dismissed refused ops of theirs, and
// returns how many of opIDs those were. Other ids (unknown, not refused, or
// another user's) are skipped alike.
func (db *DB) DismissRefusals(ctx context.Context, u framework.User, device string, opIDs []string) (int, error) {
	if len(opIDs) > MaxDismissals {
		return 0, framework.Errorf(framework.CodeInvalid, "%d op ids are over the limit of %d", len(opIDs), MaxDismissals)
	}
	n := 0
	err := db.write(ctx, func(tx *sql.Tx) error {
		n = 0
		at := db.now()
		for _, id := range opIDs {
			var reason, question string
			var inspection, ref sql.NullString
			err := tx.QueryRowContext(ctx, `SELECT r.reason, coalesce(r.question_id, ''), c.inspection_id, c.case_ref FROM op_records r
				LEFT JOIN cases c ON c.id = r.case_id WHERE r.op_id = ? AND r.result = ? AND r.user_name = ?`,
				id, int(framework.OpRejected), u.Name).Scan(&reason, &question, &inspection, &ref)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO dismissals (op_id) VALUES (?) ON CONFLICT DO NOTHING`, id)
			if err != nil {
				return err
			}
			if first, err := res.RowsAffected(); err != nil || first == 0 {
				n++ // dismissed before: counted, not audited again
				continue
			}
			entity := "op/" + id
			if inspection.Valid {
				entity = "case/" + inspection.String + "/" + ref.String + "/" + question
			}
			if err := audit(ctx, tx, at, framework.Actor{User: u.Name, Device: device, Admin: u.Admin}, "refusal.dismiss", entity,
				map[string]string{"op_id": id, "reason": reason}, map[string]string{"status": "dismissed"}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("dismiss refusals: %w", err)
	}
	return n, nil
}
