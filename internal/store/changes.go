package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// Changes returns up to limit changes after seq that the user may see, each
// with the current state of its entity, and the cursor to pull after next.
// An administrator sees every inspection; a team member sees their
// inspections, and an inspector only the cases assigned to them. Several
// changes to one entity within the page are delivered once.
func (db *DB) Changes(ctx context.Context, u User, after int64, limit int) (changes []framework.Change, cursor int64, more bool, err error) {
	if limit <= 0 {
		limit = 500
	}
	cursor = after
	err = db.read(ctx, func(tx *sql.Tx) error {
		var max int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&max); err != nil {
			return err
		}
		// Some changes are for one user only (for_user: see announce and
		// withdraw in cases.go). A case's withdrawal applies while its user is
		// an inspector on the team (a lead keeps every case); to a user taken
		// off the team, withdrawals and the inspection's removal are all they
		// still receive of it.
		rows, err := tx.QueryContext(ctx, `SELECT ch.seq, ch.inspection_id, ch.kind, ch.case_id, ch.entity FROM changes ch
			LEFT JOIN team t ON t.inspection_id = ch.inspection_id AND t.user_name = ?1
			LEFT JOIN cases cs ON cs.id = ch.case_id
			WHERE ch.seq > ?2 AND ch.seq <= ?3 AND (?4 OR t.role IS NOT NULL OR ch.kind IN ('withdrawn', 'removed'))
			  AND (t.role IS NULL OR t.role != 'inspector' OR ch.case_id IS NULL OR cs.inspector = ?1)
			  AND (ch.for_user IS NULL OR ch.for_user = ?1)
			  AND (ch.kind != 'withdrawn' OR t.role = 'inspector' OR (t.role IS NULL AND NOT ?4))
			  AND (ch.kind != 'removed' OR (t.role IS NULL AND NOT ?4))
			ORDER BY ch.seq LIMIT ?5`, u.Name, after, max, u.Admin, limit+1)
		if err != nil {
			return err
		}
		type ref struct {
			seq              int64
			inspection, kind string
			caseID           sql.NullString
			entity           string
		}
		var refs []ref
		for rows.Next() {
			var r ref
			if err := rows.Scan(&r.seq, &r.inspection, &r.kind, &r.caseID, &r.entity); err != nil {
				rows.Close()
				return err
			}
			refs = append(refs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(refs) > limit {
			refs, more = refs[:limit], true
			cursor = refs[limit-1].seq
		} else {
			// Nothing more is visible up to max: skip the invisible tail too.
			cursor = max
		}
		// Each entity is delivered once per page, with its current state, at
		// its first change: later entities may depend on it (a case on its
		// inspection), never the other way round.
		seen := map[string]bool{}
		var firsts []ref
		for _, r := range refs {
			key := r.kind + "\x00" + r.inspection + "\x00" + r.caseID.String + "\x00" + r.entity
			if !seen[key] {
				seen[key] = true
				firsts = append(firsts, r)
			}
		}
		// Answers are read a case at a time: a page holds many answers of
		// few cases, and a query per answer dominated pulling.
		answers := map[[2]string]*framework.Answer{}
		read := map[string]bool{}
		for _, r := range firsts {
			if r.kind != "answer" || read[r.caseID.String] {
				continue
			}
			read[r.caseID.String] = true
			rows, err := tx.QueryContext(ctx, `SELECT c.case_ref, a.question_id, a.value, a.note, a.revision, a.updated_by, a.device_id, a.updated_at
				FROM answers a JOIN cases c ON c.id = a.case_id WHERE a.case_id = ?`, r.caseID.String)
			if err != nil {
				return err
			}
			as, err := scanAnswers(rows)
			rows.Close()
			if err != nil {
				return err
			}
			for i := range as {
				answers[[2]string{r.caseID.String, as[i].QuestionID}] = &as[i]
			}
		}
		for _, r := range firsts {
			ch := framework.Change{Seq: r.seq, InspectionID: r.inspection}
			switch r.kind {
			case "inspection":
				var role string
				in, err := scanInspection(tx.QueryRowContext(ctx, `SELECT `+inspectionCols+`, coalesce(t.role, '') FROM inspections i
					LEFT JOIN team t ON t.inspection_id = i.id AND t.user_name = ? WHERE i.id = ?`, u.Name, r.entity), &role)
				if err != nil {
					return fmt.Errorf("inspection %s: %w", r.entity, err)
				}
				if in.Role = role; in.Role == "" {
					in.Role = framework.RoleAdmin
				}
				ch.Inspection = &in
			case "case":
				var ref string
				if err := tx.QueryRowContext(ctx, `SELECT case_ref FROM cases WHERE id = ?`, r.entity).Scan(&ref); err != nil {
					return fmt.Errorf("case %s: %w", r.entity, err)
				}
				cr, err := loadCase(ctx, tx, r.inspection, ref)
				if err != nil {
					return err
				}
				ch.Case = &cr.c
			case "answer":
				a := answers[[2]string{r.caseID.String, r.entity}]
				if a == nil {
					continue
				}
				ch.Answer = a
			case "withdrawn":
				ch.WithdrawnCase = r.entity
			case "removed":
				ch.WithdrawnInspection = true
			case "judgement":
				j := framework.Judgement{StandardID: r.entity}
				var at string
				err := tx.QueryRowContext(ctx, `SELECT rating, rationale, judged_by, judged_at FROM judgements WHERE inspection_id = ? AND standard_id = ?`,
					r.inspection, r.entity).Scan(&j.Rating, &j.Rationale, &j.JudgedBy, &at)
				if errors.Is(err, sql.ErrNoRows) {
					continue
				}
				if err != nil {
					return err
				}
				j.JudgedAt = parseTime(at)
				ch.Judgement = &j
			case "conflict":
				c, err := conflictByID(ctx, tx, r.entity)
				if err != nil {
					return fmt.Errorf("conflict %s: %w", r.entity, err)
				}
				ch.Conflict = &c
			default:
				continue
			}
			changes = append(changes, ch)
		}
		return nil
	})
	if err != nil {
		return nil, after, false, fmt.Errorf("pull after %d: %w", after, err)
	}
	return changes, cursor, more, nil
}

// OpenConflicts lists an inspection's open conflicts, oldest first.
func (db *DB) OpenConflicts(ctx context.Context, inspectionID string) ([]framework.Conflict, error) {
	rows, err := db.conn.R.QueryContext(ctx, `SELECT `+conflictCols+` FROM conflicts k JOIN cases c ON c.id = k.case_id
		WHERE k.inspection_id = ? AND k.status = 'open' ORDER BY k.created_at`, inspectionID)
	if err != nil {
		return nil, fmt.Errorf("list conflicts: %w", err)
	}
	defer rows.Close()
	var out []framework.Conflict
	for rows.Next() {
		c, err := scanConflict(rows)
		if err != nil {
			return nil, fmt.Errorf("list conflicts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Seq is the latest change sequence number.
func (db *DB) Seq(ctx context.Context) (int64, error) {
	var seq int64
	err := db.conn.R.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&seq)
	return seq, err
}
