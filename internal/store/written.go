package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
	"github.com/fieldworkhq/fieldwork/internal/syncer"
)

// Written judgements on the server: pushed written ops (applyWritten, from
// the push group), findings.csv imports (ImportFindings), and reading the
// items for reports and pulls. Who may write is framework.CheckWrittenWrite,
// the item's checks Framework.CheckWritten, the decision between revisions
// syncer.DecideWritten — the answers' rule.

const writtenCols = `item_id, inspection_id, kind, standard_id, text, withdrawn, revision, ord, created_by, created_at, updated_by, device_id, updated_at`

func scanWritten(row interface{ Scan(...any) error }) (framework.WrittenItem, error) {
	var it framework.WrittenItem
	var created, updated string
	err := row.Scan(&it.ID, &it.InspectionID, &it.Kind, &it.StandardID, &it.Text, &it.Withdrawn, &it.Revision, &it.Order,
		&it.CreatedBy, &created, &it.UpdatedBy, &it.DeviceID, &updated)
	it.CreatedAt, it.UpdatedAt = sqlite.ParseTime(created), sqlite.ParseTime(updated)
	return it, err
}

// writtenItem is one item as it stands (nil if there is none).
func writtenItem(ctx context.Context, tx *sql.Tx, inspectionID, itemID string) (*framework.WrittenItem, error) {
	it, err := scanWritten(tx.QueryRowContext(ctx, `SELECT `+writtenCols+` FROM written_items WHERE inspection_id = ? AND item_id = ?`, inspectionID, itemID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("written item %s: %w", itemID, err)
	}
	return &it, nil
}

// writtenItems lists an inspection's items, withdrawn ones included.
func writtenItems(ctx context.Context, tx *sql.Tx, inspectionID string) ([]framework.WrittenItem, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+writtenCols+` FROM written_items WHERE inspection_id = ? ORDER BY ord`, inspectionID)
	if err != nil {
		return nil, fmt.Errorf("written items: %w", err)
	}
	defer rows.Close()
	var out []framework.WrittenItem
	for rows.Next() {
		it, err := scanWritten(rows)
		if err != nil {
			return nil, fmt.Errorf("written items: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// WrittenItems lists an inspection's written items, withdrawn ones
// included, in order of creation.
func (db *DB) WrittenItems(ctx context.Context, inspectionID string) ([]framework.WrittenItem, error) {
	var out []framework.WrittenItem
	err := db.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = writtenItems(ctx, tx, inspectionID)
		return err
	})
	return out, err
}

// putWritten stores the next revision of an item (a new item when it has
// none yet), its history row, its pull change and its audit entry. The
// audit entry holds the text: the trail is the record of who wrote what.
func putWritten(ctx context.Context, tx *sql.Tx, at string, a framework.Actor, before *framework.WrittenItem, it *framework.WrittenItem, opID string) error {
	it.UpdatedBy, it.DeviceID, it.UpdatedAt = a.User, a.Device, sqlite.ParseTime(at)
	action := "written.edit"
	var b any
	if before == nil {
		action = "written.create"
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(ord), 0) + 1 FROM written_items WHERE inspection_id = ?`, it.InspectionID).Scan(&it.Order); err != nil {
			return err
		}
		it.CreatedBy, it.CreatedAt = a.User, it.UpdatedAt
	} else {
		b = map[string]any{"text": before.Text, "withdrawn": before.Withdrawn, "revision": before.Revision}
		if it.Withdrawn && !before.Withdrawn {
			action = "written.withdraw"
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO written_items (`+writtenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (inspection_id, item_id) DO UPDATE SET text = excluded.text, withdrawn = excluded.withdrawn, revision = excluded.revision,
		updated_by = excluded.updated_by, device_id = excluded.device_id, updated_at = excluded.updated_at`,
		it.ID, it.InspectionID, it.Kind, it.StandardID, it.Text, it.Withdrawn, it.Revision, it.Order, it.CreatedBy, at, it.UpdatedBy, it.DeviceID, at); err != nil {
		return fmt.Errorf("write written item: %w", err)
	}
	var op any
	if opID != "" {
		op = opID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO written_history (inspection_id, item_id, revision, text, withdrawn, updated_by, device_id, updated_at, op_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, it.InspectionID, it.ID, it.Revision, it.Text, it.Withdrawn, a.User, a.Device, at, op); err != nil {
		return fmt.Errorf("write written history: %w", err)
	}
	if err := addChange(ctx, tx, it.InspectionID, "written", nil, it.ID); err != nil {
		return err
	}
	return audit(ctx, tx, at, a, action, writtenEntity(it.InspectionID, it.ID), b,
		map[string]any{"kind": it.Kind, "standard_id": it.StandardID, "text": it.Text, "withdrawn": it.Withdrawn, "revision": it.Revision, "op_id": opID})
}

func writtenEntity(inspectionID, itemID string) string {
	return "inspection/" + inspectionID + "/written/" + itemID
}

// writtenKey is the (case, question) pair under which supersessions of a
// written item's edits are kept: no case id has this form.
func writtenKey(inspectionID string) string { return "written:" + inspectionID }

// applyWritten decides and stores one written op of a push group. Its
// order is an answer op's: a re-used op_id (syncer.Replay), who may write
// (framework.CheckWrittenWrite: the lead, in an inspection not locked),
// the item's checks, then syncer.DecideWritten. Only someone who may write
// the item is shown it (or the conflict) in the ack.
func (db *DB) applyWritten(ctx context.Context, tx *sql.Tx, u framework.User, op framework.Op, payload int64, gc *groupCache) (framework.Ack, error) {
	rec, seen := gc.acks[op.ID]
	if !seen {
		rec, seen = gc.recorded[op.ID]
	}
	if seen {
		if err := syncer.Replay(rec.recorded(), u.Name, op, payload); err != nil {
			return reject(op, err), nil
		}
		ack := rec.ack
		ack.Duplicate = true
		return db.writtenCurrent(ctx, tx, u, op, ack, gc)
	}
	role, err := gc.role(ctx, tx, u, op.InspectionID)
	if err != nil {
		return framework.Ack{}, err
	}
	if role == "" {
		return db.record(ctx, tx, u, op, payload, reject(op, framework.NotOnTeamError(op.InspectionID)), gc, false)
	}
	ack, err := db.decideWritten(ctx, tx, u, role, op, gc)
	if err != nil {
		return ack, err
	}
	if ack, err = db.record(ctx, tx, u, op, payload, ack, gc, false); err != nil {
		return ack, err
	}
	return db.writtenCurrent(ctx, tx, u, op, ack, gc)
}

// decideWritten checks a written op, decides it and stores what it wrote.
func (db *DB) decideWritten(ctx context.Context, tx *sql.Tx, u framework.User, role framework.Role, op framework.Op, gc *groupCache) (framework.Ack, error) {
	w := op.Written
	fw, status, err := db.inspectionFramework(ctx, tx, op.InspectionID)
	if err != nil {
		if framework.ErrorCode(err) == "" {
			return framework.Ack{}, err
		}
		return reject(op, err), nil
	}
	if err := framework.CheckWrittenWrite(role, op.InspectionID, status); err != nil {
		return reject(op, err), nil
	}
	cur, err := writtenItem(ctx, tx, op.InspectionID, w.ItemID)
	if err != nil {
		return framework.Ack{}, err
	}
	if err := fw.CheckWritten(*w, cur); err != nil {
		return reject(op, err), nil
	}
	var resolving string
	if op.ConflictID != "" {
		var itemID, st string
		err := tx.QueryRowContext(ctx, `SELECT item_id, status FROM written_conflicts WHERE id = ? AND inspection_id = ?`, op.ConflictID, op.InspectionID).Scan(&itemID, &st)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return reject(op, framework.Errorf(framework.CodeNotFound, "conflict %s not found", op.ConflictID)), nil
		case err != nil:
			return framework.Ack{}, err
		case itemID != w.ItemID:
			return reject(op, framework.Errorf(framework.CodeInvalid, "conflict %s is about written item %s, not %s", op.ConflictID, itemID, w.ItemID)), nil
		case st == "open":
			resolving = op.ConflictID
		}
	}
	at := gc.now(db)
	a := framework.Actor{User: u.Name, Device: op.DeviceID, Admin: u.Admin}
	last, reused, found := gc.reusedSeq(u.Name, op)
	if found {
		gc.audit(at, a, "device.reused", "inspection/"+op.InspectionID+"/device/"+op.DeviceID,
			map[string]any{"last_device_seq": last}, map[string]any{"device_seq": op.DeviceSeq, "op_id": op.ID})
	}
	facts := syncer.Facts{Reused: reused, Since: func(base int64) ([]syncer.Revision, error) {
		return writtenSince(ctx, tx, op.InspectionID, w.ItemID, base)
	}}
	if sp, ok := gc.superseded[op.ID]; ok {
		facts.SupersededBy = &syncer.Supersession{By: sp.by, User: sp.user, Device: sp.device,
			SameAnswer: sp.caseID == writtenKey(op.InspectionID) && sp.qid == w.ItemID}
	}
	ack, err := syncer.DecideWritten(op, u.Name, cur, facts)
	if err != nil {
		return ack, err
	}
	ack.DeviceReused = reused
	switch {
	case ack.Result == framework.OpApplied && ack.Written != nil:
		if err := putWritten(ctx, tx, at, a, cur, ack.Written, op.ID); err != nil {
			return ack, err
		}
	case ack.Result == framework.OpConflict:
		c := ack.WrittenConflict
		c.CreatedAt = sqlite.ParseTime(at)
		if _, err := tx.ExecContext(ctx, `INSERT INTO written_conflicts (id, inspection_id, item_id, op_id, base_revision, server_revision, server_text,
			server_withdrawn, client_text, client_withdrawn, client_user, client_device, created_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')`,
			c.ID, c.InspectionID, c.ItemID, op.ID, c.BaseRevision, c.ServerRevision, c.ServerText, c.ServerWithdrawn, c.ClientText, c.ClientWithdrawn,
			c.ClientUser, c.ClientDevice, at); err != nil {
			return ack, fmt.Errorf("write written conflict: %w", err)
		}
		// To every laptop of every lead, not only the one whose edit it kept.
		if err := addChange(ctx, tx, op.InspectionID, "written_conflict", nil, c.ID); err != nil {
			return ack, err
		}
		gc.audit(at, a, "written.conflict", writtenEntity(op.InspectionID, w.ItemID), map[string]any{"text": c.ServerText, "revision": c.ServerRevision},
			map[string]any{"text": c.ClientText, "withdrawn": c.ClientWithdrawn, "base_revision": c.BaseRevision, "conflict": c.ID})
	}
	if ack.Result != framework.OpApplied {
		return ack, nil
	}
	// Each earlier edit of this item the op names is superseded by it.
	for _, id := range op.Supersedes {
		if _, ok := gc.superseded[id]; ok || id == op.ID {
			continue
		}
		gc.superseded[id] = supersession{by: op.ID, user: u.Name, device: op.DeviceID, caseID: writtenKey(op.InspectionID), qid: w.ItemID}
		gc.rows.supers = append(gc.rows.supers, []any{id, op.ID, u.Name, op.DeviceID, writtenKey(op.InspectionID), w.ItemID})
	}
	if resolving != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE written_conflicts SET status = 'resolved', resolved_by = ? WHERE id = ?`, u.Name, resolving); err != nil {
			return ack, err
		}
		if err := addChange(ctx, tx, op.InspectionID, "written_conflict", nil, resolving); err != nil {
			return ack, err
		}
		gc.audit(at, a, "written.resolve", writtenEntity(op.InspectionID, w.ItemID)+"/conflict/"+resolving,
			map[string]string{"status": "open"}, map[string]any{"status": "resolved", "revision": ack.Revision})
	}
	return ack, nil
}

// writtenCurrent adds the item as it stands (and, for a conflict, the
// conflict) to an ack, for a caller who may write it; anyone else is told
// only what happened to their op, in words about themselves.
func (db *DB) writtenCurrent(ctx context.Context, tx *sql.Tx, u framework.User, op framework.Op, ack framework.Ack, gc *groupCache) (framework.Ack, error) {
	ack.Answer, ack.Conflict, ack.Written, ack.WrittenConflict = nil, nil, nil, nil
	role, err := gc.role(ctx, tx, u, op.InspectionID)
	if err != nil {
		return ack, err
	}
	if !framework.CanLead(role) {
		if ack.Result != framework.OpRejected || framework.ErrorCode(ack.Err) != framework.CodePermission {
			ack.Reason, ack.Err = "", nil
			if ack.Result == framework.OpRejected {
				refusal := framework.CheckWrittenWrite(role, op.InspectionID, "")
				ack.Reason, ack.Err = refusal.Error(), refusal
			}
		}
		return ack, nil
	}
	if ack.Written, err = writtenItem(ctx, tx, op.InspectionID, op.Written.ItemID); err != nil {
		return ack, err
	}
	if ack.Result == framework.OpConflict {
		c, err := writtenConflictByOp(ctx, tx, op.ID)
		if err != nil {
			return ack, err
		}
		ack.WrittenConflict = c
	}
	return ack, nil
}

func writtenConflictByOp(ctx context.Context, tx *sql.Tx, opID string) (*framework.WrittenConflict, error) {
	return writtenConflictWhere(ctx, tx, "k.op_id = ?", opID)
}

// writtenConflictByID reads one written conflict (nil if there is none).
func writtenConflictByID(ctx context.Context, tx *sql.Tx, id string) (*framework.WrittenConflict, error) {
	return writtenConflictWhere(ctx, tx, "k.id = ?", id)
}

func writtenConflictWhere(ctx context.Context, tx *sql.Tx, where string, arg any) (*framework.WrittenConflict, error) {
	var c framework.WrittenConflict
	var at string
	err := tx.QueryRowContext(ctx, `SELECT k.id, k.inspection_id, k.item_id, coalesce(i.kind, ''), coalesce(i.standard_id, ''), k.base_revision, k.server_revision,
		k.server_text, k.server_withdrawn, k.client_text, k.client_withdrawn, k.client_user, k.client_device, k.created_at, k.status, k.resolved_by
		FROM written_conflicts k LEFT JOIN written_items i ON i.inspection_id = k.inspection_id AND i.item_id = k.item_id WHERE `+where, arg).
		Scan(&c.ID, &c.InspectionID, &c.ItemID, &c.Kind, &c.StandardID, &c.BaseRevision, &c.ServerRevision, &c.ServerText, &c.ServerWithdrawn,
			&c.ClientText, &c.ClientWithdrawn, &c.ClientUser, &c.ClientDevice, &at, &c.Status, &c.ResolvedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	c.CreatedAt = sqlite.ParseTime(at)
	return &c, err
}

// writtenSince lists who wrote an item's revisions after base.
func writtenSince(ctx context.Context, tx *sql.Tx, inspectionID, itemID string, base int64) ([]syncer.Revision, error) {
	return historySince(ctx, tx, nil, "written_history", "inspection_id", "item_id", inspectionID, itemID, base)
}

// CheckFindings runs ImportFindings' checks on rows and writes nothing (a
// read transaction): nil when ImportFindings would record them, else the
// same error, whose problems framework.RowProblemsOf gets back.
func (db *DB) CheckFindings(ctx context.Context, a framework.Actor, inspectionID string, rows []framework.FindingRow) error {
	return db.read(ctx, func(tx *sql.Tx) error {
		_, errs, err := db.checkFindings(ctx, tx, a, inspectionID, rows)
		if err != nil {
			return err
		}
		return errs.Err()
	})
}

// checkFindings is ImportFindings' checks, reading only: every row's
// problem in errs, and the inspection's written items. err is a refusal
// whatever the rows (the caller may not write, the inspection locked or
// unknown) or an internal error.
func (db *DB) checkFindings(ctx context.Context, tx *sql.Tx, a framework.Actor, inspectionID string, rows []framework.FindingRow) ([]framework.WrittenItem, *framework.RowErrors, error) {
	fw, status, err := db.inspectionFramework(ctx, tx, inspectionID)
	if err != nil {
		return nil, nil, err
	}
	role, err := roleOn(ctx, tx, framework.User{Name: a.User, Admin: a.Admin}, inspectionID)
	if err != nil {
		return nil, nil, err
	}
	if err := framework.CheckWrittenWrite(role, inspectionID, status); err != nil {
		return nil, nil, err
	}
	items, err := writtenItems(ctx, tx, inspectionID)
	if err != nil {
		return nil, nil, err
	}
	errs := &framework.RowErrors{File: "findings.csv"}
	summaries := 0
	for _, r := range rows {
		w := r.Op()
		if w.Kind == framework.WrittenSummary {
			if summaries++; summaries == 2 {
				errs.Add(r.Line, "a second summary row: an inspection has one summary judgement")
				continue
			}
		} else {
			w.ItemID = uuid.Nil.String() // checked as a new item
		}
		if err := fw.CheckWritten(w, nil); err != nil {
			errs.Add(r.Line, "%v", err)
		}
	}
	return items, errs, nil
}

// ImportFindings records the rows of a findings.csv, all or none, after
// checking every row (each bad row reported at once): the summary row sets
// the summary; every other row adds an item, unless a live item of the
// same kind, standard and text is there already (the file imported again),
// which is counted unchanged.
func (db *DB) ImportFindings(ctx context.Context, a framework.Actor, inspectionID string, rows []framework.FindingRow) (applied, unchanged int, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		items, errs, err := db.checkFindings(ctx, tx, a, inspectionID, rows)
		if err != nil {
			return err
		}
		if err := errs.Err(); err != nil {
			return err
		}
		at := db.now()
		for _, r := range rows {
			w := r.Op()
			var before *framework.WrittenItem
			if w.Kind == framework.WrittenSummary {
				for i := range items {
					if items[i].ID == framework.SummaryItemID {
						before = &items[i]
					}
				}
				if before != nil && !before.Withdrawn && before.Text == w.Text {
					unchanged++
					continue
				}
			} else {
				dup := false
				for _, it := range items {
					dup = dup || !it.Withdrawn && it.Kind == w.Kind && it.StandardID == w.StandardID && it.Text == w.Text
				}
				if dup {
					unchanged++
					continue
				}
				w.ItemID = uuid.Must(uuid.NewV7()).String()
			}
			it := &framework.WrittenItem{ID: w.ItemID, InspectionID: inspectionID, Kind: w.Kind, StandardID: w.StandardID, Text: w.Text, Revision: 1}
			if before != nil {
				it.Revision, it.Order, it.CreatedBy, it.CreatedAt = before.Revision+1, before.Order, before.CreatedBy, before.CreatedAt
			}
			if err := putWritten(ctx, tx, at, a, before, it, ""); err != nil {
				return err
			}
			items = append(items, *it)
			applied++
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("import findings: %w", err)
	}
	return applied, unchanged, nil
}
