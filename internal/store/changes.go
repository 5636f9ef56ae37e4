package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
	"github.com/fieldworkhq/fieldwork/internal/syncer"
)

// Changes returns up to limit changes after seq that the user may see, each
// with the current state of its entity, and the cursor to pull after next.
// An administrator sees every inspection; a team member sees their
// inspections, and an inspector only the cases assigned to them. Several
// changes to one entity within the page are delivered once.
func (db *DB) Changes(ctx context.Context, u framework.User, after int64, limit int) (changes []framework.Change, cursor int64, more bool, err error) {
	if limit <= 0 {
		limit = 500
	}
	cursor = after
	err = db.read(ctx, func(tx *sql.Tx) error {
		var max int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&max); err != nil {
			return err
		}
		// Written judgements reach only those who may write them
		// (framework.CanLead: the lead, an administrator);
		// TestWrittenPullMatchesCanLead holds the two together.
		// Some changes are for one user only (for_user: see announce and
		// withdraw in cases.go). A case's withdrawal applies while its user is
		// an inspector on the team (a lead keeps every case); to a user taken
		// off the team, withdrawals and the inspection's removal are all they
		// still receive of it.
		rows, err := tx.QueryContext(ctx, `SELECT ch.seq, ch.inspection_id, ch.kind, ch.case_id, ch.entity, coalesce(t.role, ''), coalesce(cs.inspector, '') FROM changes ch
			LEFT JOIN team t ON t.inspection_id = ch.inspection_id AND t.user_name = ?1
			LEFT JOIN cases cs ON cs.id = ch.case_id
			WHERE ch.seq > ?2 AND ch.seq <= ?3 AND (?4 OR t.role IS NOT NULL OR ch.kind IN ('withdrawn', 'removed'))
			  AND (?4 OR t.role IS NULL OR t.role != 'inspector' OR ch.case_id IS NULL OR cs.inspector = ?1)
			  AND (ch.for_user IS NULL OR ch.for_user = ?1)
			  AND (ch.kind != 'withdrawn' OR NOT ?4 AND (t.role IS NULL OR t.role = 'inspector'))
			  AND (ch.kind != 'removed' OR (t.role IS NULL AND NOT ?4))
			  AND (ch.kind NOT IN ('written', 'written_conflict') OR ?4 OR t.role = 'lead')
			ORDER BY ch.seq LIMIT ?5`, u.Name, after, max, u.Admin, limit+1)
		if err != nil {
			return err
		}
		type ref struct {
			seq              int64
			inspection, kind string
			caseID           sql.NullString
			entity           string
			role, inspector  string
		}
		// Sized once (grown one by one, the copying was 6% of a pull page),
		// and no larger than the changes after the cursor: a device that is
		// up to date allocates nothing.
		room := min(int64(limit)+1, max-after) // max here is the newest seq, not the builtin
		if room < 0 {
			room = 0
		}
		refs := make([]ref, 0, room)
		for rows.Next() {
			var r ref
			if err := rows.Scan(&r.seq, &r.inspection, &r.kind, &r.caseID, &r.entity, &r.role, &r.inspector); err != nil {
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
		// A case (or inspection) that became the user's to see after their
		// cursor, by reassignment or by joining the team, is announced to
		// them later, with its current answers (its cases) after it. Its
		// older changes, now visible, would reach the device before the case
		// (or inspection) they belong to: they are left out, since the
		// announcement delivers their current state.
		if len(refs) > 0 {
			later, err := announcedAfter(ctx, tx, u.Name, refs[0].seq, max)
			if err != nil {
				return err
			}
			if len(later) > 0 {
				kept := refs[:0]
				for _, r := range refs {
					if !later.covers(r.seq, r.kind, r.inspection, r.caseID.String) {
						kept = append(kept, r)
					}
				}
				refs = kept
			}
		}
		// A withdrawal (of a case, or of the whole inspection) makes what
		// came before it in the page moot: the device drops it. So each
		// withdrawal is delivered at its last change in the page, and what it
		// drops only at a change after it; a case withdrawn and then given
		// back to the user in one page arrives after its withdrawal.
		lastWithdrawn := map[string]int64{} // case id → seq
		lastRemoved := map[string]int64{}   // inspection → seq
		withdrawnCase := map[int64]string{} // a withdrawal's seq → its case id (it names the case by ref)
		for _, r := range refs {
			switch r.kind {
			case "withdrawn":
				var caseID string
				err := tx.QueryRowContext(ctx, `SELECT id FROM cases WHERE inspection_id = ? AND case_ref = ?`, r.inspection, r.entity).Scan(&caseID)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return err
				}
				lastWithdrawn[caseID], withdrawnCase[r.seq] = r.seq, caseID
			case "removed":
				lastRemoved[r.inspection] = r.seq
			}
		}
		moot := func(r ref) bool {
			caseID := r.caseID.String
			if r.kind == "withdrawn" {
				caseID = withdrawnCase[r.seq]
			}
			return lastRemoved[r.inspection] > r.seq || caseID != "" && lastWithdrawn[caseID] > r.seq
		}
		// Each entity is delivered once per page, with its current state, at
		// its first change (after any withdrawal of it): later entities may
		// depend on it (a case on its inspection), never the other way round.
		seen := make(map[string]bool, len(refs))
		firsts := make([]ref, 0, len(refs))
		for _, r := range refs {
			if (len(lastWithdrawn) > 0 || len(lastRemoved) > 0) && moot(r) {
				continue
			}
			key := r.kind + "\x00" + r.inspection + "\x00" + r.caseID.String + "\x00" + r.entity
			if !seen[key] {
				seen[key] = true
				firsts = append(firsts, r)
			}
		}
		// The blind of second marking (framework.CanSeeMarkingValues, asked
		// here in Go on each case-level change): a marking's values, notes
		// and conflicts are left out for whoever may not see them yet, and
		// reach them by the marking_lift change the blind's end adds.
		blind := &blindFilter{sels: map[string]*framework.QASelection{}, insp: map[string]bool{}}
		kept := firsts[:0]
		for _, r := range firsts {
			side := markingSideOf(r.kind)
			if side != 0 && r.caseID.Valid {
				ok, err := blind.sees(ctx, tx, u, framework.EffectiveRole(framework.Role(r.role), u.Admin), r.inspector, r.inspection, r.caseID.String, side)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
			}
			kept = append(kept, r)
		}
		firsts = kept
		// Answers are read a case at a time: a page holds many answers of
		// few cases, and a query per answer dominated pulling.
		answers := make(map[[2]string]*framework.Answer, len(firsts))
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
		changes = make([]framework.Change, 0, len(firsts))
		for _, r := range firsts {
			ch := framework.Change{Seq: r.seq, InspectionID: r.inspection}
			switch r.kind {
			case "inspection":
				var role framework.Role
				in, err := scanInspection(tx.QueryRowContext(ctx, `SELECT `+inspectionCols+`, coalesce(t.role, '') FROM inspections i
					LEFT JOIN team t ON t.inspection_id = i.id AND t.user_name = ? WHERE i.id = ?`, u.Name, r.entity), &role)
				if err != nil {
					return fmt.Errorf("inspection %s: %w", r.entity, err)
				}
				in.Role = framework.EffectiveRole(role, u.Admin)
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
				j.JudgedAt = sqlite.ParseTime(at)
				ch.Judgement = &j
			case "written":
				it, err := writtenItem(ctx, tx, r.inspection, r.entity)
				if err != nil {
					return err
				}
				if it == nil {
					continue
				}
				ch.Written = it
			case "written_conflict":
				c, err := writtenConflictByID(ctx, tx, r.entity)
				if err != nil {
					return fmt.Errorf("written conflict %s: %w", r.entity, err)
				}
				if c == nil {
					continue
				}
				ch.WrittenConflict = c
			case "selection", "marking", "marking_conflict", "marking_lift":
				more, err := markingChanges(ctx, tx, u, framework.EffectiveRole(framework.Role(r.role), u.Admin), r.inspector, r.kind, r.caseID.String, r.entity, blind)
				if err != nil {
					return err
				}
				for _, m := range more {
					m.Seq, m.InspectionID = r.seq, r.inspection
					changes = append(changes, m)
				}
				continue
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

// Seq is the latest change sequence number.
func (db *DB) Seq(ctx context.Context) (int64, error) {
	var seq int64
	err := db.conn.Reader.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&seq)
	return seq, err
}

// announcements maps ("inspection", id) and ("case", case id) to the last
// seq at which they are announced to one user.
type announcements map[[2]string]int64

// announcedAfter reads what is announced to user in changes (from, to].
func announcedAfter(ctx context.Context, tx *sql.Tx, user string, from, to int64) (announcements, error) {
	rows, err := tx.QueryContext(ctx, `SELECT kind, CASE kind WHEN 'inspection' THEN inspection_id ELSE case_id END, max(seq) FROM changes
		WHERE for_user = ? AND seq >= ? AND seq <= ? AND kind IN ('inspection', 'case') GROUP BY 1, 2`, user, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := announcements{}
	for rows.Next() {
		var kind, id string
		var seq int64
		if err := rows.Scan(&kind, &id, &seq); err != nil {
			return nil, err
		}
		out[[2]string{kind, id}] = seq
	}
	return out, rows.Err()
}

// covers reports whether a change at seq (of kind, in an inspection, on a
// case) is delivered again by a later announcement: a case or answer by its
// inspection's, an answer by its case's. Only these depend on another
// entity on the device; everything else keeps its place.
func (a announcements) covers(seq int64, kind, inspection, caseID string) bool {
	if kind != "case" && kind != "answer" {
		return false
	}
	if at, ok := a[[2]string{"inspection", inspection}]; ok && at > seq {
		return true
	}
	if kind == "answer" {
		if at, ok := a[[2]string{"case", caseID}]; ok && at > seq {
			return true
		}
	}
	return false
}

func addChange(ctx context.Context, tx *sql.Tx, inspectionID, kind string, caseID any, entity string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO changes (inspection_id, kind, case_id, entity, token) VALUES (?, ?, ?, ?, random())`, inspectionID, kind, caseID, entity)
	return err
}

// Mark is what the change log holds at a pull cursor, for
// syncer.Diverged: the token of the last change at or before seq (0 when
// there is none), and the log's highest seq.
func (db *DB) Mark(ctx context.Context, seq int64) (syncer.LogMark, error) {
	m := syncer.LogMark{Seq: seq}
	err := db.conn.Reader.QueryRowContext(ctx, `SELECT coalesce((SELECT token FROM changes WHERE seq <= ?1 ORDER BY seq DESC LIMIT 1), 0),
		coalesce((SELECT max(seq) FROM changes), 0)`, seq).Scan(&m.Token, &m.Max)
	if err != nil {
		return m, fmt.Errorf("change log at %d: %w", seq, err)
	}
	return m, nil
}
