package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
	"github.com/fieldworkhq/fieldwork/internal/syncer"
)

// Marking ops on the Push stream (Op.Marking): a second marking's answers
// and its submission, recorded offline on the QA marker's laptop. Their
// order is an answer op's — a re-used op_id (syncer.Replay), who may see
// the case (gate), who may write the marking (framework.CheckMarkingWrite),
// the answer checks on the marking's own facts, then syncer.Decide on the
// marking's revisions — and they write only marking tables: no answer, no
// kept count, no figure moves.

// markingKey is the (case, question) key under which supersessions of a
// second marking's edits are kept, apart from the case's answers'.
func markingKey(caseID string) string { return "marking:" + caseID }

// selection is a case's QA selection as the push group holds it (nil when
// it has none), read once per case; an inspection without any is read once.
func (gc *groupCache) selection(ctx context.Context, tx *sql.Tx, inspectionID, caseID string) (*framework.QASelection, error) {
	if gc.sels == nil {
		gc.sels, gc.inspSels = map[string]*framework.QASelection{}, map[string]bool{}
	}
	has, ok := gc.inspSels[inspectionID]
	if !ok {
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM qa_selections WHERE inspection_id = ?)`, inspectionID).Scan(&has); err != nil {
			return nil, err
		}
		gc.inspSels[inspectionID] = has
	}
	if !has {
		return nil, nil
	}
	if s, ok := gc.sels[caseID]; ok {
		return s, nil
	}
	s, err := selectionOf(ctx, tx, caseID)
	if err != nil {
		return nil, err
	}
	gc.sels[caseID] = s
	return s, nil
}

// blindFirst says whether the first marking of the op's case is hidden
// from u (framework.CanSeeMarkingValues), for a case u may see.
func (gc *groupCache) blindFirst(ctx context.Context, tx *sql.Tx, u framework.User, role framework.Role, inspectionID string, cr caseRow) (bool, error) {
	sel, err := gc.selection(ctx, tx, inspectionID, cr.id)
	if err != nil || sel == nil {
		return false, err
	}
	return !framework.CanSeeMarkingValues(role, u.Name, cr.c.Inspector == u.Name, sel, framework.FirstMarking), nil
}

func (db *DB) applyMarking(ctx context.Context, tx *sql.Tx, u framework.User, op framework.Op, payload int64, gc *groupCache) (framework.Ack, error) {
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
		return gc.markingCurrent(ctx, tx, u, op, ack)
	}
	ack, err := db.decideMarking(ctx, tx, u, op, gc)
	if err != nil {
		return ack, err
	}
	// What the ack shows is markingCurrent's to say; record must not take
	// the op for an answer write.
	ack.Answer, ack.Marking = nil, nil
	if ack, err = db.record(ctx, tx, u, op, payload, ack, gc, false); err != nil {
		return ack, err
	}
	return gc.markingCurrent(ctx, tx, u, op, ack)
}

func (db *DB) decideMarking(ctx context.Context, tx *sql.Tx, u framework.User, op framework.Op, gc *groupCache) (framework.Ack, error) {
	_, bi, cr, refusal, err := db.gate(ctx, tx, u, op, gc)
	if err != nil || refusal != nil {
		if refusal != nil {
			return reject(op, refusal), nil
		}
		return framework.Ack{}, err
	}
	sel, err := gc.selection(ctx, tx, op.InspectionID, cr.id)
	if err != nil {
		return framework.Ack{}, err
	}
	if err := framework.CheckMarkingWrite(u.Name, op.InspectionID, op.CaseRef, bi.status, sel); err != nil {
		return reject(op, err), nil
	}
	answers, err := markingAnswers(ctx, tx, cr.id)
	if err != nil {
		return framework.Ack{}, err
	}
	vals := map[string]string{}
	var cur syncer.Current
	for _, a := range answers {
		vals[a.QuestionID] = a.Value
		if a.QuestionID == op.QuestionID {
			cur = syncer.Current{Exists: true, Value: a.Value, Note: a.Note, Revision: a.Revision}
		}
	}
	facts := framework.CaseFacts(cr.c.Attributes, vals)
	at := gc.now(db)
	a := framework.Actor{User: u.Name, Device: op.DeviceID, Admin: u.Admin}
	last, reused, found := gc.reusedSeq(u.Name, op)
	if found {
		gc.audit(at, a, "device.reused", "inspection/"+op.InspectionID+"/device/"+op.DeviceID,
			map[string]any{"last_device_seq": last}, map[string]any{"device_seq": op.DeviceSeq, "op_id": op.ID})
	}
	entity := framework.MarkingEntity(op.InspectionID, op.CaseRef)
	if op.Marking.Submit {
		if err := bi.fw.CheckMarkingSubmit(op.CaseRef, facts); err != nil {
			return reject(op, err), nil
		}
		// The blind lifts now if the case is submitted already (else the
		// trigger on cases lifts it when it is): qa_lift_change adds the
		// pull change that delivers both markings.
		if _, err := tx.ExecContext(ctx, `UPDATE qa_selections SET status = 'submitted', submitted_by = ?, submitted_at = ?,
			lifted = (SELECT status IN ('submitted', 'qa_checked', 'locked') FROM cases WHERE id = ?) WHERE case_id = ?`, u.Name, at, cr.id, cr.id); err != nil {
			return framework.Ack{}, fmt.Errorf("submit second marking: %w", err)
		}
		if gc.sels[cr.id], err = selectionOf(ctx, tx, cr.id); err != nil {
			return framework.Ack{}, err
		}
		gc.change(op.InspectionID, "selection", cr.id, cr.id)
		gc.audit(at, a, "marking.submit", entity, map[string]any{"status": sel.Status},
			map[string]any{"status": framework.MarkingSubmitted, "op_id": op.ID})
		return framework.Ack{OpID: op.ID, Result: framework.OpApplied, DeviceReused: reused}, nil
	}
	var resolving *framework.Conflict
	if op.ConflictID != "" {
		c, err := markingConflictWhere(ctx, tx, "k.id = ? AND k.inspection_id = ?", op.ConflictID, op.InspectionID)
		if err != nil {
			return framework.Ack{}, err
		}
		if resolving, err = syncer.CheckResolution(op, c); err != nil {
			return reject(op, err), nil
		}
	}
	v, err := bi.fw.CheckAnswer(op.CaseRef, facts, op.QuestionID, op.Value)
	if err != nil {
		return reject(op, err), nil
	}
	if err := framework.CheckAnswerNote(op.CaseRef, op.QuestionID, op.Note); err != nil {
		return reject(op, err), nil
	}
	sf := syncer.Facts{Current: cur, Reused: reused, Since: func(base int64) ([]syncer.Revision, error) {
		return markingSince(ctx, tx, cr.id, op.QuestionID, base)
	}}
	if sp, ok := gc.superseded[op.ID]; ok {
		sf.SupersededBy = &syncer.Supersession{By: sp.by, User: sp.user, Device: sp.device, SameAnswer: sp.caseID == markingKey(cr.id) && sp.qid == op.QuestionID}
	}
	ack, err := syncer.Decide(op, u.Name, v.String(), sf)
	if err != nil {
		return ack, err
	}
	ack.DeviceReused = reused
	switch {
	case ack.Result == framework.OpApplied && ack.Answer != nil:
		n := ack.Answer
		n.UpdatedAt = sqlite.ParseTime(at)
		if _, err := tx.ExecContext(ctx, `INSERT INTO marking_answers (case_id, question_id, value, note, revision, updated_by, device_id, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, question_id) DO UPDATE SET value = excluded.value, note = excluded.note,
			revision = excluded.revision, updated_by = excluded.updated_by, device_id = excluded.device_id, updated_at = excluded.updated_at`,
			cr.id, op.QuestionID, n.Value, n.Note, n.Revision, u.Name, op.DeviceID, at); err != nil {
			return ack, fmt.Errorf("write second marking: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO marking_history (case_id, question_id, value, note, revision, updated_by, device_id, updated_at, op_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, cr.id, op.QuestionID, n.Value, n.Note, n.Revision, u.Name, op.DeviceID, at, op.ID); err != nil {
			return ack, fmt.Errorf("write second marking history: %w", err)
		}
		gc.change(op.InspectionID, "marking", cr.id, op.QuestionID)
		var before any
		if cur.Exists {
			before = map[string]any{"value": cur.Value, "revision": cur.Revision}
		}
		gc.audit(at, a, "marking.answer", entity+"/"+op.QuestionID, before, map[string]any{"value": n.Value, "revision": n.Revision, "op_id": op.ID})
		ack.Marking, ack.Answer = n, nil
	case ack.Result == framework.OpConflict:
		c := ack.Conflict
		c.CreatedAt = sqlite.ParseTime(at)
		if _, err := tx.ExecContext(ctx, `INSERT INTO marking_conflicts (id, inspection_id, case_id, question_id, base_revision, server_revision, server_value,
			server_note, client_value, client_note, client_user, client_device, op_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.InspectionID, cr.id, c.QuestionID, c.BaseRevision, c.ServerRevision, c.ServerValue, c.ServerNote, c.ClientValue, c.ClientNote,
			c.ClientUser, c.ClientDevice, op.ID, at); err != nil {
			return ack, fmt.Errorf("write second marking conflict: %w", err)
		}
		gc.change(op.InspectionID, "marking_conflict", cr.id, c.ID)
		gc.audit(at, a, "marking.conflict", entity+"/"+op.QuestionID, map[string]any{"value": c.ServerValue, "revision": c.ServerRevision},
			map[string]any{"value": c.ClientValue, "base_revision": c.BaseRevision, "conflict": c.ID})
		ack.MarkingConflict, ack.Conflict = c, nil
	}
	if resolving != nil && ack.Result == framework.OpApplied {
		resolution := fmt.Sprintf("%s: %s at revision %d", op.Resolution, op.Value, ack.Revision)
		if _, err := tx.ExecContext(ctx, `UPDATE marking_conflicts SET status = 'resolved', resolved_by = ?, resolution = ? WHERE id = ?`,
			u.Name, resolution, resolving.ID); err != nil {
			return ack, err
		}
		gc.change(op.InspectionID, "marking_conflict", cr.id, resolving.ID)
		gc.audit(at, a, "marking.resolve", entity+"/"+op.QuestionID+"/conflict/"+resolving.ID,
			map[string]string{"status": "open"}, map[string]string{"status": "resolved", "resolution": resolution})
	}
	if ack.Result == framework.OpApplied {
		// Registered before record does, under the marking's key, so a
		// marking edit never supersedes an answer edit or the reverse.
		for _, id := range op.Supersedes {
			if _, ok := gc.superseded[id]; ok || id == op.ID {
				continue
			}
			gc.superseded[id] = supersession{by: op.ID, user: u.Name, device: op.DeviceID, caseID: markingKey(cr.id), qid: op.QuestionID}
			gc.rows.supers = append(gc.rows.supers, []any{id, op.ID, u.Name, op.DeviceID, markingKey(cr.id), op.QuestionID})
		}
	}
	return ack, nil
}

// markingCurrent is withCurrent for a marking op: what the ack shows is
// decided afresh for whoever sends it. Someone who may not see the case
// is told what withCurrent tells them; the second marking's answer, its
// conflict and the selection are shown only to a caller
// framework.CanSeeMarkingValues lets see the second marking, and never
// the case's answer (the first marking).
func (gc *groupCache) markingCurrent(ctx context.Context, tx *sql.Tx, u framework.User, op framework.Op, ack framework.Ack) (framework.Ack, error) {
	ack, err := gc.withCurrent(ctx, tx, u, op, ack)
	if err != nil {
		return ack, err
	}
	ack.Answer, ack.Conflict, ack.Marking, ack.MarkingConflict, ack.Selection = nil, nil, nil, nil, nil
	if visible, err := gc.canSee(ctx, tx, u, op.InspectionID, op.CaseRef); err != nil || !visible {
		return ack, err
	}
	cr, err := gc.loadCase(ctx, tx, op.InspectionID, op.CaseRef)
	if err != nil {
		return ack, err
	}
	role, err := gc.role(ctx, tx, u, op.InspectionID)
	if err != nil {
		return ack, err
	}
	sel, err := gc.selection(ctx, tx, op.InspectionID, cr.id)
	if err != nil {
		return ack, err
	}
	if !framework.CanSeeMarkingValues(role, u.Name, cr.c.Inspector == u.Name, sel, framework.SecondMarking) {
		if ack.Result == framework.OpConflict {
			ack.Reason = fmt.Sprintf("case %s question %s: the second marking changed on the server; conflict recorded", op.CaseRef, op.QuestionID)
		}
		return ack, nil
	}
	mine := *sel
	mine.FirstHidden = !framework.CanSeeMarkingValues(role, u.Name, cr.c.Inspector == u.Name, sel, framework.FirstMarking)
	ack.Selection = &mine
	if op.Marking.Submit {
		return ack, nil
	}
	var m framework.Answer
	var at string
	err = tx.QueryRowContext(ctx, `SELECT value, note, revision, updated_by, device_id, updated_at FROM marking_answers WHERE case_id = ? AND question_id = ?`,
		cr.id, op.QuestionID).Scan(&m.Value, &m.Note, &m.Revision, &m.UpdatedBy, &m.DeviceID, &at)
	switch {
	case err == sql.ErrNoRows:
	case err != nil:
		return ack, err
	default:
		m.CaseRef, m.QuestionID, m.UpdatedAt = op.CaseRef, op.QuestionID, sqlite.ParseTime(at)
		ack.Marking = &m
	}
	if ack.Result == framework.OpConflict {
		c, err := markingConflictWhere(ctx, tx, "k.op_id = ?", op.ID)
		if err != nil {
			return ack, err
		}
		ack.MarkingConflict = c
	}
	return ack, nil
}

// markingConflictWhere reads a marking conflict with who wrote the server's
// side (its marking_history row at server_revision: the QA marker, from
// which device, when), as conflictFrom does for an answer's.
func markingConflictWhere(ctx context.Context, q querier, where string, args ...any) (*framework.Conflict, error) {
	var c framework.Conflict
	var at, serverAt string
	err := q.QueryRowContext(ctx, `SELECT k.id, k.inspection_id, c.case_ref, k.question_id, k.base_revision, k.server_revision, k.server_value, k.server_note,
		k.client_value, k.client_note, k.client_user, k.client_device, k.created_at, k.status, k.resolved_by, k.resolution,
		coalesce(h.updated_by, ''), coalesce(h.device_id, ''), coalesce(h.updated_at, '')
		FROM marking_conflicts k JOIN cases c ON c.id = k.case_id
		LEFT JOIN marking_history h ON h.id = (SELECT max(id) FROM marking_history
			WHERE case_id = k.case_id AND question_id = k.question_id AND revision = k.server_revision) WHERE `+where, args...).
		Scan(&c.ID, &c.InspectionID, &c.CaseRef, &c.QuestionID, &c.BaseRevision, &c.ServerRevision, &c.ServerValue, &c.ServerNote,
			&c.ClientValue, &c.ClientNote, &c.ClientUser, &c.ClientDevice, &at, &c.Status, &c.ResolvedBy, &c.Resolution,
			&c.ServerUser, &c.ServerDevice, &serverAt)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	c.CreatedAt = sqlite.ParseTime(at)
	if serverAt != "" {
		c.ServerAt = sqlite.ParseTime(serverAt)
	}
	return &c, err
}

// markingSince lists who wrote a second marking answer's revisions after base.
func markingSince(ctx context.Context, tx *sql.Tx, caseID, questionID string, base int64) ([]syncer.Revision, error) {
	return historySince(ctx, tx, nil, "marking_history", "case_id", "question_id", caseID, questionID, base)
}
