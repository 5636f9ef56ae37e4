package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// ImportAnswers stores answers.csv rows for an inspection as the
// authoritative values (no revision check: an import is a deliberate load),
// after validating every row; one bad row and nothing is stored. Rows
// whose value and note are already current are left alone.
func (db *DB) ImportAnswers(ctx context.Context, a framework.Actor, inspectionID string, rows []framework.AnswerRow) (applied, unchanged int, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		im, errs, err := db.checkAnswers(ctx, tx, inspectionID, rows)
		if err != nil {
			return err
		}
		if err := errs.Err(); err != nil {
			return err
		}
		fw, gc, values := im.fw, im.gc, im.values
		at := gc.now(db)
		for i, r := range rows {
			cr, err := gc.loadCase(ctx, tx, inspectionID, r.CaseRef)
			if err != nil {
				return err
			}
			c, err := gc.answer(ctx, tx, cr.id, r.QuestionID)
			if err != nil {
				return err
			}
			if c.Exists && c.Value == values[i] && c.Note == r.Note {
				unchanged++
				continue
			}
			cur := current{caseID: cr.id, inspectionID: inspectionID, caseStatus: cr.c.Status, fw: fw, attrs: cr.c.Attributes, Current: *c}
			ans := &framework.Answer{CaseRef: r.CaseRef, QuestionID: r.QuestionID, Value: values[i], Note: r.Note, Revision: c.Revision + 1}
			if err := gc.putAnswer(ctx, tx, at, a, cur, ans, framework.Op{InspectionID: inspectionID, CaseRef: r.CaseRef}, 0); err != nil {
				return err
			}
			applied++
		}
		if err := gc.flush(ctx, tx); err != nil {
			return err
		}
		return gc.counts.flush(ctx, tx)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("import answers: %w", err)
	}
	return applied, unchanged, nil
}

// CheckAnswers runs ImportAnswers' checks on rows and writes nothing (a
// read transaction): nil when ImportAnswers would store them, else the
// same error, whose problems framework.RowProblemsOf gets back.
func (db *DB) CheckAnswers(ctx context.Context, inspectionID string, rows []framework.AnswerRow) error {
	return db.read(ctx, func(tx *sql.Tx) error {
		_, errs, err := db.checkAnswers(ctx, tx, inspectionID, rows)
		if err != nil {
			return err
		}
		return errs.Err()
	})
}

// answerImport is what ImportAnswers' writes need from its checks.
type answerImport struct {
	fw     *framework.Framework
	gc     *groupCache // the cases and answers read
	values []string    // each row's value as stored
}

// checkAnswers is ImportAnswers' checks, reading only: every row's
// problem in errs. err is a refusal whatever the rows (the inspection
// locked or unknown) or an internal error.
func (db *DB) checkAnswers(ctx context.Context, tx *sql.Tx, inspectionID string, rows []framework.AnswerRow) (im *answerImport, errs *framework.RowErrors, err error) {
	fw, status, err := db.inspectionFramework(ctx, tx, inspectionID)
	if err != nil {
		return nil, nil, err
	}
	if err := framework.CheckWritable(inspectionID, status, "", ""); err != nil {
		return nil, nil, err
	}
	// The same write machinery as a push (one read per case, rows written
	// at the end), without the revision check: an import is deliberate.
	gc := newGroupCache()
	errs = &framework.RowErrors{File: "answers.csv"}
	values := make([]string, len(rows))
	// Every row is judged on the case as the whole file leaves it.
	file := make([]framework.Op, len(rows))
	for i, r := range rows {
		file[i] = framework.Op{InspectionID: inspectionID, CaseRef: r.CaseRef, QuestionID: r.QuestionID, Value: r.Value}
	}
	gc.startBatch(file)
	for i, r := range rows {
		cr, err := gc.loadCase(ctx, tx, inspectionID, r.CaseRef)
		if err != nil {
			if framework.ErrorCode(err) == "" {
				return nil, nil, err
			}
			errs.Add(r.Line, "case %s is not in this inspection (import cases.csv first)", r.CaseRef)
			continue
		}
		if err := framework.CheckWritable(inspectionID, status, r.CaseRef, cr.c.Status); err != nil {
			errs.Add(r.Line, "%s", err.Error())
			continue
		}
		if _, err := gc.answer(ctx, tx, cr.id, r.QuestionID); err != nil {
			return nil, nil, err
		}
		facts := gc.leavingFacts(fw, inspectionID, cr)
		v, err := fw.CheckAnswer(r.CaseRef, facts, r.QuestionID, r.Value)
		if err != nil {
			// A row repeating, value and note, an answer that no longer
			// applies is left alone (it stays listed until cleared), so
			// that the same answers.csv can be loaded again after a
			// cases.csv change; any other write of it is refused.
			same, serr := gc.sameAnswer(ctx, tx, cr.id, r.QuestionID, r.Value, r.Note)
			if serr != nil {
				return nil, nil, serr
			}
			if same != "" && fw.NoLongerApplies(facts, r.QuestionID, same) {
				values[i] = same
				continue
			}
			errs.Add(r.Line, "%v", err)
			continue
		}
		values[i] = v.String()
	}
	return &answerImport{fw: fw, gc: gc, values: values}, errs, nil
}

// Answers returns the current answers of one case.
func (db *DB) Answers(ctx context.Context, inspectionID, caseRef string) ([]framework.Answer, error) {
	rows, err := db.conn.Reader.QueryContext(ctx, `SELECT c.case_ref, a.question_id, a.value, a.note, a.revision, a.updated_by, a.device_id, a.updated_at
		FROM answers a JOIN cases c ON c.id = a.case_id WHERE c.inspection_id = ? AND c.case_ref = ? ORDER BY a.question_id`, inspectionID, caseRef)
	if err != nil {
		return nil, fmt.Errorf("list answers: %w", err)
	}
	defer rows.Close()
	return scanAnswers(rows)
}

func scanAnswers(rows *sql.Rows) ([]framework.Answer, error) {
	var out []framework.Answer
	for rows.Next() {
		var a framework.Answer
		var at string
		if err := rows.Scan(&a.CaseRef, &a.QuestionID, &a.Value, &a.Note, &a.Revision, &a.UpdatedBy, &a.DeviceID, &at); err != nil {
			return nil, err
		}
		a.UpdatedAt = sqlite.ParseTime(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// QuestionAnswers reads, in one snapshot, an inspection's framework, its
// cases and every answer to one question with its evidence note (and the
// answers to the questions its rules name, framework.References): what
// aggregate.Evidence lists the cases behind a figure from.
func (db *DB) QuestionAnswers(ctx context.Context, inspectionID, questionID string) (*framework.Framework, []framework.Case, []framework.Answer, error) {
	var fw *framework.Framework
	var cs []framework.Case
	var as []framework.Answer
	err := db.read(ctx, func(tx *sql.Tx) error {
		var err error
		if fw, _, err = db.inspectionFramework(ctx, tx, inspectionID); err != nil {
			return err
		}
		if cs, err = cases(ctx, tx, inspectionID, ""); err != nil {
			return err
		}
		// With the answers its rules name: they decide which answers count.
		ids := []any{questionID}
		for _, r := range fw.References(questionID) {
			ids = append(ids, r)
		}
		marks, args := sqlite.InList(ids)
		rows, err := tx.QueryContext(ctx, `SELECT c.case_ref, a.question_id, a.value, a.note, a.revision, a.updated_by, a.device_id, a.updated_at
			FROM answers a JOIN cases c ON c.id = a.case_id WHERE c.inspection_id = ? AND a.question_id IN (`+marks+`) ORDER BY c.case_ref`,
			append([]any{inspectionID}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		as, err = scanAnswers(rows)
		return err
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("answers to %s: %w", questionID, err)
	}
	return fw, cs, as, nil
}
