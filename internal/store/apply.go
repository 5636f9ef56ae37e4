package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
	"github.com/fieldworkhq/fieldwork/internal/syncer"
)

// The push path. A group of concurrent batches is applied in one
// transaction; to keep the cost per answer low, the group reads each case's
// answers once and writes its rows (answers, history, op records, changes,
// audit, counts) as multi-row INSERTs at the end, keeping in memory what
// later ops of the same group must see.

// groupCache holds what one shared transaction has read and will write.
type groupCache struct {
	insp    map[string]*batchInspection // by inspection id
	roles   map[[2]string]string        // (inspection, user) → role
	cases   map[[2]string]*caseRow      // by (inspection, ref)
	answers map[string]map[string]*syncer.Current
	counts  countDeltas

	recorded   map[string]opRecord     // op records from before this group, prefetched
	acks       map[string]opRecord     // ops recorded in this group
	superseded map[string]supersession // op id → the applied later edit that named it (before or in this group)
	deviceMax  map[[2]string]deviceSeq // (device, user) → highest device_seq recorded (before or in this group)
	devicesNew map[[2]string]bool      // those this group changed

	rows   pendingRows
	at     string    // the group's time, taken once: it commits as one
	atTime time.Time // the same, parsed
}

// now is the time of the group's writes.
func (gc *groupCache) now(db *DB) string {
	if gc.at == "" {
		gc.at = db.now()
		gc.atTime = sqlite.ParseTime(gc.at)
	}
	return gc.at
}

type batchInspection struct {
	fw     *framework.Framework
	status string
	err    error
}

type histRow struct {
	caseID, questionID, value, note string
	revision                        int64
	user, device, at, opID          string
	deviceSeq                       int64 // of the op; unused without opID
	payload                         int64 // of the op; unused without opID
	inspectionID                    string
}

// opRecord is an op's recorded result with what identifies its payload.
type opRecord struct {
	ack     framework.Ack
	payload sql.NullInt64 // NULL for records made before migration 0009
	user    string
	device  string
	seq     sql.NullInt64
	caseID  string
	qid     string
}

// recorded is what syncer.Replay needs of the record.
func (r opRecord) recorded() syncer.Recorded {
	return syncer.Recorded{Payload: r.payload.Int64, HasPayload: r.payload.Valid, User: r.user, Device: r.device, Seq: r.seq.Int64, QuestionID: r.qid}
}

// deviceSeq is what the server knows of a device's sequence, per user.
type deviceSeq struct {
	max    int64
	forked bool // two copies of its store have been seen
}

// supersession is an applied op that named an earlier edit as superseded.
type supersession struct {
	by, user, device, caseID, qid string
}

type pendingRows struct {
	history []histRow         // every version written in this group, in order
	latest  map[[2]string]int // (case, question) → its latest version in history
	ops     [][]any
	changes [][]any
	audit   [][]any
	supers  [][]any // supersessions
}

func newGroupCache() *groupCache {
	return &groupCache{insp: map[string]*batchInspection{}, roles: map[[2]string]string{}, cases: map[[2]string]*caseRow{},
		answers: map[string]map[string]*syncer.Current{}, counts: countDeltas{}, recorded: map[string]opRecord{},
		acks: map[string]opRecord{}, superseded: map[string]supersession{}, deviceMax: map[[2]string]deviceSeq{}, devicesNew: map[[2]string]bool{},
		rows: pendingRows{latest: map[[2]string]int{}}}
}

// countDeltas are changes to question_counts made by a transaction's
// writes, applied once at its end: (inspection, question, value) → delta.
type countDeltas map[[3]string]int

// add counts n answers of a value to a question of one case (n < 0: takes
// them away), if such an answer counts for the case: one that no longer
// applies to it (framework.NoLongerApplies) is in no kept count.
func (d countDeltas) add(fw *framework.Framework, inspectionID string, attrs map[string]string, questionID, value string, n int) {
	if fw.NoLongerApplies(attrs, questionID, value) {
		return
	}
	d[[3]string{inspectionID, questionID, value}] += n
}

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
	k := [2]string{inspectionID, ref}
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

// answer returns the current answer of a case's question (zero Current if
// none), reading all of the case's answers on first use.
func (gc *groupCache) answer(ctx context.Context, tx *sql.Tx, caseID, questionID string) (*syncer.Current, error) {
	m, ok := gc.answers[caseID]
	if !ok {
		m = map[string]*syncer.Current{}
		rows, err := tx.QueryContext(ctx, `SELECT question_id, value, note, revision FROM answers WHERE case_id = ?`, caseID)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var q string
			c := &syncer.Current{Exists: true}
			if err := rows.Scan(&q, &c.Value, &c.Note, &c.Revision); err != nil {
				rows.Close()
				return nil, err
			}
			m[q] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		gc.answers[caseID] = m
	}
	c, ok := m[questionID]
	if !ok {
		c = &syncer.Current{}
		m[questionID] = c
	}
	return c, nil
}

// prefetchRecorded reads the op records, and the supersessions naming
// them, of every op in the group at once.
func (gc *groupCache) prefetchRecorded(ctx context.Context, tx *sql.Tx, group []*applyRequest) error {
	var ids []any
	for _, r := range group {
		for _, op := range r.ops {
			ids = append(ids, op.ID)
		}
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		marks, args := sqlite.InList(chunk)
		rows, err := tx.QueryContext(ctx, `SELECT op_id, result, revision, reason, coalesce(conflict_id, ''), user_name, device_id, device_seq,
			coalesce(case_id, ''), coalesce(question_id, ''), payload, coalesce(code, '') FROM op_records WHERE op_id IN (`+marks+`)`, args...)
		if err != nil {
			return err
		}
		var conflicts []string
		for rows.Next() {
			rec := opRecord{ack: framework.Ack{Duplicate: true}}
			var result int
			var conflictID, code string
			if err := rows.Scan(&rec.ack.OpID, &result, &rec.ack.Revision, &rec.ack.Reason, &conflictID, &rec.user, &rec.device, &rec.seq,
				&rec.caseID, &rec.qid, &rec.payload, &code); err != nil {
				rows.Close()
				return err
			}
			rec.ack.Result = framework.OpResult(result)
			if rec.ack.Result == framework.OpRejected {
				if code == "" { // recorded before codes were kept
					code = string(framework.CodeInvalid)
				}
				rec.ack.Err = framework.Errorf(framework.Code(code), "%s", rec.ack.Reason)
			}
			if conflictID != "" {
				rec.ack.Conflict = &framework.Conflict{ID: conflictID}
				conflicts = append(conflicts, rec.ack.OpID)
			}
			gc.recorded[rec.ack.OpID] = rec
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, opID := range conflicts {
			rec := gc.recorded[opID]
			c, err := conflictByID(ctx, tx, rec.ack.Conflict.ID)
			if err != nil {
				return err
			}
			rec.ack.Conflict = &c
			gc.recorded[opID] = rec
		}
		rows, err = tx.QueryContext(ctx, `SELECT op_id, by_op_id, user_name, device_id, case_id, question_id FROM supersessions WHERE op_id IN (`+marks+`)`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var sp supersession
			if err := rows.Scan(&id, &sp.by, &sp.user, &sp.device, &sp.caseID, &sp.qid); err != nil {
				rows.Close()
				return err
			}
			gc.superseded[id] = sp
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return gc.prefetchDeviceMax(ctx, tx, group)
}

// prefetchDeviceMax reads what is known of the sequence of each device
// and user the group's ops come from: one query per group.
func (gc *groupCache) prefetchDeviceMax(ctx context.Context, tx *sql.Tx, group []*applyRequest) error {
	seen := map[string]bool{}
	var ids []any
	for _, r := range group {
		for _, op := range r.ops {
			if op.DeviceID != "" && !seen[op.DeviceID] {
				seen[op.DeviceID] = true
				ids = append(ids, op.DeviceID)
			}
		}
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		marks, args := sqlite.InList(chunk)
		rows, err := tx.QueryContext(ctx, `SELECT device_id, user_name, max_seq, forked FROM device_seqs WHERE device_id IN (`+marks+`)`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, user string
			var ds deviceSeq
			if err := rows.Scan(&id, &user, &ds.max, &ds.forked); err != nil {
				rows.Close()
				return err
			}
			gc.deviceMax[[2]string{id, user}] = ds
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// reusedSeq reports whether a new op from user comes from a copy of its
// device's store: at or below the highest sequence number already recorded
// from that device and user (a store pushes its ops in order, so only a
// store restored from a backup or copied to another laptop, counting again
// from where the copy was taken, does that), or under a device id already
// found forked. It returns the highest number recorded, and whether this
// op is the one that revealed the fork.
func (gc *groupCache) reusedSeq(user string, op framework.Op) (last int64, reused, found bool) {
	if op.DeviceID == "" || op.DeviceSeq <= 0 {
		return 0, false, false // 0: no sequence (a server-side write)
	}
	k := [2]string{op.DeviceID, user}
	ds, ok := gc.deviceMax[k]
	if !ok {
		return 0, false, false
	}
	if !ds.forked && op.DeviceSeq <= ds.max {
		ds.forked, found = true, true // both copies go on sending queued ops under this id
		gc.deviceMax[k], gc.devicesNew[k] = ds, true
	}
	return ds.max, ds.forked, found
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

func (db *DB) applyOp(ctx context.Context, tx *sql.Tx, u User, op framework.Op, gc *groupCache) (framework.Ack, error) {
	if err := framework.CheckOp(op); err != nil {
		// Not recorded: without a valid id there is nothing to deduplicate
		// on, and the record would keep what the limits refuse.
		return reject(op, err), nil
	}
	payload := syncer.Payload(u.Name, op)
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
func (gc *groupCache) withCurrent(ctx context.Context, tx *sql.Tx, u User, op framework.Op, ack framework.Ack) (framework.Ack, error) {
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
	if !framework.CanSeeCase(role, cr.c.Inspector == u.Name) {
		ack.Conflict = nil
		switch ack.Result {
		case framework.OpApplied:
			ack.Reason = ""
		case framework.OpConflict:
			// The recorded result and revision stand (a re-send gets them
			// again); what the conflict held of the case is not shown.
			ack.Reason = framework.CaseHiddenError(op.InspectionID, op.CaseRef).Error()
		case framework.OpRejected:
			if framework.ErrorCode(ack.Err) == framework.CodePermission {
				break // says only who the caller is not (NotOnTeamError, CaseHiddenError, a role)
			}
			// A refusal made while the caller could still see the case
			// (re-sent after they were taken off it) may describe it.
			hidden := framework.CaseHiddenError(op.InspectionID, op.CaseRef)
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
func (db *DB) record(ctx context.Context, tx *sql.Tx, u User, op framework.Op, payload int64, ack framework.Ack, gc *groupCache, written bool) (framework.Ack, error) {
	if ack.Result == framework.OpRejected {
		// Refusals of someone not on the inspection's team are not kept:
		// nothing of theirs belongs in its records (or, dismissed, in its
		// audit trail), and a re-send is refused again the same way.
		if role, err := gc.role(ctx, tx, u, op.InspectionID); err != nil {
			return ack, err
		} else if role == "" {
			return gc.withCurrent(ctx, tx, u, op, ack)
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
func (gc *groupCache) canSee(ctx context.Context, tx *sql.Tx, u User, inspectionID, ref string) (bool, error) {
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
func (gc *groupCache) role(ctx context.Context, tx *sql.Tx, u User, inspectionID string) (string, error) {
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

func reject(op framework.Op, err error) framework.Ack {
	return framework.Ack{OpID: op.ID, Result: framework.OpRejected, Reason: err.Error(), Err: err}
}

// current is an answer as it stands, with the case it belongs to.
type current struct {
	caseID       string
	inspectionID string
	caseStatus   string
	// fw and attrs decide whether the answer counts (countDeltas.add).
	fw    *framework.Framework
	attrs map[string]string
	syncer.Current
}

// decideOp validates an op and decides its outcome without writing. The
// caller's role and the case's visibility are checked before anything
// about the case is read, so that a refusal says nothing of a case the
// caller may not see.
func (db *DB) decideOp(ctx context.Context, tx *sql.Tx, u User, op framework.Op, gc *groupCache, reused bool) (framework.Ack, current, error) {
	var cur current
	role, err := gc.role(ctx, tx, u, op.InspectionID)
	if err != nil {
		return framework.Ack{}, cur, err
	}
	if role == "" {
		return reject(op, framework.NotOnTeamError(op.InspectionID)), cur, nil
	}
	bi := gc.insp[op.InspectionID]
	if bi == nil {
		bi = &batchInspection{}
		bi.fw, bi.status, bi.err = db.inspectionFramework(ctx, tx, op.InspectionID)
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
		if !framework.CanSeeCase(role, false) {
			err = framework.CaseHiddenError(op.InspectionID, op.CaseRef) // as for another's case
		}
		return reject(op, err), cur, nil
	}
	if !framework.CanSeeCase(role, cr.c.Inspector == u.Name) {
		return reject(op, framework.CaseHiddenError(op.InspectionID, op.CaseRef)), cur, nil
	}
	if err := framework.CheckAnswerWrite(role, cr.c.Inspector == u.Name, op.InspectionID, bi.status, cr.c); err != nil {
		return reject(op, err), cur, nil
	}
	v, err := bi.fw.CheckAnswer(op.CaseRef, cr.c.Attributes, op.QuestionID, op.Value)
	if err != nil {
		return reject(op, err), cur, nil
	}
	if err := framework.CheckAnswerNote(op.CaseRef, op.QuestionID, op.Note); err != nil {
		return reject(op, err), cur, nil
	}
	c, err := gc.answer(ctx, tx, cr.id, op.QuestionID)
	if err != nil {
		return framework.Ack{}, cur, err
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
	rows, err := tx.QueryContext(ctx, `SELECT coalesce(op_id, ''), device_id, updated_by FROM answer_history
		WHERE case_id = ? AND question_id = ? AND revision > ?`, caseID, questionID, base)
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

// putAnswer records a new revision in memory, to be written at the end of
// the group as a history row (flush derives the answer, op-record, change
// and audit rows from it) and a count delta.
func (gc *groupCache) putAnswer(ctx context.Context, tx *sql.Tx, at string, a framework.Actor, cur current, ans *framework.Answer, op framework.Op, payload int64) error {
	ans.UpdatedAt = gc.atTime
	if at != gc.at {
		ans.UpdatedAt = sqlite.ParseTime(at)
	}
	key := [2]string{cur.caseID, ans.QuestionID}
	h := histRow{caseID: cur.caseID, questionID: ans.QuestionID, value: ans.Value, note: ans.Note, revision: ans.Revision,
		user: a.User, device: a.Device, at: at, opID: op.ID, deviceSeq: op.DeviceSeq, payload: payload, inspectionID: cur.inspectionID}
	gc.rows.latest[key] = len(gc.rows.history)
	gc.rows.history = append(gc.rows.history, h)
	c, err := gc.answer(ctx, tx, cur.caseID, ans.QuestionID)
	if err != nil {
		return err
	}
	*c = syncer.Current{Exists: true, Value: ans.Value, Note: ans.Note, Revision: ans.Revision}
	if cur.Exists && cur.Value != ans.Value {
		gc.counts.add(cur.fw, cur.inspectionID, cur.attrs, ans.QuestionID, cur.Value, -1)
	}
	if !cur.Exists || cur.Value != ans.Value {
		gc.counts.add(cur.fw, cur.inspectionID, cur.attrs, ans.QuestionID, ans.Value, +1)
	}
	if cur.caseStatus == framework.CaseNotStarted {
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET status = ? WHERE id = ? AND status = ?`, framework.CaseInProgress, cur.caseID, framework.CaseNotStarted); err != nil {
			return err
		}
		if cr, ok := gc.cases[[2]string{op.InspectionID, op.CaseRef}]; ok {
			cr.c.Status = framework.CaseInProgress
		}
		gc.change(cur.inspectionID, "case", cur.caseID, cur.caseID)
		// Audited like a status set by hand, as the writer whose answer moved it.
		gc.audit(at, a, "case.status", "case/"+cur.inspectionID+"/"+ans.CaseRef,
			map[string]string{"status": framework.CaseNotStarted}, map[string]string{"status": framework.CaseInProgress, "reason": "first answer"})
	}
	return nil
}

// putConflict stores a conflict now (later ops may read it) and queues its
// change and audit rows.
func (gc *groupCache) putConflict(ctx context.Context, tx *sql.Tx, at string, c *framework.Conflict, opID, caseID string) error {
	c.CreatedAt = sqlite.ParseTime(at)
	if _, err := tx.ExecContext(ctx, `INSERT INTO conflicts (id, inspection_id, case_id, question_id, base_revision, server_revision, server_value, server_note,
		client_value, client_note, client_user, client_device, op_id, created_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')`,
		c.ID, c.InspectionID, caseID, c.QuestionID, c.BaseRevision, c.ServerRevision, c.ServerValue, c.ServerNote,
		c.ClientValue, c.ClientNote, c.ClientUser, c.ClientDevice, opID, at); err != nil {
		return err
	}
	gc.change(c.InspectionID, "conflict", caseID, c.ID)
	gc.audit(at, framework.Actor{User: c.ClientUser, Device: c.ClientDevice}, "conflict.open",
		"case/"+c.InspectionID+"/"+c.CaseRef+"/"+c.QuestionID, map[string]any{"value": c.ServerValue, "revision": c.ServerRevision},
		map[string]any{"value": c.ClientValue, "base_revision": c.BaseRevision, "conflict": c.ID})
	return nil
}

func (gc *groupCache) change(inspectionID, kind, caseID, entity string) {
	gc.rows.changes = append(gc.rows.changes, []any{inspectionID, kind, caseID, entity})
}

func (gc *groupCache) audit(at string, a framework.Actor, action, entity string, before, after any) {
	gc.rows.audit = append(gc.rows.audit, auditRow(at, a, action, entity, before, after))
}

// flush writes the group's rows. Binding values through cgo costs more
// than SQLite's own work per row (BENCHMARKS.md), so Go binds one history
// row per answer version, which is also the record of the op that wrote it
// (op_records) and the payload of its audit entry (audit_trail), and the
// answer's current state, the pull change and the audit row are derived
// from it by one INSERT … SELECT per table. Rows that are not answer
// versions (records of ops that wrote nothing, case status and conflict
// changes, conflict audit entries) are bound as they are.
func (gc *groupCache) flush(ctx context.Context, tx *sql.Tx) error {
	var base int64 // history rows after this id are this group's
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM answer_history`).Scan(&base); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	// In runs by inspection (a group may hold several), so that each run's
	// rows, which get consecutive ids, are derived with their inspection
	// bound instead of joined from cases row by row. The order within an
	// inspection, and so of one answer's versions, is kept.
	order := make([]int, len(gc.rows.history))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		return gc.rows.history[order[i]].inspectionID < gc.rows.history[order[j]].inspectionID
	})
	hist := make([][]any, 0, len(order))
	for _, i := range order {
		h := &gc.rows.history[i]
		var opID, seq, payload any // NULL for imports, which have no op; see op_records
		if h.opID != "" {
			opID, seq, payload = h.opID, h.deviceSeq, h.payload
		}
		hist = append(hist, []any{h.caseID, h.questionID, h.value, h.note, h.revision, h.user, h.device, h.at, opID, seq, payload})
	}
	if err := sqlite.InsertMany(ctx, tx, `INSERT INTO answer_history (case_id, question_id, value, note, revision, updated_by, device_id, updated_at, op_id, device_seq, payload) VALUES `,
		`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``, hist); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	if len(hist) > 0 {
		// SQLite numbers rows of an append-only rowid table max+1 on: the runs
		// below rely on that, so check it rather than assume it.
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT max(id) FROM answer_history`).Scan(&last); err != nil {
			return fmt.Errorf("write history: %w", err)
		}
		if last != base+int64(len(hist)) {
			return fmt.Errorf("write history: %d rows after id %d ended at id %d", len(hist), base, last)
		}
		if _, err := tx.ExecContext(ctx, deriveAnswers, base); err != nil {
			return fmt.Errorf("write answers: %w", err)
		}
	}
	for lo := 0; lo < len(order); {
		insp := gc.rows.history[order[lo]].inspectionID
		hi := lo
		for hi < len(order) && gc.rows.history[order[hi]].inspectionID == insp {
			hi++
		}
		for _, s := range derivedPerInspection {
			if _, err := tx.ExecContext(ctx, s.sql, base+int64(lo), base+int64(hi), insp); err != nil {
				return fmt.Errorf("write %s: %w", s.what, err)
			}
		}
		lo = hi
	}
	if err := sqlite.InsertMany(ctx, tx, `INSERT INTO ops_applied (op_id, result, revision, reason, conflict_id, user_name, device_id, device_seq, applied_at, case_id, question_id, payload, code) VALUES `,
		`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``, gc.rows.ops); err != nil {
		return fmt.Errorf("write op records: %w", err)
	}
	for k := range gc.devicesNew {
		ds := gc.deviceMax[k]
		if _, err := tx.ExecContext(ctx, `INSERT INTO device_seqs (device_id, user_name, max_seq, forked) VALUES (?, ?, ?, ?)
			ON CONFLICT (device_id, user_name) DO UPDATE SET max_seq = max(max_seq, excluded.max_seq), forked = max(forked, excluded.forked)`,
			k[0], k[1], ds.max, ds.forked); err != nil {
			return fmt.Errorf("write device sequence: %w", err)
		}
	}
	if err := sqlite.InsertMany(ctx, tx, `INSERT INTO supersessions (op_id, by_op_id, user_name, device_id, case_id, question_id) VALUES `,
		`(?, ?, ?, ?, ?, ?)`, ` ON CONFLICT DO NOTHING`, gc.rows.supers); err != nil {
		return fmt.Errorf("write supersessions: %w", err)
	}
	if err := sqlite.InsertMany(ctx, tx, `INSERT INTO changes (inspection_id, kind, case_id, entity) VALUES `, `(?, ?, ?, ?)`, ``, gc.rows.changes); err != nil {
		return fmt.Errorf("write changes: %w", err)
	}
	if err := sqlite.InsertMany(ctx, tx, `INSERT INTO audit (at, user_name, device_id, action, entity, before, after, inspection_id) VALUES `,
		`(?, ?, ?, ?, ?, ?, ?, ?)`, ``, gc.rows.audit); err != nil {
		return fmt.Errorf("write audit: %w", err)
	}
	return nil
}

// deriveAnswers writes the current state of each answer from the history
// rows with an id above ?1, in id order, so several versions of one answer
// in a group apply in turn.
const deriveAnswers = `INSERT INTO answers (case_id, question_id, value, note, revision, updated_by, device_id, updated_at)
	SELECT case_id, question_id, value, note, revision, updated_by, device_id, updated_at FROM answer_history WHERE id > ?1 ORDER BY id
	ON CONFLICT (case_id, question_id) DO UPDATE SET value = excluded.value, note = excluded.note, revision = excluded.revision,
	updated_by = excluded.updated_by, device_id = excluded.device_id, updated_at = excluded.updated_at`

// derivedPerInspection writes the pull change and the audit row of each
// history row with an id in (?1, ?2], all of inspection ?3.
var derivedPerInspection = []struct{ what, sql string }{
	{"changes", `INSERT INTO changes (inspection_id, kind, case_id, entity)
		SELECT ?3, 'answer', case_id, question_id FROM answer_history WHERE id > ?1 AND id <= ?2 ORDER BY id`},
	// The audit row points at the version; audit_trail shows it whole.
	{"audit", `INSERT INTO audit (at, user_name, device_id, action, entity, inspection_id, history_id)
		SELECT '', '', '', 'answer.write', '', ?3, id FROM answer_history WHERE id > ?1 AND id <= ?2 ORDER BY id`},
}
