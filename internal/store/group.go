package store

import (
	"context"
	"database/sql"
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
	insp    map[string]*batchInspection  // by inspection id
	roles   map[[2]string]framework.Role // (inspection, user) → role
	cases   map[[2]string]*caseRow       // by (inspection, ref)
	answers map[string]map[string]*syncer.Current
	counts  countDeltas
	touched map[string]*touchedCase // by case id: cases whose answer values this group changed
	// leaving is what a batch's (or file's) own writes make of each case's
	// answers, to judge each write on the case as the batch leaves it:
	// (inspection, case ref) → question → value. Only questions that rules
	// name are kept, and only for frameworks with such rules.
	leaving map[[2]string]map[string]string
	batch   []framework.Op  // the batch being applied, whose writes leaving holds
	noted   map[string]bool // inspections whose writes in batch leaving holds

	recorded   map[string]opRecord     // op records from before this group, prefetched
	acks       map[string]opRecord     // ops recorded in this group
	superseded map[string]supersession // op id → the applied later edit that named it (before or in this group)
	deviceMax  map[[2]string]deviceSeq // (device, user) → highest device_seq recorded (before or in this group)
	devicesNew map[[2]string]bool      // those this group changed

	sels     map[string]*framework.QASelection // case id → its QA selection (nil: none), read on first use
	inspSels map[string]bool                   // inspection → whether it has any selection

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
	status framework.InspectionStatus
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
	return &groupCache{insp: map[string]*batchInspection{}, roles: map[[2]string]framework.Role{}, cases: map[[2]string]*caseRow{},
		answers: map[string]map[string]*syncer.Current{}, counts: newCountDeltas(), touched: map[string]*touchedCase{}, recorded: map[string]opRecord{},
		acks: map[string]opRecord{}, superseded: map[string]supersession{}, deviceMax: map[[2]string]deviceSeq{}, devicesNew: map[[2]string]bool{},
		rows: pendingRows{latest: map[[2]string]int{}}}
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
	if !cur.Exists || cur.Value != ans.Value {
		gc.touch(cur, ans.QuestionID) // before the answer changes in memory: touch keeps what it was
	}
	*c = syncer.Current{Exists: true, Value: ans.Value, Note: ans.Note, Revision: ans.Revision}
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
			map[string]any{"status": framework.CaseNotStarted}, map[string]any{"status": framework.CaseInProgress, "reason": "first answer"})
	}
	return nil
}

// touchedCase is a case whose answer values a group changes: what each
// changed answer was before the group, so that the kept counts move by the
// case's change as a whole (countDeltas.moveCase).
type touchedCase struct {
	fw           *framework.Framework
	inspectionID string
	attrs        map[string]string
	before       map[string]syncer.Current // question → the answer before the group
	order        []string                  // the questions changed, in order
}

// touch notes that a case's answer to a question is about to change from
// cur (its value before, kept at the first change in the group).
func (gc *groupCache) touch(cur current, questionID string) {
	t := gc.touched[cur.caseID]
	if t == nil {
		t = &touchedCase{fw: cur.fw, inspectionID: cur.inspectionID, attrs: cur.attrs, before: map[string]syncer.Current{}}
		gc.touched[cur.caseID] = t
	}
	if _, ok := t.before[questionID]; !ok {
		t.before[questionID] = cur.Current
		t.order = append(t.order, questionID)
	}
}

// countTouched moves the kept counts of every case the group changed, from
// the case before the group to the case as the group leaves it.
func (gc *groupCache) countTouched() {
	for caseID, t := range gc.touched {
		after := gc.factsOf(caseID, t.attrs)
		before := framework.Facts{Attributes: t.attrs, Answer: func(q string) (string, bool) {
			if c, ok := t.before[q]; ok {
				return c.Value, c.Exists
			}
			return after.Answer(q)
		}}
		gc.counts.moveCase(t.fw, t.inspectionID, before, after, t.order)
	}
	gc.touched = map[string]*touchedCase{}
}

// leavingFacts are the facts a write to a case is judged on: the case's
// attributes and its answers as the batch being applied leaves them (its
// own writes first, then the answers as they stand). The case's answers
// must have been read (groupCache.answer).
func (gc *groupCache) leavingFacts(fw *framework.Framework, inspectionID string, cr caseRow) framework.Facts {
	if !fw.AnswerConditions() {
		return framework.Facts{Attributes: cr.c.Attributes}
	}
	if !gc.noted[inspectionID] {
		// Once per inspection and batch, and only for a framework with
		// rules on answers: the push of any other pays nothing for it.
		if gc.noted == nil {
			gc.noted = map[string]bool{}
		}
		gc.noted[inspectionID] = true
		for _, op := range gc.batch {
			if op.InspectionID == inspectionID {
				gc.intend(fw, inspectionID, op.CaseRef, op.QuestionID, op.Value)
			}
		}
	}
	mine, now := gc.leaving[[2]string{inspectionID, cr.c.Ref}], gc.nowFacts(cr)
	return framework.Facts{Attributes: cr.c.Attributes, Answer: func(q string) (string, bool) {
		if v, ok := mine[q]; ok {
			return v, true
		}
		return now.Answer(q)
	}}
}

// nowFacts are the facts of a case as it stands in the group, the writes
// applied so far included. The case's answers must have been read.
func (gc *groupCache) nowFacts(cr caseRow) framework.Facts { return gc.factsOf(cr.id, cr.c.Attributes) }

// factsOf are the facts of case caseID, with the given attributes, as the
// group holds its answers.
func (gc *groupCache) factsOf(caseID string, attrs map[string]string) framework.Facts {
	now := gc.answers[caseID]
	return framework.Facts{Attributes: attrs, Answer: func(q string) (string, bool) {
		if c := now[q]; c != nil && c.Exists {
			return c.Value, true
		}
		return "", false
	}}
}

// startBatch makes ops the batch whose writes leavingFacts takes into
// account.
func (gc *groupCache) startBatch(ops []framework.Op) {
	gc.batch, gc.leaving, gc.noted = ops, nil, nil
}

// intend notes a write a batch (or file) makes, for leavingFacts: only
// the values of questions that rules name, as stored.
func (gc *groupCache) intend(fw *framework.Framework, inspectionID, caseRef, questionID, value string) {
	if len(fw.Dependents(questionID)) == 0 {
		return
	}
	v, err := framework.ParseValue(value)
	if err != nil {
		return // refused on its own; it leaves the case as it is
	}
	if gc.leaving == nil {
		gc.leaving = map[[2]string]map[string]string{}
	}
	k := [2]string{inspectionID, caseRef}
	if gc.leaving[k] == nil {
		gc.leaving[k] = map[string]string{}
	}
	gc.leaving[k][questionID] = v.String()
}

// putConflict stores a conflict now (later ops may read it) and queues its
// change and audit rows.
func (gc *groupCache) putConflict(ctx context.Context, tx *sql.Tx, at string, c *framework.Conflict, opID, caseID string) error {
	c.CreatedAt = sqlite.ParseTime(at)
	if err := gc.serverSide(ctx, tx, c, caseID); err != nil {
		return err
	}
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
	gc.countTouched()
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
	if err := sqlite.InsertMany(ctx, tx, `INSERT INTO changes (inspection_id, kind, case_id, entity, token) VALUES `, `(?, ?, ?, ?, random())`, ``, gc.rows.changes); err != nil {
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
	{"changes", `INSERT INTO changes (inspection_id, kind, case_id, entity, token)
		SELECT ?3, 'answer', case_id, question_id, random() FROM answer_history WHERE id > ?1 AND id <= ?2 ORDER BY id`},
	// The audit row points at the version; audit_trail shows it whole.
	{"audit", `INSERT INTO audit (at, user_name, device_id, action, entity, inspection_id, history_id)
		SELECT '', '', '', 'answer.write', '', ?3, id FROM answer_history WHERE id > ?1 AND id <= ?2 ORDER BY id`},
}

// sameAnswer returns the stored value of a case's answer if value (in any
// accepted spelling) and note are the answer as it stands, else "".
func (gc *groupCache) sameAnswer(ctx context.Context, tx *sql.Tx, caseID, questionID, value, note string) (string, error) {
	v, err := framework.ParseValue(value)
	if err != nil {
		return "", nil
	}
	c, err := gc.answer(ctx, tx, caseID, questionID)
	if err != nil || !c.Exists || c.Value != v.String() || c.Note != note {
		return "", err
	}
	return c.Value, nil
}
