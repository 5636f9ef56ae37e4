package store

import (
	"context"
	"database/sql"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/syncer"
)

// Status ops: a case moved to another status by an op on the Push stream
// (a submission made offline and queued in the outbox). The rule is the
// one SetCaseStatus asks, Framework.CheckStatusChange, judged on the case
// as the push group holds it at that op: after the earlier ops of the
// batch (and of the group), so answers sent in the same batch before the
// submission count towards it, and answers after it face a submitted case.

// applyStatus decides and stores one status op of a push group. Its order
// is an answer op's: a re-used op_id (syncer.Replay), who may see the case
// (gate: the same words whether it exists or not), then the rule.
func (db *DB) applyStatus(ctx context.Context, tx *sql.Tx, u framework.User, op framework.Op, payload int64, gc *groupCache) (framework.Ack, error) {
	rec, seen := gc.acks[op.ID]
	if !seen {
		rec, seen = gc.recorded[op.ID]
	}
	if seen {
		if err := syncer.Replay(rec.recorded(), u.Name, op, payload); err != nil {
			return reject(op, err), nil // not recorded: the first op's record stands
		}
		ack := rec.ack
		ack.Duplicate = true
		return gc.statusCurrent(ctx, tx, u, op, ack)
	}
	role, bi, cr, refusal, err := db.gate(ctx, tx, u, op, gc)
	if err != nil {
		return framework.Ack{}, err
	}
	if refusal != nil {
		return db.record(ctx, tx, u, op, payload, reject(op, refusal), gc, false)
	}
	if _, err := gc.answer(ctx, tx, cr.id, ""); err != nil { // reads the case's answers into the group's cache
		return framework.Ack{}, err
	}
	facts := gc.nowFacts(cr)
	st := op.Status
	// A status op names the status revision its device had seen: if someone
	// else changed the case's status since (QA returned it, say), the op was
	// made on a case that no longer stands and is refused, kept on the
	// laptop, instead of undoing that change unseen. A device's own changes
	// since do not make it stale.
	if op.BaseRevision != cr.c.StatusRevision && cr.statusDevice != op.DeviceID {
		stale := framework.Errorf(framework.CodePrecondition, "case %s: its status changed since this device last synced (now %s, revision %d; this op saw revision %d): sync, check the case and change it again",
			op.CaseRef, cr.c.Status, cr.c.StatusRevision, op.BaseRevision)
		ack, err := db.record(ctx, tx, u, op, payload, reject(op, stale), gc, false)
		if err != nil {
			return ack, err
		}
		return gc.statusCurrent(ctx, tx, u, op, ack)
	}
	if err := bi.fw.CheckStatusChange(role, cr.c.Inspector == u.Name, op.InspectionID, bi.status, cr.c, facts, st.Status, st.Reason); err != nil {
		ack, err := db.record(ctx, tx, u, op, payload, reject(op, err), gc, false)
		if err != nil {
			return ack, err
		}
		return gc.statusCurrent(ctx, tx, u, op, ack)
	}
	at := gc.now(db)
	a := framework.Actor{User: u.Name, Device: op.DeviceID, Admin: u.Admin}
	last, reused, found := gc.reusedSeq(u.Name, op)
	if found {
		gc.audit(at, a, "device.reused", "inspection/"+op.InspectionID+"/device/"+op.DeviceID,
			map[string]any{"last_device_seq": last}, map[string]any{"device_seq": op.DeviceSeq, "op_id": op.ID})
	}
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET status = ?, status_rev = status_rev + 1, status_device = ? WHERE id = ?`, st.Status, op.DeviceID, cr.id); err != nil {
		return framework.Ack{}, err
	}
	// Later ops of the group see the new status (an answer after a
	// submission faces a submitted case).
	if c, ok := gc.cases[[2]string{op.InspectionID, op.CaseRef}]; ok {
		c.c.Status = st.Status
		c.c.StatusRevision++
		c.statusDevice = op.DeviceID
	}
	gc.change(op.InspectionID, "case", cr.id, cr.id)
	gc.audit(at, a, "case.status", "case/"+op.InspectionID+"/"+op.CaseRef,
		map[string]any{"status": cr.c.Status}, map[string]any{"status": st.Status, "reason": st.Reason, "op_id": op.ID})
	ack := framework.Ack{OpID: op.ID, Result: framework.OpApplied, DeviceReused: reused}
	if ack, err = db.record(ctx, tx, u, op, payload, ack, gc, false); err != nil {
		return ack, err
	}
	return gc.statusCurrent(ctx, tx, u, op, ack)
}

// statusCurrent is withCurrent for a status op: what the ack shows of the
// case is decided afresh for whoever sends it, and only someone who may
// see the case is shown it as it now stands.
func (gc *groupCache) statusCurrent(ctx context.Context, tx *sql.Tx, u framework.User, op framework.Op, ack framework.Ack) (framework.Ack, error) {
	ack, err := gc.withCurrent(ctx, tx, u, op, ack)
	if err != nil {
		return ack, err
	}
	ack.Answer, ack.Case = nil, nil
	if visible, err := gc.canSee(ctx, tx, u, op.InspectionID, op.CaseRef); err != nil || !visible {
		return ack, err
	}
	cr, err := gc.loadCase(ctx, tx, op.InspectionID, op.CaseRef)
	if err != nil {
		return ack, err
	}
	c := cr.c
	ack.Case = &c
	return ack, nil
}
