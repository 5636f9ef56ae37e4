package localstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// ApplyChanges stores a pulled page and its cursor in one transaction, so
// an interrupted pull resumes after the last page stored. Answers with
// local edits still pending keep the local value.
//
// An inspection purged on the server (docs/retention.md) is dropped whole,
// its outbox and refused edits with it (dropPurged), and the store is
// vacuumed after the commit.
func (l *Store) ApplyChanges(ctx context.Context, changes []framework.Change, cursor int64) error {
	return l.ApplyPage(ctx, changes, cursor, 0)
}

// ApplyPage is ApplyChanges with the token the server named the cursor's
// change by, sent back with the cursor on the next pull so that a server
// restored from an earlier copy is found out (syncer.Diverged; 0: none).
func (l *Store) ApplyPage(ctx context.Context, changes []framework.Change, cursor, token int64) error {
	purged := false
	err := l.write(ctx, func(tx *sql.Tx) error {
		purged = false
		recovering, err := restoreRecovering(ctx, tx)
		if err != nil {
			return err
		}
		for _, ch := range changes {
			var err error
			switch {
			case ch.Inspection != nil:
				in := ch.Inspection
				_, err = tx.ExecContext(ctx, `INSERT INTO inspections (id, name, unit, framework_id, framework_version, status, role) VALUES (?, ?, ?, ?, ?, ?, ?)
					ON CONFLICT DO UPDATE SET name = excluded.name, unit = excluded.unit, status = excluded.status, role = excluded.role`,
					in.ID, in.Name, in.Unit, in.FrameworkID, in.FrameworkVersion, in.Status, in.Role)
				if err == nil && in.Status == framework.InspectionPurged {
					err, purged = dropPurged(ctx, tx, in, l.Now()), true
				} else if err == nil && !framework.CanLead(in.Role) {
					err = dropWritten(ctx, tx, in.ID) // no longer the lead's: see dropWritten
				}
			case ch.Case != nil:
				c := ch.Case
				attrs, _ := json.Marshal(c.Attributes)
				// A status change still queued here keeps showing, as a pending
				// answer keeps its value: a pull on its own (the refresh after a
				// change made online) runs with the outbox unsent, and the
				// server's status put back would reopen a case whose submission
				// is queued. The acknowledgement settles it (casestatus.go).
				_, err = tx.ExecContext(ctx, `INSERT INTO cases (inspection_id, case_ref, attributes, inspector, status, status_rev) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
					ON CONFLICT DO UPDATE SET attributes = excluded.attributes, inspector = excluded.inspector, status_rev = excluded.status_rev,
					status = CASE WHEN EXISTS (SELECT 1 FROM outbox WHERE inspection_id = ?1 AND case_ref = ?2 AND case_status != '') THEN status ELSE excluded.status END`,
					ch.InspectionID, c.Ref, string(attrs), c.Inspector, c.Status, c.StatusRevision)
			case ch.Answer != nil:
				a := ch.Answer
				_, err = tx.ExecContext(ctx, `INSERT INTO answers (inspection_id, case_ref, question_id, value, note, revision, updated_by, updated_at, pending)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT DO UPDATE SET
					value = CASE WHEN pending > 0 THEN value ELSE excluded.value END,
					note = CASE WHEN pending > 0 THEN note ELSE excluded.note END,
					updated_by = CASE WHEN pending > 0 THEN updated_by ELSE excluded.updated_by END,
					updated_at = CASE WHEN pending > 0 THEN updated_at ELSE excluded.updated_at END,
					revision = CASE WHEN pending > 0 THEN revision ELSE excluded.revision END`,
					ch.InspectionID, a.CaseRef, a.QuestionID, a.Value, a.Note, a.Revision, a.UpdatedBy, a.UpdatedAt.UTC().Format(time.RFC3339Nano))
				if err == nil && recovering {
					err = keepServerRevision(ctx, tx, ch.InspectionID, a)
				}
			case ch.Judgement != nil:
				j := ch.Judgement
				_, err = tx.ExecContext(ctx, `INSERT INTO judgements (inspection_id, standard_id, rating, rationale, judged_by, judged_at) VALUES (?, ?, ?, ?, ?, ?)
					ON CONFLICT DO UPDATE SET rating = excluded.rating, rationale = excluded.rationale, judged_by = excluded.judged_by, judged_at = excluded.judged_at`,
					ch.InspectionID, j.StandardID, j.Rating, j.Rationale, j.JudgedBy, j.JudgedAt.UTC().Format(time.RFC3339Nano))
			case ch.Conflict != nil:
				err = putLocalConflict(ctx, tx, ch.Conflict)
			case ch.Written != nil:
				err = putPulledWritten(ctx, tx, ch.Written)
			case ch.WrittenConflict != nil:
				err = putPulledWrittenConflict(ctx, tx, ch.WrittenConflict)
			case ch.Marking != nil:
				err = putPulledMarking(ctx, tx, ch.InspectionID, ch.Marking)
			case ch.MarkingConflict != nil:
				err = putLocalMarkingConflict(ctx, tx, ch.MarkingConflict)
			case ch.Selection != nil:
				err = putPulledSelection(ctx, tx, ch.Selection)
			case ch.WithdrawnCase != "":
				err = withdrawLocalCase(ctx, tx, ch.InspectionID, ch.WithdrawnCase)
			case ch.WithdrawnInspection:
				err = withdrawLocalInspection(ctx, tx, ch.InspectionID)
			}
			if err != nil {
				return fmt.Errorf("apply change %d (%s): %w", ch.Seq, changeKind(ch), err)
			}
		}
		if err := setMeta(ctx, tx, "cursor", strconv.FormatInt(cursor, 10)); err != nil {
			return err
		}
		if err := setMeta(ctx, tx, "cursor_token", strconv.FormatInt(token, 10)); err != nil {
			return err
		}
		return setMeta(ctx, tx, "last_pull", l.Now().UTC().Format(time.RFC3339))
	})
	if err != nil || !purged {
		return err
	}
	return l.vacuum(ctx)
}

// changeKind names what a change is about, for errors (ids only: no
// values or notes).
func changeKind(ch framework.Change) string {
	switch {
	case ch.Inspection != nil:
		return "inspection " + ch.InspectionID
	case ch.Case != nil:
		return "case " + ch.Case.Ref + " of inspection " + ch.InspectionID
	case ch.Answer != nil:
		return "answer " + ch.Answer.CaseRef + " " + ch.Answer.QuestionID + " of inspection " + ch.InspectionID
	case ch.Judgement != nil:
		return "judgement " + ch.Judgement.StandardID
	case ch.Conflict != nil:
		return "conflict " + ch.Conflict.ID
	case ch.Written != nil:
		return "written item " + ch.Written.ID
	case ch.WrittenConflict != nil:
		return "written conflict " + ch.WrittenConflict.ID
	case ch.Marking != nil:
		return "second marking " + ch.Marking.CaseRef + " " + ch.Marking.QuestionID + " of inspection " + ch.InspectionID
	case ch.MarkingConflict != nil:
		return "second marking conflict " + ch.MarkingConflict.ID
	case ch.Selection != nil:
		return "QA selection of case " + ch.Selection.CaseRef
	case ch.WithdrawnCase != "":
		return "withdrawal of case " + ch.WithdrawnCase
	case ch.WithdrawnInspection:
		return "withdrawal of inspection " + ch.InspectionID
	}
	return "nothing"
}

// withdrawLocalCase drops a case reassigned to someone else, with its
// answers and conflicts: the device keeps no personal data it may no longer
// see. Edits still in the outbox stay there; pushed, the server refuses
// them and they are listed as rejected with their values, not lost.
func withdrawLocalCase(ctx context.Context, tx *sql.Tx, inspectionID, ref string) error {
	for _, q := range []string{
		`DELETE FROM answers WHERE inspection_id = ? AND case_ref = ?`,
		`DELETE FROM conflicts WHERE inspection_id = ? AND case_ref = ?`,
		`DELETE FROM marking_answers WHERE inspection_id = ? AND case_ref = ? AND pending = 0`,
		`DELETE FROM marking_conflicts WHERE inspection_id = ? AND case_ref = ?`,
		`DELETE FROM qa_selections WHERE inspection_id = ? AND case_ref = ?`,
		`DELETE FROM cases WHERE inspection_id = ? AND case_ref = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, inspectionID, ref); err != nil {
			return fmt.Errorf("withdraw case %s: %w", ref, err)
		}
	}
	return nil
}

// withdrawLocalInspection drops an inspection whose team the user has left,
// with everything of it (cases, answers, conflicts, judgements). As with a
// withdrawn case, unsynced edits stay in the outbox to be refused and listed.
func withdrawLocalInspection(ctx context.Context, tx *sql.Tx, inspectionID string) error {
	for _, table := range []string{"answers", "conflicts", "cases", "judgements", "written_items", "written_conflicts",
		"marking_answers", "marking_conflicts", "qa_selections"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE inspection_id = ?`, inspectionID); err != nil {
			return fmt.Errorf("withdraw inspection %s: %w", inspectionID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM inspections WHERE id = ?`, inspectionID); err != nil {
		return fmt.Errorf("withdraw inspection %s: %w", inspectionID, err)
	}
	return nil
}

// putLocalConflict stores (or refreshes) a conflict the server reported.
func putLocalConflict(ctx context.Context, tx *sql.Tx, c *framework.Conflict) error {
	body, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("conflict %s: %w", c.ID, err)
	}
	// A resolution queued here keeps the conflict resolving until the
	// server has decided it (as putPulledWrittenConflict): a pull on its own
	// brings the conflict still open, and listing it open again would invite
	// a second resolution.
	_, err = tx.ExecContext(ctx, `INSERT INTO conflicts (id, inspection_id, case_ref, question_id, status, body) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT DO UPDATE SET body = excluded.body, status = CASE WHEN excluded.status = 'resolved' THEN 'resolved'
			WHEN conflicts.status = 'resolving' THEN 'resolving' ELSE excluded.status END`, c.ID, c.InspectionID, c.CaseRef, c.QuestionID, c.Status, string(body))
	return err
}

// Conflicts lists the conflicts known locally (open only unless all).
func (l *Store) Conflicts(ctx context.Context, inspectionID string, all bool) ([]framework.Conflict, error) {
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT body FROM conflicts WHERE (? = '' OR inspection_id = ?) AND (? OR status = 'open') ORDER BY case_ref, question_id, id`,
		inspectionID, inspectionID, all)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.Conflict
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var c framework.Conflict
		if err := json.Unmarshal([]byte(body), &c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
