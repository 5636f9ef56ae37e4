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

// ApplyOps applies a batch of answer ops in one transaction and returns
// one acknowledgement per op, in order. An op seen before is answered from
// the record of its first application (Duplicate set). Invalid ops are
// rejected individually with a reason (and the error in Ack.Err); they do
// not stop the rest of the batch. Who may write what is
// framework.CheckAnswerWrite, asked of every op.
//
// Batches pushed concurrently are grouped into one shared write
// transaction (group commit): SQLite has one writer, so sharing the
// transaction and its commit is what lets many clients push at once
// without queueing on SQLITE_BUSY.
func (db *DB) ApplyOps(ctx context.Context, u framework.User, ops []framework.Op) ([]framework.Ack, error) {
	p, err := db.SubmitOps(ctx, u, ops)
	if err != nil {
		return nil, err
	}
	return p.Wait()
}

// SubmitOps queues a batch for the committer like ApplyOps and returns
// without waiting for it to be applied, so that a push stream can receive
// and queue its next batch meanwhile; Wait returns the batch's acks.
// Batches submitted one after another are applied in that order.
func (db *DB) SubmitOps(ctx context.Context, u framework.User, ops []framework.Op) (*PendingOps, error) {
	req := &applyRequest{ctx: ctx, user: u, ops: ops, done: make(chan struct{})}
	select {
	case db.applyCh <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-db.closed:
		return nil, errors.New("apply ops: database closed")
	}
	return &PendingOps{req: req}, nil
}

// PendingOps is a batch queued by SubmitOps.
type PendingOps struct{ req *applyRequest }

// Wait returns the batch's acks once it is applied (or failed): once
// queued a batch is always applied or failed, so Wait does not take a
// context.
func (p *PendingOps) Wait() ([]framework.Ack, error) {
	<-p.req.done
	if p.req.err != nil {
		return nil, fmt.Errorf("apply ops: %w", p.req.err)
	}
	return p.req.acks, nil
}

type applyRequest struct {
	ctx  context.Context
	user framework.User
	ops  []framework.Op
	acks []framework.Ack
	err  error
	done chan struct{}
}

// maxGroupOps bounds the ops one shared transaction takes on.
const maxGroupOps = 10000

// committer applies queued requests, as many as are waiting, in one
// transaction each round.
func (db *DB) committer() {
	defer close(db.committerDone)
	for {
		var first *applyRequest
		select {
		case first = <-db.applyCh:
		case <-db.closed:
			return
		}
		group := []*applyRequest{first}
		n := len(first.ops)
	drain:
		for n < maxGroupOps {
			select {
			case r := <-db.applyCh:
				group = append(group, r)
				n += len(r.ops)
			default:
				break drain
			}
		}
		err := db.applyGroup(group)
		if err != nil && len(group) > 1 {
			// One request failed the shared transaction: apply each alone so
			// the failure stays with the request that caused it.
			for _, r := range group {
				r.err = db.applyGroup([]*applyRequest{r})
			}
		} else if err != nil {
			first.err = err
		}
		for _, r := range group {
			close(r.done)
		}
	}
}

func (db *DB) applyGroup(group []*applyRequest) error {
	// Statements run without the requests' contexts: the driver starts a
	// watcher goroutine per statement for a cancellable context, and a
	// shared transaction must not be cut short by one client going away.
	ctx := context.Background()
	return db.write(ctx, func(tx *sql.Tx) error {
		gc := newGroupCache()
		if err := gc.prefetchRecorded(ctx, tx, group); err != nil {
			return fmt.Errorf("read op records: %w", err)
		}
		for _, r := range group {
			if err := r.ctx.Err(); err != nil {
				r.err = err
				continue
			}
			r.acks = make([]framework.Ack, len(r.ops))
			gc.startBatch(r.ops)
			for i, op := range r.ops {
				ack, err := db.applyOp(ctx, tx, r.user, op, gc)
				if err != nil {
					return fmt.Errorf("op %s: %w", op.ID, err)
				}
				r.acks[i] = ack
			}
		}
		if err := gc.flush(ctx, tx); err != nil {
			return err
		}
		return gc.counts.flush(ctx, tx)
	})
}

func (db *DB) applyOp(ctx context.Context, tx *sql.Tx, u framework.User, op framework.Op, gc *groupCache) (framework.Ack, error) {
	if err := framework.CheckOp(op); err != nil {
		// Not recorded: without a valid id there is nothing to deduplicate
		// on, and the record would keep what the limits refuse.
		return reject(op, err), nil
	}
	payload := syncer.Payload(u.Name, op)
	if op.Marking != nil { // a second marking, not the case's answers (markingpush.go)
		return db.applyMarking(ctx, tx, u, op, payload, gc)
	}
	if op.Written != nil { // a written judgement, not an answer (written.go)
		return db.applyWritten(ctx, tx, u, op, payload, gc)
	}
	if op.Status != nil { // a case status change, not an answer (casestatus.go)
		return db.applyStatus(ctx, tx, u, op, payload, gc)
	}
	rec, ok := gc.acks[op.ID]
	if ok {
		rec.ack.Duplicate = true
	} else {
		rec, ok = gc.recorded[op.ID]
	}
	if ok {
		if err := syncer.Replay(rec.recorded(), u.Name, op, payload); err != nil {
			return reject(op, err), nil // not recorded: the first op's record stands
		}
		return gc.withCurrent(ctx, tx, u, op, rec.ack)
	}
	var resolving *framework.Conflict
	if op.ConflictID != "" {
		// The op's own case first: what the conflict lookup says must not
		// tell a caller who may not see that case whether it exists.
		if _, _, _, refusal, err := db.gate(ctx, tx, u, op, gc); err != nil {
			return framework.Ack{}, err
		} else if refusal != nil {
			return db.record(ctx, tx, u, op, payload, reject(op, refusal), gc, false)
		}
		c, err := conflictByID(ctx, tx, op.ConflictID)
		var named *framework.Conflict
		switch {
		case err == nil:
			// A conflict on a case the caller may not see is one they are
			// told nothing of, as if it did not exist.
			visible, err := gc.canSee(ctx, tx, u, c.InspectionID, c.CaseRef)
			if err != nil {
				return framework.Ack{}, err
			}
			if visible {
				named = &c
			}
		case !errors.Is(err, sql.ErrNoRows):
			return framework.Ack{}, err
		}
		if resolving, err = syncer.CheckResolution(op, named); err != nil {
			return db.record(ctx, tx, u, op, payload, reject(op, err), gc, false)
		}
	}
	last, reused, found := gc.reusedSeq(u.Name, op)
	ack, cur, err := db.decideOp(ctx, tx, u, op, gc, reused)
	if err != nil {
		return ack, err
	}
	at := gc.now(db)
	a := framework.Actor{User: u.Name, Device: op.DeviceID, Admin: u.Admin}
	if reused {
		ack.DeviceReused = true
	}
	if found && cur.caseID != "" { // only where the caller may write: an outsider writes nothing into an inspection's trail
		gc.audit(at, a, "device.reused", "inspection/"+op.InspectionID+"/device/"+op.DeviceID,
			map[string]any{"last_device_seq": last}, map[string]any{"device_seq": op.DeviceSeq, "op_id": op.ID})
	}
	written := false
	switch ack.Result {
	case framework.OpApplied:
		if ack.Answer != nil { // nil: converged or superseded, nothing to store
			if err := gc.putAnswer(ctx, tx, at, a, cur, ack.Answer, op, payload); err != nil {
				return ack, err
			}
			written = true
		}
	case framework.OpConflict:
		if err := gc.putConflict(ctx, tx, at, ack.Conflict, op.ID, cur.caseID); err != nil {
			return ack, err
		}
	}
	if resolving != nil && ack.Result == framework.OpApplied {
		resolution := fmt.Sprintf("%s: %s at revision %d", op.Resolution, op.Value, ack.Revision)
		if _, err := tx.ExecContext(ctx, `UPDATE conflicts SET status = 'resolved', resolved_by = ?, resolution = ? WHERE id = ?`,
			u.Name, resolution, resolving.ID); err != nil {
			return ack, err
		}
		gc.change(op.InspectionID, "conflict", cur.caseID, resolving.ID)
		gc.audit(at, a, "conflict.resolve", "case/"+op.InspectionID+"/"+op.CaseRef+"/"+op.QuestionID+"/conflict/"+resolving.ID,
			map[string]string{"status": "open"}, map[string]string{"status": "resolved", "resolution": resolution})
	}
	return db.record(ctx, tx, u, op, payload, ack, gc, written)
}

// withCurrent adds the server's current answer to an ack, for a caller
// who may see the case (framework.CanSeeCase). To anyone else an ack says
// only what happened to their own op: no answer, note, conflict or reason
// drawn from the case.
func (gc *groupCache) withCurrent(ctx context.Context, tx *sql.Tx, u framework.User, op framework.Op, ack framework.Ack) (framework.Ack, error) {
	ack.Answer = nil
	cr, err := gc.loadCase(ctx, tx, op.InspectionID, op.CaseRef)
	if err != nil {
		if framework.ErrorCode(err) != "" {
			return ack, nil // no such case: nothing of one to show
		}
		return ack, err
	}
	role, err := gc.role(ctx, tx, u, op.InspectionID)
	if err != nil {
		return ack, err
	}
	hidden := framework.CaseHiddenError(op.InspectionID, op.CaseRef)
	visible := framework.CanSeeCase(role, cr.c.Inspector == u.Name)
	if visible {
		// The blind of second marking: to its QA marker a case's answers
		// are as hidden as another's case, in the words of MarkingHiddenError.
		blind, err := gc.blindFirst(ctx, tx, u, role, op.InspectionID, cr)
		if err != nil {
			return ack, err
		}
		if blind {
			visible, hidden = false, framework.MarkingHiddenError(op.InspectionID, op.CaseRef)
		}
	}
	if !visible {
		ack.Conflict = nil
		switch ack.Result {
		case framework.OpApplied:
			ack.Reason = ""
		case framework.OpConflict:
			// The recorded result and revision stand (a re-send gets them
			// again); what the conflict held of the case is not shown.
			ack.Reason = hidden.Error()
		case framework.OpRejected:
			if framework.ErrorCode(ack.Err) == framework.CodePermission {
				break // says only who the caller is not (NotOnTeamError, CaseHiddenError, a role)
			}
			// A refusal made while the caller could still see the case
			// (re-sent after they were taken off it) may describe it.
			ack.Reason, ack.Err = hidden.Error(), hidden
		}
		return ack, nil
	}
	c, err := gc.answer(ctx, tx, cr.id, op.QuestionID)
	if err != nil {
		return ack, err
	}
	if c.Exists {
		ans := framework.Answer{CaseRef: op.CaseRef, QuestionID: op.QuestionID, Value: c.Value, Note: c.Note, Revision: c.Revision}
		if i, ok := gc.rows.latest[[2]string{cr.id, op.QuestionID}]; ok {
			h := &gc.rows.history[i]
			ans.UpdatedBy, ans.DeviceID, ans.UpdatedAt = h.user, h.device, gc.atTime
			if h.at != gc.at {
				ans.UpdatedAt = sqlite.ParseTime(h.at)
			}
		} else {
			// Written before this group (a re-sent, rejected or converged op:
			// rare), so read who wrote it, for the device to show.
			var at string
			if err := tx.QueryRowContext(ctx, `SELECT updated_by, device_id, updated_at FROM answers WHERE case_id = ? AND question_id = ?`,
				cr.id, op.QuestionID).Scan(&ans.UpdatedBy, &ans.DeviceID, &at); err != nil {
				return ack, err
			}
			ans.UpdatedAt = sqlite.ParseTime(at)
		}
		ack.Answer = &ans
	}
	return ack, nil
}

// record keeps an op's result so that re-sending it returns the same. An
// op that wrote an answer version is recorded by that version's history row.
func (db *DB) record(ctx context.Context, tx *sql.Tx, u framework.User, op framework.Op, payload int64, ack framework.Ack, gc *groupCache, written bool) (framework.Ack, error) {
	if ack.Result == framework.OpRejected {
		// Refusals of someone not on the inspection's team are not kept:
		// nothing of theirs belongs in its records (or, dismissed, in its
		// audit trail), and a re-send is refused again the same way.
		// Nor are refusals of edits to a purged inspection: its op records
		// went with its case data (docs/retention.md), and a laptop's late
		// edits must not bring any of it back.
		if role, err := gc.role(ctx, tx, u, op.InspectionID); err != nil {
			return ack, err
		} else if role == "" {
			return gc.withCurrent(ctx, tx, u, op, ack)
		}
		if purged, err := db.purged(ctx, tx, gc, op.InspectionID); err != nil || purged {
			return ack, err
		}
	}
	// The record keeps the result as decided; what the ack shows of the
	// case is decided afresh for whoever sends the op (withCurrent).
	stored := ack
	stored.Duplicate = false
	stored.Answer = nil
	var conflictID any
	if ack.Conflict != nil {
		conflictID = ack.Conflict.ID
	}
	var caseID any
	rec := opRecord{ack: stored, payload: sql.NullInt64{Int64: payload, Valid: true}, user: u.Name, device: op.DeviceID,
		seq: sql.NullInt64{Int64: op.DeviceSeq, Valid: true}, qid: op.QuestionID}
	if cr, err := gc.loadCase(ctx, tx, op.InspectionID, op.CaseRef); err == nil {
		caseID, rec.caseID = cr.id, cr.id
		if ack.Result == framework.OpApplied {
			// Each earlier edit this op names is superseded by it (the first
			// to name it wins: later ones were made after it was applied).
			for _, id := range op.Supersedes {
				if _, ok := gc.superseded[id]; ok || id == op.ID {
					continue
				}
				gc.superseded[id] = supersession{by: op.ID, user: u.Name, device: op.DeviceID, caseID: cr.id, qid: op.QuestionID}
				gc.rows.supers = append(gc.rows.supers, []any{id, op.ID, u.Name, op.DeviceID, cr.id, op.QuestionID})
			}
		}
	} else if framework.ErrorCode(err) == "" {
		return ack, err
	}
	if !written {
		var code any
		if ack.Result == framework.OpRejected {
			code = string(framework.ErrorCode(ack.Err))
		}
		gc.rows.ops = append(gc.rows.ops, []any{op.ID, int(ack.Result), ack.Revision, ack.Reason, conflictID, u.Name, op.DeviceID, op.DeviceSeq, gc.now(db), caseID, op.QuestionID, payload, code})
	}
	gc.acks[op.ID] = rec
	if k := [2]string{op.DeviceID, u.Name}; op.DeviceID != "" && op.DeviceSeq > gc.deviceMax[k].max {
		ds := gc.deviceMax[k]
		ds.max = op.DeviceSeq
		gc.deviceMax[k], gc.devicesNew[k] = ds, true
	}
	if ack.Answer == nil {
		return gc.withCurrent(ctx, tx, u, op, ack)
	}
	return ack, nil
}

// canSee reports whether u may see a case (framework.CanSeeCase); false
// for a case that does not exist.
func (gc *groupCache) canSee(ctx context.Context, tx *sql.Tx, u framework.User, inspectionID, ref string) (bool, error) {
	role, err := gc.role(ctx, tx, u, inspectionID)
	if err != nil || role == "" {
		return false, err
	}
	cr, err := gc.loadCase(ctx, tx, inspectionID, ref)
	if err != nil {
		if framework.ErrorCode(err) != "" {
			return false, nil
		}
		return false, err
	}
	return framework.CanSeeCase(role, cr.c.Inspector == u.Name), nil
}

// role is the caller's role on an inspection (RoleAdmin for an
// administrator not on its team, "" for anyone else not on it), read once
// per group: one group holds several users' batches.
func (gc *groupCache) role(ctx context.Context, tx *sql.Tx, u framework.User, inspectionID string) (framework.Role, error) {
	rk := [2]string{inspectionID, u.Name}
	role, ok := gc.roles[rk]
	if !ok {
		var err error
		if role, err = roleOn(ctx, tx, u, inspectionID); err != nil {
			return "", err
		}
		gc.roles[rk] = role
	}
	return role, nil
}

// purged reports whether an inspection was purged, from the group's cache.
func (db *DB) purged(ctx context.Context, tx *sql.Tx, gc *groupCache, inspectionID string) (bool, error) {
	bi := gc.insp[inspectionID]
	if bi == nil {
		bi = &batchInspection{}
		bi.fw, bi.status, bi.err = db.inspectionFramework(ctx, tx, inspectionID)
		gc.insp[inspectionID] = bi
	}
	if bi.err != nil && framework.ErrorCode(bi.err) == "" {
		return false, bi.err
	}
	return bi.status == framework.InspectionPurged, nil
}

func reject(op framework.Op, err error) framework.Ack {
	return framework.Ack{OpID: op.ID, Result: framework.OpRejected, Reason: err.Error(), Err: err}
}

// current is an answer as it stands, with the case it belongs to.
type current struct {
	caseID       string
	inspectionID string
	caseStatus   framework.CaseStatus
	// fw and attrs decide whether the answer counts (countDeltas.add).
	fw    *framework.Framework
	attrs map[string]string
	syncer.Current
}

// gate is what every op faces first: the caller's effective role on the
// op's inspection and whether they may see the op's case
// (framework.CanSeeCase). refusal is what the caller is told otherwise, in
// words that are the same whether the case (or inspection) exists or not.
func (db *DB) gate(ctx context.Context, tx *sql.Tx, u framework.User, op framework.Op, gc *groupCache) (role framework.Role, bi *batchInspection, cr caseRow, refusal, err error) {
	role, err = gc.role(ctx, tx, u, op.InspectionID)
	if err != nil {
		return
	}
	if role == "" {
		refusal = framework.NotOnTeamError(op.InspectionID)
		return
	}
	bi = gc.insp[op.InspectionID]
	if bi == nil {
		bi = &batchInspection{}
		bi.fw, bi.status, bi.err = db.inspectionFramework(ctx, tx, op.InspectionID)
		gc.insp[op.InspectionID] = bi
	}
	if bi.err != nil {
		if framework.ErrorCode(bi.err) == "" {
			err = bi.err
		} else {
			refusal = bi.err
		}
		return
	}
	if bi.status == framework.InspectionPurged {
		refusal = framework.PurgedError(op.InspectionID) // its cases are gone: said before looking for one
		return
	}
	cr, err = gc.loadCase(ctx, tx, op.InspectionID, op.CaseRef)
	if err != nil {
		if framework.ErrorCode(err) == "" {
			return
		}
		refusal, err = err, nil
		if !framework.CanSeeCase(role, false) {
			refusal = framework.CaseHiddenError(op.InspectionID, op.CaseRef) // as for another's case
		}
		return
	}
	if !framework.CanSeeCase(role, cr.c.Inspector == u.Name) {
		refusal = framework.CaseHiddenError(op.InspectionID, op.CaseRef)
	}
	return
}

// decideOp validates an op and decides its outcome without writing. The
// caller's role and the case's visibility are checked before anything
// about the case is read, so that a refusal says nothing of a case the
// caller may not see.
func (db *DB) decideOp(ctx context.Context, tx *sql.Tx, u framework.User, op framework.Op, gc *groupCache, reused bool) (framework.Ack, current, error) {
	var cur current
	role, bi, cr, refusal, err := db.gate(ctx, tx, u, op, gc)
	if err != nil || refusal != nil {
		if refusal != nil {
			return reject(op, refusal), cur, nil
		}
		return framework.Ack{}, cur, err
	}
	// Only now, to someone who may see the case, may a refusal describe it
	// (locks, status, role, values): withCurrent lets permission refusals
	// through as they are, so this order is what keeps them silent.
	if blind, err := gc.blindFirst(ctx, tx, u, role, op.InspectionID, cr); err != nil {
		return framework.Ack{}, cur, err
	} else if blind {
		// A QA marker marking the case blind does not write its first
		// marking either: the write would be made unseen, and its ack and
		// conflicts would show what the blind hides.
		return reject(op, framework.MarkingHiddenError(op.InspectionID, op.CaseRef)), cur, nil
	}
	if err := framework.CheckAnswerWrite(role, cr.c.Inspector == u.Name, op.InspectionID, bi.status, cr.c); err != nil {
		return reject(op, err), cur, nil
	}
	c, err := gc.answer(ctx, tx, cr.id, op.QuestionID)
	if err != nil {
		return framework.Ack{}, cur, err
	}
	v, err := bi.fw.CheckAnswerTogether(op.CaseRef, gc.leavingFacts(bi.fw, op.InspectionID, cr), gc.nowFacts(cr), op.QuestionID, op.Value)
	if err != nil {
		return reject(op, err), cur, nil
	}
	if err := framework.CheckAnswerNote(op.CaseRef, op.QuestionID, op.Note); err != nil {
		return reject(op, err), cur, nil
	}
	cur = current{caseID: cr.id, inspectionID: op.InspectionID, caseStatus: cr.c.Status, fw: bi.fw, attrs: cr.c.Attributes, Current: *c}
	facts := syncer.Facts{Current: cur.Current, Reused: reused, Since: func(base int64) ([]syncer.Revision, error) {
		return gc.revisionsSince(ctx, tx, cr.id, op.QuestionID, base)
	}}
	if sp, ok := gc.superseded[op.ID]; ok {
		facts.SupersededBy = &syncer.Supersession{By: sp.by, User: sp.user, Device: sp.device, SameAnswer: sp.caseID == cr.id && sp.qid == op.QuestionID}
	}
	ack, err := syncer.Decide(op, u.Name, v.String(), facts)
	return ack, cur, err
}

// revisionsSince lists who wrote the revisions of an answer after base,
// before or in this group.
func (gc *groupCache) revisionsSince(ctx context.Context, tx *sql.Tx, caseID, questionID string, base int64) ([]syncer.Revision, error) {
	var out []syncer.Revision
	for _, h := range gc.rows.history { // only on a stale base: rare enough to scan
		if h.caseID == caseID && h.questionID == questionID && h.revision > base {
			out = append(out, syncer.Revision{OpID: h.opID, Device: h.device, User: h.user})
		}
	}
	return historySince(ctx, tx, out, "answer_history", "case_id", "question_id", caseID, questionID, base)
}

// historySince appends to out who wrote the revisions after base of one
// entry of a history table (answers', second markings' or written items',
// each keyed by two columns): what syncer.Facts.Since asks. table and the
// column names are this package's constants, never input.
func historySince(ctx context.Context, tx *sql.Tx, out []syncer.Revision, table, col1, col2, key1, key2 string, base int64) ([]syncer.Revision, error) {
	rows, err := tx.QueryContext(ctx, `SELECT coalesce(op_id, ''), device_id, updated_by FROM `+table+`
		WHERE `+col1+` = ? AND `+col2+` = ? AND revision > ?`, key1, key2, base)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r syncer.Revision
		if err := rows.Scan(&r.OpID, &r.Device, &r.User); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
