package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

// CreateInspection creates an inspection bound to a stored framework
// version (version 0: the latest).
func (db *DB) CreateInspection(ctx context.Context, a framework.Actor, name, unit, fwID string, fwVersion int) (framework.Inspection, error) {
	if err := framework.FieldInspectionName.Check(name); err != nil {
		return framework.Inspection{}, err
	}
	if err := framework.FieldUnit.Check(unit); err != nil {
		return framework.Inspection{}, err
	}
	fw, _, err := db.Framework(ctx, fwID, fwVersion)
	if err != nil {
		return framework.Inspection{}, err
	}
	in := framework.Inspection{
		ID: uuid.Must(uuid.NewV7()).String(), Name: name, Unit: unit,
		FrameworkID: fw.ID, FrameworkVersion: fw.Version, Status: framework.InspectionFieldwork,
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		at := db.now()
		in.CreatedAt = sqlite.ParseTime(at)
		if _, err := tx.ExecContext(ctx, `INSERT INTO inspections (id, name, unit, framework_id, framework_version, status, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			in.ID, in.Name, in.Unit, in.FrameworkID, in.FrameworkVersion, in.Status, at, a.User); err != nil {
			return err
		}
		if err := addChange(ctx, tx, in.ID, "inspection", nil, in.ID); err != nil {
			return err
		}
		return audit(ctx, tx, at, a, "inspection.create", "inspection/"+in.ID, nil, in)
	})
	if err != nil {
		return framework.Inspection{}, fmt.Errorf("create inspection: %w", err)
	}
	return in, nil
}

const inspectionCols = `i.id, i.name, i.unit, i.framework_id, i.framework_version, i.status, i.created_at`

func scanInspection(s interface{ Scan(...any) error }, extra ...any) (framework.Inspection, error) {
	var in framework.Inspection
	var at string
	err := s.Scan(append([]any{&in.ID, &in.Name, &in.Unit, &in.FrameworkID, &in.FrameworkVersion, &in.Status, &at}, extra...)...)
	in.CreatedAt = sqlite.ParseTime(at)
	return in, err
}

// Inspection returns one inspection, with the user's role on it ("" if
// none; "admin" for an administrator not on the team).
func (db *DB) Inspection(ctx context.Context, u framework.User, id string) (framework.Inspection, error) {
	var role sql.NullString
	in, err := scanInspection(db.conn.Reader.QueryRowContext(ctx, `SELECT `+inspectionCols+`, t.role FROM inspections i
		LEFT JOIN team t ON t.inspection_id = i.id AND t.user_name = ? WHERE i.id = ?`, u.Name, id), &role)
	if errors.Is(err, sql.ErrNoRows) {
		return framework.Inspection{}, framework.Errorf(framework.CodeNotFound, "inspection %q not found", id)
	}
	if err != nil {
		return framework.Inspection{}, fmt.Errorf("get inspection %s: %w", id, err)
	}
	in.Role = framework.EffectiveRole(framework.Role(role.String), u.Admin)
	return in, nil
}

// InspectionsByID is Inspection for many at once (a pooled view's 150,
// where a read each took milliseconds): those of ids that exist, by id,
// with the user's role on each.
func (db *DB) InspectionsByID(ctx context.Context, u framework.User, ids []string) (map[string]framework.Inspection, error) {
	out := make(map[string]framework.Inspection, len(ids))
	err := sqlite.InChunks(ids, func(marks string, args []any) error {
		rows, err := db.conn.Reader.QueryContext(ctx, `SELECT `+inspectionCols+`, t.role FROM inspections i
			LEFT JOIN team t ON t.inspection_id = i.id AND t.user_name = ? WHERE i.id IN (`+marks+`)`, append([]any{u.Name}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var role sql.NullString
			in, err := scanInspection(rows, &role)
			if err != nil {
				return err
			}
			in.Role = framework.EffectiveRole(framework.Role(role.String), u.Admin)
			out[in.ID] = in
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("get inspections: %w", err)
	}
	return out, nil
}

// Inspections lists the inspections a user may see: all for an
// administrator, else those the user is on the team of.
func (db *DB) Inspections(ctx context.Context, u framework.User) ([]framework.Inspection, error) {
	rows, err := db.conn.Reader.QueryContext(ctx, `SELECT `+inspectionCols+`, t.role FROM inspections i
		LEFT JOIN team t ON t.inspection_id = i.id AND t.user_name = ?
		WHERE ? OR t.role IS NOT NULL ORDER BY i.created_at, i.id`, u.Name, u.Admin)
	if err != nil {
		return nil, fmt.Errorf("list inspections: %w", err)
	}
	defer rows.Close()
	var out []framework.Inspection
	for rows.Next() {
		var role sql.NullString
		in, err := scanInspection(rows, &role)
		if err != nil {
			return nil, fmt.Errorf("list inspections: %w", err)
		}
		in.Role = framework.EffectiveRole(framework.Role(role.String), u.Admin) // only an administrator lists one they are not on
		out = append(out, in)
	}
	return out, rows.Err()
}

// AddTeamMember gives a user (created if new) a role on an inspection.
func (db *DB) AddTeamMember(ctx context.Context, a framework.Actor, inspectionID, user string, role framework.Role) error {
	if !framework.ValidRole(role) {
		return framework.Errorf(framework.CodeInvalid, "role %q is not one of lead, inspector, qa, analyst", role)
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		at := db.now()
		if err := inspectionExists(ctx, tx, inspectionID); err != nil {
			return err
		}
		if err := ensureUser(ctx, tx, at, a, user); err != nil {
			return err
		}
		var before sql.NullString
		// The role before decides whether the user's devices are told of a
		// change, so a failed read must not pass for "not on the team".
		if err := tx.QueryRowContext(ctx, `SELECT role FROM team WHERE inspection_id = ? AND user_name = ?`,
			inspectionID, user).Scan(&before); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("team role of %s: %w", user, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO team (inspection_id, user_name, role) VALUES (?, ?, ?)
			ON CONFLICT (inspection_id, user_name) DO UPDATE SET role = excluded.role`, inspectionID, user, role); err != nil {
			return err
		}
		if err := addChange(ctx, tx, inspectionID, "inspection", nil, inspectionID); err != nil {
			return err
		}
		if framework.Role(before.String) != role {
			// What the user may see changed: deliver it to their devices,
			// and take back the cases the new role may no longer see.
			if err := announce(ctx, tx, inspectionID, user, ""); err != nil {
				return err
			}
			if before.Valid && framework.CanSeeCase(framework.Role(before.String), false) && !framework.CanSeeCase(role, false) {
				if err := withdraw(ctx, tx, inspectionID, user, ""); err != nil {
					return err
				}
			}
		}
		return audit(ctx, tx, at, a, "team.set", "inspection/"+inspectionID+"/team/"+user, nullable(before), role)
	})
}

// RemoveTeamMember takes a user off an inspection's team and tells their
// devices to drop the inspection and its cases. It refuses while cases are still assigned to
// them: those would be left with nobody to answer them. It returns the role
// they had and the number of cases withdrawn.
func (db *DB) RemoveTeamMember(ctx context.Context, a framework.Actor, inspectionID, user string) (role framework.Role, withdrawn int, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		if err := inspectionExists(ctx, tx, inspectionID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `SELECT role FROM team WHERE inspection_id = ? AND user_name = ?`, inspectionID, user).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) {
			return framework.Errorf(framework.CodeNotFound, "%s is not on the team of inspection %s", user, inspectionID)
		}
		if err != nil {
			return err
		}
		var assigned int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM cases WHERE inspection_id = ? AND inspector = ?`, inspectionID, user).Scan(&assigned); err != nil {
			return err
		}
		if assigned > 0 {
			return framework.Errorf(framework.CodePrecondition, "%s is still assigned %d case(s) of inspection %s: reassign them first (import the cases with another inspector)",
				user, assigned, inspectionID)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM team WHERE inspection_id = ? AND user_name = ?`, inspectionID, user); err != nil {
			return err
		}
		// Every case they could see (a device from before the whole
		// inspection could be withdrawn drops these; an inspector, who has
		// no case left, saw none, and must not learn the others' refs from
		// their withdrawals), then the inspection; pull delivers both to a
		// user off the team (changes.go).
		if framework.CanSeeCase(role, false) {
			if err := withdraw(ctx, tx, inspectionID, user, ""); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM cases WHERE inspection_id = ?`, inspectionID).Scan(&withdrawn); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO changes (inspection_id, kind, case_id, entity, for_user, token) VALUES (?1, 'removed', NULL, ?1, ?2, random())`,
			inspectionID, user); err != nil {
			return err
		}
		return audit(ctx, tx, db.now(), a, "team.remove", "inspection/"+inspectionID+"/team/"+user, role, nil)
	})
	return role, withdrawn, err
}

func nullable(s sql.NullString) any {
	if !s.Valid {
		return nil
	}
	return s.String
}

func inspectionExists(ctx context.Context, tx *sql.Tx, id string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM inspections WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return framework.Errorf(framework.CodeNotFound, "inspection %q not found", id)
	}
	return nil
}
