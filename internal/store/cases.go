package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// inspectionFramework loads an inspection's status and framework inside a
// transaction.
func (db *DB) inspectionFramework(ctx context.Context, tx *sql.Tx, inspectionID string) (*framework.Framework, framework.InspectionStatus, error) {
	var fwID string
	var status framework.InspectionStatus
	var fwVersion int
	err := tx.QueryRowContext(ctx, `SELECT framework_id, framework_version, status FROM inspections WHERE id = ?`, inspectionID).Scan(&fwID, &fwVersion, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", framework.Errorf(framework.CodeNotFound, "inspection %q not found", inspectionID)
	}
	if err != nil {
		return nil, "", err
	}
	fw, _, err := db.Framework(ctx, fwID, fwVersion)
	return fw, status, err
}

// ImportCases creates or updates the cases of an inspection from
// cases.csv rows, after checking every row against the framework's
// attributes; one bad row and nothing is stored. Assigned inspectors are
// created as users and put on the team as inspectors if they are not on it.
func (db *DB) ImportCases(ctx context.Context, a framework.Actor, inspectionID string, rows []framework.CaseRow) (created, updated int, err error) {
	return db.importCases(ctx, a, inspectionID, rows, nil)
}

// CheckCases runs ImportCases' checks on rows and writes nothing (a read
// transaction): nil when ImportCases would store them, else the same
// error, whose problems framework.RowProblemsOf gets back.
func (db *DB) CheckCases(ctx context.Context, inspectionID string, rows []framework.CaseRow) error {
	return db.read(ctx, func(tx *sql.Tx) error {
		_, errs, err := db.checkCases(ctx, tx, inspectionID, rows)
		if err != nil {
			return err
		}
		return errs.Err()
	})
}

// checkCases is ImportCases' checks, reading only: every row's problem in
// errs. err is a refusal whatever the rows (the inspection locked or
// unknown) or an internal error.
func (db *DB) checkCases(ctx context.Context, tx *sql.Tx, inspectionID string, rows []framework.CaseRow) (*framework.Framework, *framework.RowErrors, error) {
	fw, status, err := db.inspectionFramework(ctx, tx, inspectionID)
	if err != nil {
		return nil, nil, err
	}
	if err := framework.CheckWritable(inspectionID, status, "", ""); err != nil {
		return nil, nil, err
	}
	errs := &framework.RowErrors{File: "cases.csv"}
	for _, r := range rows {
		if p := fw.CheckAttributes(r.Case.Attributes); len(p) > 0 {
			errs.Add(r.Line, "case %s: %s", r.Case.Ref, strings.Join(p, "; "))
		}
		if err := checkUserName(r.Case.Inspector); err != nil {
			errs.Add(r.Line, "case %s: inspector: %v", r.Case.Ref, err)
		}
	}
	return fw, errs, nil
}

func (db *DB) importCases(ctx context.Context, a framework.Actor, inspectionID string, rows []framework.CaseRow, sample *framework.SampleInfo) (created, updated int, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		fw, errs, err := db.checkCases(ctx, tx, inspectionID, rows)
		if err != nil {
			return err
		}
		if err := errs.Err(); err != nil {
			return err
		}
		at := db.now()
		counts := newCountDeltas()
		for _, r := range rows {
			c := r.Case
			reassigned := "" // the inspector the case was taken from
			attrs, _ := json.Marshal(c.Attributes)
			var id, oldAttrs, oldInspector string
			err := tx.QueryRowContext(ctx, `SELECT id, attributes, inspector FROM cases WHERE inspection_id = ? AND case_ref = ?`, inspectionID, c.Ref).Scan(&id, &oldAttrs, &oldInspector)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				id = uuid.Must(uuid.NewV7()).String()
				if _, err := tx.ExecContext(ctx, `INSERT INTO cases (id, inspection_id, case_ref, attributes, inspector, status) VALUES (?, ?, ?, ?, ?, ?)`,
					id, inspectionID, c.Ref, string(attrs), c.Inspector, framework.CaseNotStarted); err != nil {
					return err
				}
				created++
				counts.addCase(fw, inspectionID, c.Attributes, +1)
				if err := audit(ctx, tx, at, a, "case.import", "case/"+inspectionID+"/"+c.Ref, nil, map[string]any{"attributes": c.Attributes, "inspector": c.Inspector}); err != nil {
					return err
				}
			case err != nil:
				return err
			default:
				if oldAttrs == string(attrs) && oldInspector == c.Inspector {
					continue
				}
				if _, err := tx.ExecContext(ctx, `UPDATE cases SET attributes = ?, inspector = ? WHERE id = ?`, string(attrs), c.Inspector, id); err != nil {
					return err
				}
				if oldAttrs != string(attrs) {
					if err := recountCase(ctx, tx, counts, fw, inspectionID, id, oldAttrs, c.Attributes); err != nil {
						return err
					}
				}
				updated++
				if oldInspector != c.Inspector {
					reassigned = oldInspector
				}
				if err := audit(ctx, tx, at, a, "case.import", "case/"+inspectionID+"/"+c.Ref,
					map[string]any{"attributes": json.RawMessage(oldAttrs), "inspector": oldInspector},
					map[string]any{"attributes": c.Attributes, "inspector": c.Inspector}); err != nil {
					return err
				}
			}
			if err := ensureUser(ctx, tx, at, a, c.Inspector); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO team (inspection_id, user_name, role) VALUES (?, ?, 'inspector') ON CONFLICT DO NOTHING`, inspectionID, c.Inspector)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				if err := audit(ctx, tx, at, a, "team.set", "inspection/"+inspectionID+"/team/"+c.Inspector, nil, framework.RoleInspector); err != nil {
					return err
				}
				// New on the team: their device may have pulled past the
				// inspection and what is already theirs in it.
				if err := announce(ctx, tx, inspectionID, c.Inspector, ""); err != nil {
					return err
				}
			}
			if err := addChange(ctx, tx, inspectionID, "case", id, id); err != nil {
				return err
			}
			if reassigned != "" {
				if err := withdraw(ctx, tx, inspectionID, reassigned, id); err != nil {
					return err
				}
				if err := announce(ctx, tx, inspectionID, c.Inspector, id); err != nil {
					return err
				}
			}
		}
		if sample != nil {
			if err := keepSample(ctx, tx, at, a, inspectionID, *sample); err != nil {
				return err
			}
		}
		return counts.flush(ctx, tx)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("import cases: %w", err)
	}
	return created, updated, nil
}

// announce writes changes meant for one user only (changes.for_user) that
// deliver what they may see now but whose changes their device's cursor may
// have passed while it was not theirs to see: with caseID "", the
// inspection, its judgements and every case the user's role lets them see;
// otherwise that one case. Each case comes with its answers and open
// conflicts, after it.
func announce(ctx context.Context, tx *sql.Tx, inspectionID, user, caseID string) error {
	var role framework.Role
	if err := tx.QueryRowContext(ctx, `SELECT role FROM team WHERE inspection_id = ? AND user_name = ?`, inspectionID, user).Scan(&role); err != nil {
		return fmt.Errorf("announce to %s: %w", user, err)
	}
	// What the user may see of the inspection's cases is framework.CanSeeCase:
	// every case, or (an inspector) only their own.
	ownOnly := !framework.CanSeeCase(role, false)
	type stmt struct {
		q    string
		args []any
	}
	var stmts []stmt
	if caseID == "" {
		stmts = append(stmts,
			stmt{`INSERT INTO changes (inspection_id, kind, case_id, entity, for_user, token) SELECT ?1, 'inspection', NULL, ?1, ?2, random()`, []any{inspectionID, user}},
			stmt{`INSERT INTO changes (inspection_id, kind, case_id, entity, for_user, token) SELECT ?1, 'judgement', NULL, standard_id, ?2, random() FROM judgements
				WHERE inspection_id = ?1 ORDER BY standard_id`, []any{inspectionID, user}})
		if framework.CanLead(role) {
			stmts = append(stmts, stmt{`INSERT INTO changes (inspection_id, kind, case_id, entity, for_user, token) SELECT ?1, 'written', NULL, item_id, ?2, random()
				FROM written_items WHERE inspection_id = ?1 ORDER BY ord`, []any{inspectionID, user}},
				stmt{`INSERT INTO changes (inspection_id, kind, case_id, entity, for_user, token) SELECT ?1, 'written_conflict', NULL, id, ?2, random()
				FROM written_conflicts WHERE inspection_id = ?1 AND status = 'open' ORDER BY created_at, id`, []any{inspectionID, user}})
		}
	}
	// ?1 inspection, ?2 user, ?3 one case or "", ?4 whether only the user's own cases.
	visible := `c.inspection_id = ?1 AND (?3 = '' OR c.id = ?3) AND (NOT ?4 OR c.inspector = ?2)`
	args := []any{inspectionID, user, caseID, ownOnly}
	stmts = append(stmts,
		stmt{`INSERT INTO changes (inspection_id, kind, case_id, entity, for_user, token) SELECT ?1, 'case', c.id, c.id, ?2, random() FROM cases c WHERE ` + visible + ` ORDER BY c.case_ref`, args},
		stmt{`INSERT INTO changes (inspection_id, kind, case_id, entity, for_user, token) SELECT ?1, 'answer', a.case_id, a.question_id, ?2, random()
			FROM answers a JOIN cases c ON c.id = a.case_id WHERE ` + visible + ` ORDER BY c.case_ref, a.question_id`, args},
		stmt{`INSERT INTO changes (inspection_id, kind, case_id, entity, for_user, token) SELECT ?1, 'conflict', k.case_id, k.id, ?2, random()
			FROM conflicts k JOIN cases c ON c.id = k.case_id WHERE k.status = 'open' AND ` + visible + ` ORDER BY k.created_at`, args})
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return fmt.Errorf("announce to %s: %w", user, err)
		}
	}
	return nil
}

// withdraw tells user's devices to drop the cases of an inspection that
// are not assigned to them (one case when caseID is set), for when a case
// is reassigned away or a user becomes an inspector on the team.
func withdraw(ctx context.Context, tx *sql.Tx, inspectionID, user, caseID string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO changes (inspection_id, kind, case_id, entity, for_user, token)
		SELECT ?1, 'withdrawn', NULL, case_ref, ?2, random() FROM cases WHERE inspection_id = ?1 AND (?3 = '' OR id = ?3) AND inspector != ?2 ORDER BY case_ref`,
		inspectionID, user, caseID); err != nil {
		return fmt.Errorf("withdraw cases from %s: %w", user, err)
	}
	return nil
}

type caseRow struct {
	id           string
	c            framework.Case
	statusDevice string // the device of the last deliberate status change
}

func loadCase(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, inspectionID, ref string) (caseRow, error) {
	var cr caseRow
	var attrs string
	err := q.QueryRowContext(ctx, `SELECT id, case_ref, attributes, inspector, status, status_rev, status_device FROM cases WHERE inspection_id = ? AND case_ref = ?`, inspectionID, ref).
		Scan(&cr.id, &cr.c.Ref, &attrs, &cr.c.Inspector, &cr.c.Status, &cr.c.StatusRevision, &cr.statusDevice)
	if errors.Is(err, sql.ErrNoRows) {
		return cr, framework.Errorf(framework.CodeNotFound, "case %q not found in inspection %s", ref, inspectionID)
	}
	if err != nil {
		return cr, err
	}
	if err := json.Unmarshal([]byte(attrs), &cr.c.Attributes); err != nil {
		return cr, fmt.Errorf("case %s attributes: %w", ref, err)
	}
	return cr, nil
}

// Case returns one case of an inspection.
func (db *DB) Case(ctx context.Context, inspectionID, ref string) (framework.Case, error) {
	cr, err := loadCase(ctx, db.conn.Reader, inspectionID, ref)
	return cr.c, err
}

// VisibleCase returns a case to a caller who may see it
// (framework.CanSeeCase), and to anyone else the same refusal whether it
// exists or not.
func (db *DB) VisibleCase(ctx context.Context, u framework.User, inspectionID, ref string) (framework.Case, error) {
	var c framework.Case
	err := db.read(ctx, func(tx *sql.Tx) error {
		cr, _, err := visibleCase(ctx, tx, u, inspectionID, ref)
		c = cr.c
		return err
	})
	return c, err
}

// Cases returns the cases of an inspection; when inspector is not empty,
// only the cases assigned to that inspector.
func (db *DB) Cases(ctx context.Context, inspectionID, inspector string) ([]framework.Case, error) {
	var out []framework.Case
	err := db.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = cases(ctx, tx, inspectionID, inspector)
		return err
	})
	return out, err
}

func cases(ctx context.Context, tx *sql.Tx, inspectionID, inspector string) ([]framework.Case, error) {
	rows, err := tx.QueryContext(ctx, `SELECT case_ref, attributes, inspector, status, status_rev FROM cases
		WHERE inspection_id = ? AND (? = '' OR inspector = ?) ORDER BY case_ref`, inspectionID, inspector, inspector)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	var out []framework.Case
	for rows.Next() {
		var c framework.Case
		var attrs string
		if err := rows.Scan(&c.Ref, &attrs, &c.Inspector, &c.Status, &c.StatusRevision); err != nil {
			return nil, fmt.Errorf("list cases: %w", err)
		}
		if err := json.Unmarshal([]byte(attrs), &c.Attributes); err != nil {
			return nil, fmt.Errorf("case %s attributes: %w", c.Ref, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ---- judgements ----

// CheckJudgements runs RecordJudgements' checks on judgements.csv rows and
// writes nothing (a read transaction): nil when RecordJudgements would
// record them, else the same error, whose problems framework.RowProblemsOf
// gets back.
func (db *DB) CheckJudgements(ctx context.Context, inspectionID string, rows []framework.JudgementRow) error {
	return db.read(ctx, func(tx *sql.Tx) error {
		_, errs, err := db.checkJudgements(ctx, tx, inspectionID, rows)
		if err != nil {
			return err
		}
		return errs.Err()
	})
}

// checkJudgements is RecordJudgements' checks, reading only.
func (db *DB) checkJudgements(ctx context.Context, tx *sql.Tx, inspectionID string, rows []framework.JudgementRow) (*framework.Framework, *framework.RowErrors, error) {
	fw, status, err := db.inspectionFramework(ctx, tx, inspectionID)
	if err != nil {
		return nil, nil, err
	}
	if err := framework.CheckWritable(inspectionID, status, "", ""); err != nil {
		return nil, nil, err
	}
	errs := &framework.RowErrors{File: "judgements.csv"}
	for _, r := range rows {
		if err := fw.CheckJudgement(r.StandardID, r.Rating); err != nil {
			errs.Add(r.Line, "%v", err)
		}
	}
	return fw, errs, nil
}

// RecordJudgements records judged ratings, all or none, after checking
// each against the framework.
func (db *DB) RecordJudgements(ctx context.Context, a framework.Actor, inspectionID string, rows []framework.JudgementRow) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		fw, errs, err := db.checkJudgements(ctx, tx, inspectionID, rows)
		if err != nil {
			return err
		}
		if len(rows) == 1 && rows[0].Line == 0 && len(errs.Problems) > 0 {
			return fw.CheckJudgement(rows[0].StandardID, rows[0].Rating)
		}
		if err := errs.Err(); err != nil {
			return err
		}
		at := db.now()
		for _, r := range rows {
			var before struct{ Rating, Rationale string }
			// The audit's "before" (empty for a first judgement).
			if err := tx.QueryRowContext(ctx, `SELECT rating, rationale FROM judgements WHERE inspection_id = ? AND standard_id = ?`,
				inspectionID, r.StandardID).Scan(&before.Rating, &before.Rationale); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("judgement %s: %w", r.StandardID, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO judgements (inspection_id, standard_id, rating, rationale, judged_by, device_id, judged_at) VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (inspection_id, standard_id) DO UPDATE SET rating = excluded.rating, rationale = excluded.rationale,
				judged_by = excluded.judged_by, device_id = excluded.device_id, judged_at = excluded.judged_at`,
				inspectionID, r.StandardID, r.Rating, r.Rationale, a.User, a.Device, at); err != nil {
				return err
			}
			var b any
			if before.Rating != "" {
				b = before
			}
			if err := audit(ctx, tx, at, a, "judgement.record", "inspection/"+inspectionID+"/standard/"+r.StandardID, b,
				map[string]string{"rating": r.Rating, "rationale": r.Rationale}); err != nil {
				return err
			}
			if err := addChange(ctx, tx, inspectionID, "judgement", nil, r.StandardID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record judgements: %w", err)
	}
	return nil
}

// Judgement returns one judged rating.
func (db *DB) Judgement(ctx context.Context, inspectionID, standardID string) (framework.Judgement, error) {
	j := framework.Judgement{StandardID: standardID}
	var at string
	err := db.conn.Reader.QueryRowContext(ctx, `SELECT rating, rationale, judged_by, judged_at FROM judgements WHERE inspection_id = ? AND standard_id = ?`,
		inspectionID, standardID).Scan(&j.Rating, &j.Rationale, &j.JudgedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return j, framework.Errorf(framework.CodeNotFound, "no judgement for %s", standardID)
	}
	j.JudgedAt = sqlite.ParseTime(at)
	return j, err
}

func judgements(ctx context.Context, tx *sql.Tx, inspectionID string) ([]framework.Judgement, error) {
	rows, err := tx.QueryContext(ctx, `SELECT standard_id, rating, rationale, judged_by, judged_at FROM judgements WHERE inspection_id = ? ORDER BY standard_id`, inspectionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.Judgement
	for rows.Next() {
		var j framework.Judgement
		var at string
		if err := rows.Scan(&j.StandardID, &j.Rating, &j.Rationale, &j.JudgedBy, &at); err != nil {
			return nil, err
		}
		j.JudgedAt = sqlite.ParseTime(at)
		out = append(out, j)
	}
	return out, rows.Err()
}
