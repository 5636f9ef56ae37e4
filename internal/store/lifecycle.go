package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/fieldworkhq/fieldwork/internal/framework"
)

// teamRole is a user's role on an inspection's team ("" if not on it).
func teamRole(ctx context.Context, tx *sql.Tx, inspectionID, user string) (framework.Role, error) {
	var role sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT role FROM team WHERE inspection_id = ? AND user_name = ?`, inspectionID, user).Scan(&role)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	return framework.Role(role.String), nil
}

// roleOn is the user's effective role on an inspection
// (framework.EffectiveRole).
func roleOn(ctx context.Context, tx *sql.Tx, u framework.User, inspectionID string) (framework.Role, error) {
	if u.Admin {
		return framework.EffectiveRole("", true), nil // no need to read the team
	}
	return teamRole(ctx, tx, inspectionID, u.Name)
}

// visibleCase loads a case for a caller who may see it, with the caller's
// role; to anyone else it answers as framework.CanSeeCase's errors say,
// the same whether the case exists or not.
func visibleCase(ctx context.Context, tx *sql.Tx, u framework.User, inspectionID, caseRef string) (caseRow, framework.Role, error) {
	role, err := roleOn(ctx, tx, u, inspectionID)
	if err != nil {
		return caseRow{}, "", err
	}
	if role == "" {
		return caseRow{}, "", framework.NotOnTeamError(inspectionID)
	}
	cr, err := loadCase(ctx, tx, inspectionID, caseRef)
	if err != nil {
		if framework.ErrorCode(err) != "" && !framework.CanSeeCase(role, false) {
			return caseRow{}, role, framework.CaseHiddenError(inspectionID, caseRef)
		}
		return caseRow{}, role, err
	}
	if !framework.CanSeeCase(role, cr.c.Inspector == u.Name) {
		return caseRow{}, role, framework.CaseHiddenError(inspectionID, caseRef)
	}
	return cr, role, nil
}

// SetCaseStatus moves a case to a new status after checking the lifecycle
// rules (Framework.CheckStatusChange: the lock, the transition and, for
// submission, that every applicable question is answered). A status op on
// the Push stream is decided by the same rule (casestatus.go).
func (db *DB) SetCaseStatus(ctx context.Context, u framework.User, device, inspectionID, caseRef string, to framework.CaseStatus, reason string) (framework.Case, error) {
	var out framework.Case
	err := db.write(ctx, func(tx *sql.Tx) error {
		cr, role, err := visibleCase(ctx, tx, u, inspectionID, caseRef)
		if err != nil {
			return err
		}
		fw, status, err := db.inspectionFramework(ctx, tx, inspectionID)
		if err != nil {
			return err
		}
		answers, err := caseAnswers(ctx, tx, cr.id)
		if err != nil {
			return err
		}
		if err := fw.CheckStatusChange(role, cr.c.Inspector == u.Name, inspectionID, status, cr.c, framework.CaseFacts(cr.c.Attributes, answers), to, reason); err != nil {
			return err
		}
		at := db.now()
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET status = ?, status_rev = status_rev + 1, status_device = ? WHERE id = ?`, to, device, cr.id); err != nil {
			return err
		}
		if err := addChange(ctx, tx, inspectionID, "case", cr.id, cr.id); err != nil {
			return err
		}
		if err := audit(ctx, tx, at, framework.Actor{User: u.Name, Device: device, Admin: u.Admin}, "case.status", "case/"+inspectionID+"/"+caseRef,
			map[string]any{"status": cr.c.Status}, map[string]any{"status": to, "reason": reason}); err != nil {
			return err
		}
		out = cr.c
		out.Status = to
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("set case status: %w", err)
	}
	return out, nil
}

// SetInspectionStatus changes an inspection's status (lock freezes every
// case; unlocking needs a reason).
func (db *DB) SetInspectionStatus(ctx context.Context, u framework.User, device, inspectionID string, to framework.InspectionStatus, reason string) (framework.Inspection, error) {
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, status, err := db.inspectionFramework(ctx, tx, inspectionID)
		if err != nil {
			return err
		}
		role, err := roleOn(ctx, tx, u, inspectionID)
		if err != nil {
			return err
		}
		if err := framework.CheckInspectionTransition(role, status, to, reason); err != nil {
			return fmt.Errorf("inspection %s: %w", inspectionID, err)
		}
		at := db.now()
		if _, err := tx.ExecContext(ctx, `UPDATE inspections SET status = ? WHERE id = ?`, to, inspectionID); err != nil {
			return err
		}
		if err := addChange(ctx, tx, inspectionID, "inspection", nil, inspectionID); err != nil {
			return err
		}
		return audit(ctx, tx, at, framework.Actor{User: u.Name, Device: device, Admin: u.Admin}, "inspection.status", "inspection/"+inspectionID,
			map[string]any{"status": status}, map[string]any{"status": to, "reason": reason})
	})
	if err != nil {
		return framework.Inspection{}, fmt.Errorf("set inspection status: %w", err)
	}
	return db.Inspection(ctx, u, inspectionID)
}
