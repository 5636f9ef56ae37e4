package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/aggregate"
	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/interchange"
	"github.com/fieldworkhq/fieldwork/internal/syncer"
)

// WritePolicy decides whether the writer may change answers of a case, given
// the writer's role on the inspection ("" if none). The server supplies it;
// a non-nil error becomes the op's rejection.
type WritePolicy func(role string, c framework.Case) error

// groupCache holds what one shared transaction has already read about
// inspections and cases, so a batch of ops on one case reads it once.
type groupCache struct {
	insp   map[string]*batchInspection
	cases  map[string]*caseRow
	counts countDeltas
}

func newGroupCache() *groupCache {
	return &groupCache{insp: map[string]*batchInspection{}, cases: map[string]*caseRow{}, counts: countDeltas{}}
}

// countDeltas are changes to question_counts made by a transaction's
// writes, applied once at its end: (inspection, question, value) → delta.
type countDeltas map[[3]string]int

func (d countDeltas) flush(ctx context.Context, tx *sql.Tx) error {
	for k, n := range d {
		if n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO question_counts (inspection_id, question_id, value, n) VALUES (?, ?, ?, ?)
			ON CONFLICT (inspection_id, question_id, value) DO UPDATE SET n = n + excluded.n`, k[0], k[1], k[2], n); err != nil {
			return fmt.Errorf("update counts: %w", err)
		}
	}
	return nil
}

func (gc *groupCache) loadCase(ctx context.Context, tx *sql.Tx, inspectionID, ref string) (caseRow, error) {
	k := inspectionID + "\x00" + ref
	if cr, ok := gc.cases[k]; ok {
		return *cr, nil
	}
	cr, err := loadCase(ctx, tx, inspectionID, ref)
	if err != nil {
		return cr, err
	}
	gc.cases[k] = &cr
	return cr, nil
}

// started notes that a case moved from not_started to in_progress.
func (gc *groupCache) started(inspectionID, ref string) {
	if cr, ok := gc.cases[inspectionID+"\x00"+ref]; ok {
		cr.c.Status = framework.CaseInProgress
	}
}

type batchInspection struct {
	fw     *framework.Framework
	status string
	role   string
	err    error
}

// ApplyOps applies a batch of answer ops in one transaction and returns
// one acknowledgement per op, in order. An op seen before is answered from
// the record of its first application (Duplicate set). Invalid ops are
// rejected individually with a reason (and the error in Ack.Err); they do
// not stop the rest of the batch.
//
// Batches pushed concurrently are grouped into one shared write
// transaction (group commit): SQLite has one writer, so sharing the
// transaction and its commit is what lets many clients push at once
// without queueing on SQLITE_BUSY.
func (db *DB) ApplyOps(ctx context.Context, u User, ops []framework.Op, policy WritePolicy) ([]framework.Ack, error) {
	req := &applyRequest{ctx: ctx, user: u, ops: ops, policy: policy, done: make(chan struct{})}
	select {
	case db.applyCh <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-db.closed:
		return nil, errors.New("apply ops: database closed")
	}
	<-req.done // once queued the request is applied or failed; wait for the outcome
	if req.err != nil {
		return nil, fmt.Errorf("apply ops: %w", req.err)
	}
	return req.acks, nil
}

type applyRequest struct {
	ctx    context.Context
	user   User
	ops    []framework.Op
	policy WritePolicy
	acks   []framework.Ack
	err    error
	done   chan struct{}
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
	return db.write(context.Background(), func(tx *sql.Tx) error {
		gc := newGroupCache()
		for _, r := range group {
			if err := r.ctx.Err(); err != nil {
				r.err = err
				continue
			}
			r.acks = make([]framework.Ack, len(r.ops))
			for i, op := range r.ops {
				// Statements run without the request's context: the driver
				// starts a watcher goroutine per statement for a cancellable
				// context, and a shared transaction must not be cut short by
				// one client going away anyway.
				ack, err := db.applyOp(context.Background(), tx, r.user, op, r.policy, gc)
				if err != nil {
					return fmt.Errorf("op %s: %w", op.ID, err)
				}
				r.acks[i] = ack
			}
		}
		return gc.counts.flush(context.Background(), tx)
	})
}

func (db *DB) applyOp(ctx context.Context, tx *sql.Tx, u User, op framework.Op, policy WritePolicy, gc *groupCache) (framework.Ack, error) {
	if _, err := uuid.Parse(op.ID); err != nil {
		// Not recorded: without a valid id there is nothing to deduplicate on.
		return reject(op, framework.Errorf(framework.CodeInvalid, "op_id %q is not a UUID", op.ID)), nil
	}
	if ack, found, err := recordedAck(ctx, tx, op.ID); err != nil || found {
		if err == nil {
			ack.Answer, err = currentAnswer(ctx, tx, op.InspectionID, op.CaseRef, op.QuestionID)
		}
		return ack, err
	}
	var resolving *framework.Conflict
	if op.ConflictID != "" {
		c, err := conflictByID(ctx, tx, op.ConflictID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return db.recordRejection(ctx, tx, u, op, framework.Errorf(framework.CodeNotFound, "conflict %s not found", op.ConflictID), gc)
		case err != nil:
			return framework.Ack{}, err
		case c.InspectionID != op.InspectionID || c.CaseRef != op.CaseRef || c.QuestionID != op.QuestionID:
			return db.recordRejection(ctx, tx, u, op, framework.Errorf(framework.CodeInvalid,
				"conflict %s is about case %s question %s, not case %s question %s", c.ID, c.CaseRef, c.QuestionID, op.CaseRef, op.QuestionID), gc)
		}
		switch op.Resolution {
		case framework.ResolveMine, framework.ResolveTheirs, framework.ResolveValue:
		default:
			return db.recordRejection(ctx, tx, u, op, framework.Errorf(framework.CodeInvalid, "resolution %q is not mine, theirs or value", op.Resolution), gc)
		}
		if c.Status == "open" {
			resolving = &c
		}
		// A conflict someone else resolved meanwhile: the op is then an
		// ordinary write on its base revision, so a different choice made
		// concurrently becomes a new conflict instead of being lost.
	}
	ack, cur, err := db.decideOp(ctx, tx, u, op, policy, gc)
	if err != nil {
		return ack, err
	}
	at := db.now()
	a := framework.Actor{User: u.Name, Device: op.DeviceID, Admin: u.Admin}
	switch ack.Result {
	case framework.OpApplied:
		if ack.Answer != nil { // nil: converged, nothing to store
			if err := putAnswer(ctx, tx, at, a, cur, ack.Answer, op.ID, gc.counts); err != nil {
				return ack, err
			}
		}
	case framework.OpConflict:
		if err := putConflict(ctx, tx, at, ack.Conflict, op.ID); err != nil {
			return ack, err
		}
	}
	if resolving != nil && ack.Result == framework.OpApplied {
		resolution := fmt.Sprintf("%s: %s at revision %d", op.Resolution, op.Value, ack.Revision)
		if _, err := tx.ExecContext(ctx, `UPDATE conflicts SET status = 'resolved', resolved_by = ?, resolution = ? WHERE id = ?`,
			u.Name, resolution, resolving.ID); err != nil {
			return ack, err
		}
		if err := addChange(ctx, tx, op.InspectionID, "conflict", cur.caseID, resolving.ID); err != nil {
			return ack, err
		}
		if err := audit(ctx, tx, at, a, "conflict.resolve", "case/"+op.InspectionID+"/"+op.CaseRef+"/"+op.QuestionID+"/conflict/"+resolving.ID, map[string]string{"status": "open"},
			map[string]string{"status": "resolved", "resolution": resolution}); err != nil {
			return ack, err
		}
	}
	if ack.Answer != nil && ack.Result == framework.OpApplied && cur.caseStatus == framework.CaseNotStarted {
		gc.started(op.InspectionID, op.CaseRef)
	}
	return db.record(ctx, tx, u, op, ack, at, gc)
}

// recordRejection records and returns the rejection of an op.
func (db *DB) recordRejection(ctx context.Context, tx *sql.Tx, u User, op framework.Op, err error, gc *groupCache) (framework.Ack, error) {
	return db.record(ctx, tx, u, op, reject(op, err), db.now(), gc)
}

// currentAnswer returns the server's answer, or nil if there is none.
func currentAnswer(ctx context.Context, tx *sql.Tx, inspectionID, caseRef, questionID string) (*framework.Answer, error) {
	rows, err := tx.QueryContext(ctx, `SELECT c.case_ref, a.question_id, a.value, a.note, a.revision, a.updated_by, a.device_id, a.updated_at
		FROM answers a JOIN cases c ON c.id = a.case_id WHERE c.inspection_id = ? AND c.case_ref = ? AND a.question_id = ?`, inspectionID, caseRef, questionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	as, err := scanAnswers(rows)
	if err != nil || len(as) == 0 {
		return nil, err
	}
	return &as[0], nil
}

// record keeps an op's result so that re-sending it returns the same.
func (db *DB) record(ctx context.Context, tx *sql.Tx, u User, op framework.Op, ack framework.Ack, at string, gc *groupCache) (framework.Ack, error) {
	if ack.Answer == nil {
		cur, err := currentAnswer(ctx, tx, op.InspectionID, op.CaseRef, op.QuestionID)
		if err != nil {
			return ack, err
		}
		ack.Answer = cur
	}
	var conflictID any
	if ack.Conflict != nil {
		conflictID = ack.Conflict.ID
	}
	var caseID any
	if cr, err := gc.loadCase(ctx, tx, op.InspectionID, op.CaseRef); err == nil {
		caseID = cr.id
	} else if framework.ErrorCode(err) == "" {
		return ack, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ops_applied (op_id, result, revision, reason, conflict_id, user_name, device_id, device_seq, applied_at, case_id, question_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		op.ID, int(ack.Result), ack.Revision, ack.Reason, conflictID, u.Name, op.DeviceID, op.DeviceSeq, at, caseID, op.QuestionID); err != nil {
		return ack, err
	}
	return ack, nil
}

func reject(op framework.Op, err error) framework.Ack {
	return framework.Ack{OpID: op.ID, Result: framework.OpRejected, Reason: err.Error(), Err: err}
}

// current is an answer row as it stands, with the case it belongs to.
type current struct {
	caseID       string
	inspectionID string
	caseStatus   string
	syncer.Current
}

// decideOp validates an op and decides its outcome without writing.
func (db *DB) decideOp(ctx context.Context, tx *sql.Tx, u User, op framework.Op, policy WritePolicy, gc *groupCache) (framework.Ack, current, error) {
	var cur current
	bi := gc.insp[op.InspectionID]
	if bi == nil {
		bi = &batchInspection{}
		bi.fw, bi.status, bi.err = db.inspectionFramework(ctx, tx, op.InspectionID)
		if bi.err == nil {
			var role sql.NullString
			if err := tx.QueryRowContext(ctx, `SELECT role FROM team WHERE inspection_id = ? AND user_name = ?`, op.InspectionID, u.Name).Scan(&role); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return framework.Ack{}, cur, err
			}
			bi.role = role.String
		}
		gc.insp[op.InspectionID] = bi
	}
	if bi.err != nil {
		if framework.ErrorCode(bi.err) == "" {
			return framework.Ack{}, cur, bi.err
		}
		return reject(op, bi.err), cur, nil
	}
	cr, err := gc.loadCase(ctx, tx, op.InspectionID, op.CaseRef)
	if err != nil {
		if framework.ErrorCode(err) == "" {
			return framework.Ack{}, cur, err
		}
		return reject(op, err), cur, nil
	}
	if policy != nil {
		if err := policy(bi.role, cr.c); err != nil {
			return reject(op, err), cur, nil
		}
	}
	if bi.status == framework.InspectionLocked {
		return reject(op, lockedErr(op.InspectionID)), cur, nil
	}
	if cr.locked {
		return reject(op, framework.Errorf(framework.CodePrecondition, "case %s is locked", op.CaseRef)), cur, nil
	}
	v, err := bi.fw.CheckAnswer(op.CaseRef, cr.c.Attributes, op.QuestionID, op.Value)
	if err != nil {
		return reject(op, err), cur, nil
	}
	if err := interchange.CheckNote(op.Note); err != nil {
		return reject(op, framework.Errorf(framework.CodeInvalid, "case %s question %s: %v", op.CaseRef, op.QuestionID, err)), cur, nil
	}
	value := v.String()
	cur = current{caseID: cr.id, inspectionID: op.InspectionID, caseStatus: cr.c.Status}
	err = tx.QueryRowContext(ctx, `SELECT value, note, revision FROM answers WHERE case_id = ? AND question_id = ?`, cr.id, op.QuestionID).
		Scan(&cur.Value, &cur.Note, &cur.Revision)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return framework.Ack{}, cur, err
	default:
		cur.Exists = true
	}
	if op.BaseRevision > cur.Revision || op.BaseRevision < 0 {
		return reject(op, framework.Errorf(framework.CodeInvalid, "case %s question %s: base revision %d is not one the server issued (current %d)",
			op.CaseRef, op.QuestionID, op.BaseRevision, cur.Revision)), cur, nil
	}
	if op.DeviceID != "" && cur.Exists { // no op can have written an answer that does not exist
		var lastSeq sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(device_seq) FROM ops_applied WHERE case_id = ? AND question_id = ? AND device_id = ? AND user_name = ? AND result = ?`,
			cr.id, op.QuestionID, op.DeviceID, u.Name, int(framework.OpApplied)).Scan(&lastSeq); err != nil {
			return framework.Ack{}, cur, err
		}
		if lastSeq.Valid && op.DeviceSeq < lastSeq.Int64 {
			// A later edit from this same device has already been applied (the
			// ops arrived out of order): the older one is superseded by it.
			return framework.Ack{OpID: op.ID, Result: framework.OpApplied, Revision: cur.Revision,
				Reason: fmt.Sprintf("superseded by this device's later edit (seq %d)", lastSeq.Int64)}, cur, nil
		}
	}
	base := op.BaseRevision
	if base < cur.Revision && op.DeviceID != "" {
		// A device that edits the same answer twice before syncing bases both
		// ops on the revision it last pulled. Revisions it wrote itself since
		// then are ones it has seen, so they do not make its base stale.
		var others int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM answer_history WHERE case_id = ? AND question_id = ? AND revision > ?
			AND (device_id != ? OR updated_by != ?)`, cr.id, op.QuestionID, base, op.DeviceID, u.Name).Scan(&others); err != nil {
			return framework.Ack{}, cur, err
		}
		if others == 0 {
			base = cur.Revision
		}
	}
	ack := framework.Ack{OpID: op.ID}
	switch syncer.Decide(cur.Current, base, value, op.Note) {
	case syncer.Converge:
		ack.Result, ack.Revision = framework.OpApplied, cur.Revision
	case syncer.Apply:
		ack.Result, ack.Revision = framework.OpApplied, cur.Revision+1
		ack.Answer = &framework.Answer{CaseRef: op.CaseRef, QuestionID: op.QuestionID, Value: value, Note: op.Note,
			Revision: cur.Revision + 1, UpdatedBy: u.Name, DeviceID: op.DeviceID}
	case syncer.Conflict:
		ack.Result, ack.Revision = framework.OpConflict, cur.Revision
		ack.Conflict = &framework.Conflict{
			ID: uuid.Must(uuid.NewV7()).String(), InspectionID: op.InspectionID, CaseRef: op.CaseRef, QuestionID: op.QuestionID,
			BaseRevision: op.BaseRevision, ServerRevision: cur.Revision, ServerValue: cur.Value, ServerNote: cur.Note,
			ClientValue: value, ClientNote: op.Note, ClientUser: u.Name, ClientDevice: op.DeviceID, Status: "open",
		}
		ack.Reason = fmt.Sprintf("case %s question %s: changed on the server since revision %d (now %d: %q); conflict %s recorded",
			op.CaseRef, op.QuestionID, op.BaseRevision, cur.Revision, cur.Value, ack.Conflict.ID)
	}
	return ack, cur, nil
}

// putAnswer stores a new revision of an answer with its history, change
// and audit rows.
func putAnswer(ctx context.Context, tx *sql.Tx, at string, a framework.Actor, cur current, ans *framework.Answer, opID string, deltas countDeltas) error {
	ans.UpdatedAt = parseTime(at)
	if _, err := tx.ExecContext(ctx, `INSERT INTO answers (case_id, question_id, value, note, revision, updated_by, device_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (case_id, question_id) DO UPDATE SET value = excluded.value, note = excluded.note, revision = excluded.revision,
		updated_by = excluded.updated_by, device_id = excluded.device_id, updated_at = excluded.updated_at`,
		cur.caseID, ans.QuestionID, ans.Value, ans.Note, ans.Revision, a.User, a.Device, at); err != nil {
		return err
	}
	// The per-question counts change in the same transaction (flushed once
	// per transaction by the caller).
	if cur.Exists && cur.Value != ans.Value {
		deltas[[3]string{cur.inspectionID, ans.QuestionID, cur.Value}]--
	}
	if !cur.Exists || cur.Value != ans.Value {
		deltas[[3]string{cur.inspectionID, ans.QuestionID, ans.Value}]++
	}
	var op any
	if opID != "" {
		op = opID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO answer_history (case_id, question_id, value, note, revision, updated_by, device_id, updated_at, op_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		cur.caseID, ans.QuestionID, ans.Value, ans.Note, ans.Revision, a.User, a.Device, at, op); err != nil {
		return err
	}
	if cur.caseStatus == framework.CaseNotStarted {
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET status = ? WHERE id = ? AND status = ?`, framework.CaseInProgress, cur.caseID, framework.CaseNotStarted); err != nil {
			return err
		}
		if err := addChange(ctx, tx, cur.inspectionID, "case", cur.caseID, cur.caseID); err != nil {
			return err
		}
	}
	if err := addChange(ctx, tx, cur.inspectionID, "answer", cur.caseID, ans.QuestionID); err != nil {
		return err
	}
	var before any
	if cur.Exists {
		before = map[string]any{"value": cur.Value, "note": cur.Note, "revision": cur.Revision}
	}
	return audit(ctx, tx, at, a, "answer.write", "case/"+cur.inspectionID+"/"+ans.CaseRef+"/"+ans.QuestionID, before,
		map[string]any{"value": ans.Value, "note": ans.Note, "revision": ans.Revision, "op_id": opID})
}

func putConflict(ctx context.Context, tx *sql.Tx, at string, c *framework.Conflict, opID string) error {
	c.CreatedAt = parseTime(at)
	var caseID string
	if err := tx.QueryRowContext(ctx, `SELECT id FROM cases WHERE inspection_id = ? AND case_ref = ?`, c.InspectionID, c.CaseRef).Scan(&caseID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO conflicts (id, inspection_id, case_id, question_id, base_revision, server_revision, server_value, server_note,
		client_value, client_note, client_user, client_device, op_id, created_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')`,
		c.ID, c.InspectionID, caseID, c.QuestionID, c.BaseRevision, c.ServerRevision, c.ServerValue, c.ServerNote,
		c.ClientValue, c.ClientNote, c.ClientUser, c.ClientDevice, opID, at); err != nil {
		return err
	}
	if err := addChange(ctx, tx, c.InspectionID, "conflict", caseID, c.ID); err != nil {
		return err
	}
	return audit(ctx, tx, at, framework.Actor{User: c.ClientUser, Device: c.ClientDevice}, "conflict.open",
		"case/"+c.InspectionID+"/"+c.CaseRef+"/"+c.QuestionID, map[string]any{"value": c.ServerValue, "revision": c.ServerRevision},
		map[string]any{"value": c.ClientValue, "base_revision": c.BaseRevision, "conflict": c.ID})
}

// recordedAck answers a re-sent op from the record of its first application.
func recordedAck(ctx context.Context, tx *sql.Tx, opID string) (framework.Ack, bool, error) {
	ack := framework.Ack{OpID: opID, Duplicate: true}
	var result int
	var conflictID sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT result, revision, reason, conflict_id FROM ops_applied WHERE op_id = ?`, opID).
		Scan(&result, &ack.Revision, &ack.Reason, &conflictID)
	if errors.Is(err, sql.ErrNoRows) {
		return ack, false, nil
	}
	if err != nil {
		return ack, false, err
	}
	ack.Result = framework.OpResult(result)
	if conflictID.Valid {
		c, err := conflictByID(ctx, tx, conflictID.String)
		if err != nil {
			return ack, false, err
		}
		ack.Conflict = &c
	}
	if ack.Result == framework.OpRejected {
		ack.Err = framework.Errorf(framework.CodeInvalid, "%s", ack.Reason)
	}
	return ack, true, nil
}

const conflictCols = `k.id, k.inspection_id, c.case_ref, k.question_id, k.base_revision, k.server_revision, k.server_value, k.server_note,
	k.client_value, k.client_note, k.client_user, k.client_device, k.created_at, k.status, k.resolved_by, k.resolution`

func scanConflict(s interface{ Scan(...any) error }) (framework.Conflict, error) {
	var c framework.Conflict
	var at string
	err := s.Scan(&c.ID, &c.InspectionID, &c.CaseRef, &c.QuestionID, &c.BaseRevision, &c.ServerRevision, &c.ServerValue, &c.ServerNote,
		&c.ClientValue, &c.ClientNote, &c.ClientUser, &c.ClientDevice, &at, &c.Status, &c.ResolvedBy, &c.Resolution)
	c.CreatedAt = parseTime(at)
	return c, err
}

func conflictByID(ctx context.Context, tx *sql.Tx, id string) (framework.Conflict, error) {
	return scanConflict(tx.QueryRowContext(ctx, `SELECT `+conflictCols+` FROM conflicts k JOIN cases c ON c.id = k.case_id WHERE k.id = ?`, id))
}

// ImportAnswers stores answers.csv rows for an inspection as the
// authoritative values (no revision check: an import is a deliberate load),
// after validating every row; one bad row and nothing is stored. Rows
// whose value and note are already current are left alone.
func (db *DB) ImportAnswers(ctx context.Context, a framework.Actor, inspectionID string, rows []interchange.AnswerRow) (applied, unchanged int, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		fw, status, err := db.inspectionFramework(ctx, tx, inspectionID)
		if err != nil {
			return err
		}
		if status == framework.InspectionLocked {
			return lockedErr(inspectionID)
		}
		caseByRef := map[string]caseRow{}
		errs := &interchange.RowErrors{File: "answers.csv"}
		values := make([]string, len(rows))
		for i, r := range rows {
			cr, ok := caseByRef[r.CaseRef]
			if !ok {
				cr, err = loadCase(ctx, tx, inspectionID, r.CaseRef)
				if err != nil {
					if framework.ErrorCode(err) == "" {
						return err
					}
					errs.Add(r.Line, "case %s is not in this inspection (import cases.csv first)", r.CaseRef)
					continue
				}
				caseByRef[r.CaseRef] = cr
			}
			if cr.locked {
				errs.Add(r.Line, "case %s is locked", r.CaseRef)
				continue
			}
			v, err := fw.CheckAnswer(r.CaseRef, cr.c.Attributes, r.QuestionID, r.Value)
			if err != nil {
				errs.Add(r.Line, "%v", err)
				continue
			}
			values[i] = v.String()
		}
		if err := errs.Err(); err != nil {
			return err
		}
		at := db.now()
		deltas := countDeltas{}
		for i, r := range rows {
			cr := caseByRef[r.CaseRef]
			cur := current{caseID: cr.id, inspectionID: inspectionID, caseStatus: cr.c.Status}
			err := tx.QueryRowContext(ctx, `SELECT value, note, revision FROM answers WHERE case_id = ? AND question_id = ?`, cr.id, r.QuestionID).
				Scan(&cur.Value, &cur.Note, &cur.Revision)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return err
			default:
				cur.Exists = true
			}
			if cur.Exists && cur.Value == values[i] && cur.Note == r.Note {
				unchanged++
				continue
			}
			ans := &framework.Answer{CaseRef: r.CaseRef, QuestionID: r.QuestionID, Value: values[i], Note: r.Note, Revision: cur.Revision + 1}
			if err := putAnswer(ctx, tx, at, a, cur, ans, "", deltas); err != nil {
				return err
			}
			if cr.c.Status == framework.CaseNotStarted {
				cr.c.Status = framework.CaseInProgress
				caseByRef[r.CaseRef] = cr
			}
			applied++
		}
		return deltas.flush(ctx, tx)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("import answers: %w", err)
	}
	return applied, unchanged, nil
}

// Answers returns the current answers of one case.
func (db *DB) Answers(ctx context.Context, inspectionID, caseRef string) ([]framework.Answer, error) {
	rows, err := db.conn.R.QueryContext(ctx, `SELECT c.case_ref, a.question_id, a.value, a.note, a.revision, a.updated_by, a.device_id, a.updated_at
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
		a.UpdatedAt = parseTime(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// ReportInput reads, in one snapshot, everything a report is computed
// from, and the change sequence it is consistent at. Several inspections
// are pooled when they share a framework version: their cases are named
// <unit>/<case_ref> and carry their unit in the "unit" attribute; judged
// ratings are not pooled.
func (db *DB) ReportInput(ctx context.Context, inspectionIDs ...string) (*framework.Framework, aggregate.Input, error) {
	var fw *framework.Framework
	var in aggregate.Input
	if len(inspectionIDs) == 1 {
		in.InspectionID = inspectionIDs[0]
	}
	err := db.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&in.AsOfSeq); err != nil {
			return err
		}
		pooled := len(inspectionIDs) > 1
		seen := map[string]bool{}
		for _, id := range inspectionIDs {
			if seen[id] {
				return framework.Errorf(framework.CodeInvalid, "inspection %s is listed twice", id)
			}
			seen[id] = true
			f, _, err := db.inspectionFramework(ctx, tx, id)
			if err != nil {
				return err
			}
			if fw == nil {
				fw = f
			} else if f.ID != fw.ID || f.Version != fw.Version {
				return framework.Errorf(framework.CodeInvalid, "cannot pool inspection %s (%s v%d) with %s v%d: pooled inspections share one framework version",
					id, f.ID, f.Version, fw.ID, fw.Version)
			}
			var name, unit string
			if err := tx.QueryRowContext(ctx, `SELECT name, unit FROM inspections WHERE id = ?`, id).Scan(&name, &unit); err != nil {
				return err
			}
			if unit == "" {
				unit = name
			}
			cs, err := cases(ctx, tx, id, "")
			if err != nil {
				return err
			}
			as, err := reportAnswers(ctx, tx, id)
			if err != nil {
				return err
			}
			if !pooled {
				in.InspectionName = name
				in.Cases, in.Answers = cs, as
				in.Judgements, err = judgements(ctx, tx, id)
				return err
			}
			in.Units = append(in.Units, unit)
			for _, c := range cs {
				c.Ref = unit + "/" + c.Ref
				c.Attributes[aggregate.UnitAttribute] = unit
				in.Cases = append(in.Cases, c)
			}
			for _, a := range as {
				a.CaseRef = unit + "/" + a.CaseRef
				in.Answers = append(in.Answers, a)
			}
		}
		in.InspectionName = fmt.Sprintf("%d inspections pooled", len(inspectionIDs))
		return nil
	})
	if err != nil {
		return nil, in, fmt.Errorf("read report data: %w", err)
	}
	in.GeneratedAt = db.Now().UTC()
	return fw, in, nil
}

// reportAnswers reads only what a report needs of an inspection's answers
// (case, question, value), one row per case with its answers packed by
// SQLite: crossing cgo once per case instead of once per answer column is
// what keeps a 60-case report under 10 ms.
func reportAnswers(ctx context.Context, tx *sql.Tx, inspectionID string) ([]framework.Answer, error) {
	rows, err := tx.QueryContext(ctx, `SELECT c.case_ref, group_concat(a.question_id || char(31) || a.value, char(30))
		FROM cases c JOIN answers a ON a.case_id = c.id WHERE c.inspection_id = ? GROUP BY c.id`, inspectionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.Answer
	for rows.Next() {
		var ref, packed string
		if err := rows.Scan(&ref, &packed); err != nil {
			return nil, err
		}
		for _, item := range strings.Split(packed, "\x1e") {
			q, v, ok := strings.Cut(item, "\x1f")
			if !ok {
				return nil, fmt.Errorf("case %s: malformed packed answer %q", ref, item)
			}
			out = append(out, framework.Answer{CaseRef: ref, QuestionID: q, Value: v})
		}
	}
	return out, rows.Err()
}

// Mismatch is a kept count that differs from a full recount.
type Mismatch struct {
	InspectionID, QuestionID, Value string
	Kept, Counted                   int
}

// Recount recounts every answer and compares with the kept counts; with
// fix, it replaces the kept counts by the recount (in one transaction).
func (db *DB) Recount(ctx context.Context, fix bool) ([]Mismatch, error) {
	var out []Mismatch
	err := db.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			WITH counted AS (SELECT c.inspection_id, a.question_id, a.value, count(*) AS n FROM answers a JOIN cases c ON c.id = a.case_id
			                 GROUP BY c.inspection_id, a.question_id, a.value),
			     kept AS (SELECT inspection_id, question_id, value, n FROM question_counts WHERE n != 0)
			SELECT coalesce(k.inspection_id, c.inspection_id), coalesce(k.question_id, c.question_id), coalesce(k.value, c.value),
			       coalesce(k.n, 0), coalesce(c.n, 0)
			FROM kept k FULL OUTER JOIN counted c USING (inspection_id, question_id, value)
			WHERE coalesce(k.n, 0) != coalesce(c.n, 0)`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var m Mismatch
			if err := rows.Scan(&m.InspectionID, &m.QuestionID, &m.Value, &m.Kept, &m.Counted); err != nil {
				rows.Close()
				return err
			}
			out = append(out, m)
		}
		rows.Close()
		if !fix || len(out) == 0 {
			return rows.Err()
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM question_counts`); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO question_counts (inspection_id, question_id, value, n)
			SELECT c.inspection_id, a.question_id, a.value, count(*) FROM answers a JOIN cases c ON c.id = a.case_id
			GROUP BY c.inspection_id, a.question_id, a.value`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("recount: %w", err)
	}
	return out, nil
}

// PooledCounts is the fast input of a pooled report: the kept counts of the
// inspections, their case count and units, at one change sequence. The
// inspections must share a framework version.
func (db *DB) PooledCounts(ctx context.Context, inspectionIDs ...string) (*framework.Framework, aggregate.Input, error) {
	var fw *framework.Framework
	in := aggregate.Input{Counts: map[string]map[string]int{}}
	err := db.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&in.AsOfSeq); err != nil {
			return err
		}
		for _, id := range inspectionIDs {
			f, _, err := db.inspectionFramework(ctx, tx, id)
			if err != nil {
				return err
			}
			if fw == nil {
				fw = f
			} else if f.ID != fw.ID || f.Version != fw.Version {
				return framework.Errorf(framework.CodeInvalid, "cannot pool inspection %s (%s v%d) with %s v%d: pooled inspections share one framework version",
					id, f.ID, f.Version, fw.ID, fw.Version)
			}
			var name, unit string
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT name, unit, (SELECT count(*) FROM cases WHERE inspection_id = i.id) FROM inspections i WHERE id = ?`, id).
				Scan(&name, &unit, &n); err != nil {
				return err
			}
			if unit == "" {
				unit = name
			}
			in.Units = append(in.Units, unit)
			in.CaseCount += n
			rows, err := tx.QueryContext(ctx, `SELECT question_id, value, n FROM question_counts WHERE inspection_id = ? AND n > 0`, id)
			if err != nil {
				return err
			}
			mine := map[string]map[string]int{}
			for rows.Next() {
				var q, v string
				var k int
				if err := rows.Scan(&q, &v, &k); err != nil {
					rows.Close()
					return err
				}
				if in.Counts[q] == nil {
					in.Counts[q] = map[string]int{}
				}
				if mine[q] == nil {
					mine[q] = map[string]int{}
				}
				in.Counts[q][v] += k
				mine[q][v] += k
			}
			rows.Close()
			in.UnitCounts = append(in.UnitCounts, mine)
		}
		in.InspectionName = fmt.Sprintf("%d inspections pooled", len(inspectionIDs))
		return nil
	})
	if err != nil {
		return nil, in, fmt.Errorf("read pooled counts: %w", err)
	}
	in.GeneratedAt = db.Now().UTC()
	return fw, in, nil
}
