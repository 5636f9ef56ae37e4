package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
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
func (db *DB) ApplyOps(ctx context.Context, u User, ops []framework.Op) ([]framework.Ack, error) {
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
func (db *DB) SubmitOps(ctx context.Context, u User, ops []framework.Op) (*PendingOps, error) {
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
	user User
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

const conflictCols = `k.id, k.inspection_id, c.case_ref, k.question_id, k.base_revision, k.server_revision, k.server_value, k.server_note,
	k.client_value, k.client_note, k.client_user, k.client_device, k.created_at, k.status, k.resolved_by, k.resolution`

func scanConflict(s interface{ Scan(...any) error }) (framework.Conflict, error) {
	var c framework.Conflict
	var at string
	err := s.Scan(&c.ID, &c.InspectionID, &c.CaseRef, &c.QuestionID, &c.BaseRevision, &c.ServerRevision, &c.ServerValue, &c.ServerNote,
		&c.ClientValue, &c.ClientNote, &c.ClientUser, &c.ClientDevice, &at, &c.Status, &c.ResolvedBy, &c.Resolution)
	c.CreatedAt = sqlite.ParseTime(at)
	return c, err
}

func conflictByID(ctx context.Context, tx *sql.Tx, id string) (framework.Conflict, error) {
	return scanConflict(tx.QueryRowContext(ctx, `SELECT `+conflictCols+` FROM conflicts k JOIN cases c ON c.id = k.case_id WHERE k.id = ?`, id))
}

// ImportAnswers stores answers.csv rows for an inspection as the
// authoritative values (no revision check: an import is a deliberate load),
// after validating every row; one bad row and nothing is stored. Rows
// whose value and note are already current are left alone.
func (db *DB) ImportAnswers(ctx context.Context, a framework.Actor, inspectionID string, rows []framework.AnswerRow) (applied, unchanged int, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		fw, status, err := db.inspectionFramework(ctx, tx, inspectionID)
		if err != nil {
			return err
		}
		if err := framework.CheckWritable(inspectionID, status, "", ""); err != nil {
			return err
		}
		// The same write machinery as a push (one read per case, rows written
		// at the end), without the revision check: an import is deliberate.
		gc := newGroupCache()
		errs := &framework.RowErrors{File: "answers.csv"}
		values := make([]string, len(rows))
		for i, r := range rows {
			cr, err := gc.loadCase(ctx, tx, inspectionID, r.CaseRef)
			if err != nil {
				if framework.ErrorCode(err) == "" {
					return err
				}
				errs.Add(r.Line, "case %s is not in this inspection (import cases.csv first)", r.CaseRef)
				continue
			}
			if err := framework.CheckWritable(inspectionID, status, r.CaseRef, cr.c.Status); err != nil {
				errs.Add(r.Line, "%s", err.Error())
				continue
			}
			v, err := fw.CheckAnswer(r.CaseRef, cr.c.Attributes, r.QuestionID, r.Value)
			if err != nil {
				// A row repeating, value and note, an answer that no longer
				// applies is left alone (it stays listed until cleared), so
				// that the same answers.csv can be loaded again after a
				// cases.csv change; any other write of it is refused.
				same, serr := gc.sameAnswer(ctx, tx, cr.id, r.QuestionID, r.Value, r.Note)
				if serr != nil {
					return serr
				}
				if same != "" && fw.NoLongerApplies(cr.c.Attributes, r.QuestionID, same) {
					values[i] = same
					continue
				}
				errs.Add(r.Line, "%v", err)
				continue
			}
			values[i] = v.String()
		}
		if err := errs.Err(); err != nil {
			return err
		}
		at := gc.now(db)
		for i, r := range rows {
			cr, err := gc.loadCase(ctx, tx, inspectionID, r.CaseRef)
			if err != nil {
				return err
			}
			c, err := gc.answer(ctx, tx, cr.id, r.QuestionID)
			if err != nil {
				return err
			}
			if c.Exists && c.Value == values[i] && c.Note == r.Note {
				unchanged++
				continue
			}
			cur := current{caseID: cr.id, inspectionID: inspectionID, caseStatus: cr.c.Status, fw: fw, attrs: cr.c.Attributes, Current: *c}
			ans := &framework.Answer{CaseRef: r.CaseRef, QuestionID: r.QuestionID, Value: values[i], Note: r.Note, Revision: c.Revision + 1}
			if err := gc.putAnswer(ctx, tx, at, a, cur, ans, framework.Op{InspectionID: inspectionID, CaseRef: r.CaseRef}, 0); err != nil {
				return err
			}
			applied++
		}
		if err := gc.flush(ctx, tx); err != nil {
			return err
		}
		return gc.counts.flush(ctx, tx)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("import answers: %w", err)
	}
	return applied, unchanged, nil
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

// Answers returns the current answers of one case.
func (db *DB) Answers(ctx context.Context, inspectionID, caseRef string) ([]framework.Answer, error) {
	rows, err := db.conn.Reader.QueryContext(ctx, `SELECT c.case_ref, a.question_id, a.value, a.note, a.revision, a.updated_by, a.device_id, a.updated_at
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
		a.UpdatedAt = sqlite.ParseTime(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// ReportInput reads, in one snapshot, everything a report is computed
// from, and the change sequence it is consistent at. Several inspections
// are pooled when they share a framework version: their cases are named
// <unit>/<case_ref> and carry their unit in the "unit" attribute; judged
// ratings are not pooled.
func (db *DB) ReportInput(ctx context.Context, inspectionIDs ...string) (*framework.Framework, framework.Sample, error) {
	var fw *framework.Framework
	var in framework.Sample
	if len(inspectionIDs) == 1 {
		in.InspectionID = inspectionIDs[0]
	}
	err := db.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&in.AsOfSeq); err != nil {
			return err
		}
		pooled := len(inspectionIDs) > 1
		p := db.newPool()
		for _, id := range inspectionIDs {
			name, unit, err := p.member(ctx, tx, id)
			if err != nil {
				return err
			}
			fw = p.fw
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
				c.Attributes[framework.UnitAttribute] = unit
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
		items := strings.Split(packed, "\x1e")
		out = slices.Grow(out, len(items))
		for _, item := range items {
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
		var err error
		out, err = db.recount(ctx, tx, fix)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("recount: %w", err)
	}
	return out, nil
}

func (db *DB) recount(ctx context.Context, tx *sql.Tx, fix bool) ([]Mismatch, error) {
	counted, err := db.countAnswers(ctx, tx)
	if err != nil {
		return nil, err
	}
	kept := map[[3]string]int{}
	rows, err := tx.QueryContext(ctx, `SELECT inspection_id, question_id, value, n FROM question_counts WHERE n != 0`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k [3]string
		var n int
		if err := rows.Scan(&k[0], &k[1], &k[2], &n); err != nil {
			rows.Close()
			return nil, err
		}
		kept[k] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []Mismatch
	for k, n := range kept {
		if counted[k] != n {
			out = append(out, Mismatch{InspectionID: k[0], QuestionID: k[1], Value: k[2], Kept: n, Counted: counted[k]})
		}
	}
	for k, n := range counted {
		if _, ok := kept[k]; !ok {
			out = append(out, Mismatch{InspectionID: k[0], QuestionID: k[1], Value: k[2], Counted: n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.InspectionID+"\x00"+a.QuestionID+"\x00"+a.Value < b.InspectionID+"\x00"+b.QuestionID+"\x00"+b.Value
	})
	if !fix || len(out) == 0 {
		return out, nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM question_counts`); err != nil {
		return nil, err
	}
	var fresh [][]any
	for k, n := range counted {
		fresh = append(fresh, []any{k[0], k[1], k[2], n})
	}
	if err := sqlite.InsertMany(ctx, tx, `INSERT INTO question_counts (inspection_id, question_id, value, n) VALUES `, `(?, ?, ?, ?)`, ``, fresh); err != nil {
		return nil, err
	}
	return out, nil
}

// countAnswers is the full recount the kept counts must equal: every
// answer that counts for its case (countDeltas.add, the rule the kept
// counts follow), by inspection, question and value. SQLite groups the
// answers by their case's attributes, so the rule is judged once per
// distinct attributes, question and value rather than once per answer.
func (db *DB) countAnswers(ctx context.Context, tx *sql.Tx) (map[[3]string]int, error) {
	fws := map[string]*framework.Framework{}
	rows, err := tx.QueryContext(ctx, `SELECT id, framework_id, framework_version FROM inspections`)
	if err != nil {
		return nil, err
	}
	type binding struct {
		id, fw  string
		version int
	}
	var bs []binding
	for rows.Next() {
		var b binding
		if err := rows.Scan(&b.id, &b.fw, &b.version); err != nil {
			rows.Close()
			return nil, err
		}
		bs = append(bs, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, b := range bs {
		fw, _, err := db.Framework(ctx, b.fw, b.version)
		if err != nil {
			return nil, fmt.Errorf("inspection %s: %w", b.id, err)
		}
		fws[b.id] = fw
	}
	rows, err = tx.QueryContext(ctx, `SELECT c.inspection_id, c.attributes, a.question_id, a.value, count(*) FROM answers a JOIN cases c ON c.id = a.case_id
		GROUP BY c.inspection_id, c.attributes, a.question_id, a.value`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counted := countDeltas{}
	parsed := map[string]map[string]string{}
	for rows.Next() {
		var inspectionID, raw, q, v string
		var n int
		if err := rows.Scan(&inspectionID, &raw, &q, &v, &n); err != nil {
			return nil, err
		}
		attrs, ok := parsed[raw]
		if !ok {
			if err := json.Unmarshal([]byte(raw), &attrs); err != nil {
				return nil, fmt.Errorf("inspection %s: case attributes: %w", inspectionID, err)
			}
			parsed[raw] = attrs
		}
		fw := fws[inspectionID]
		if fw == nil {
			return nil, fmt.Errorf("answers of inspection %s, which does not exist", inspectionID)
		}
		counted.add(fw, inspectionID, attrs, q, v, n)
	}
	return counted, rows.Err()
}

// PooledCounts is the fast input of a pooled report: the kept counts of the
// inspections, their case count and units, at one change sequence. The
// inspections must share a framework version.
func (db *DB) PooledCounts(ctx context.Context, inspectionIDs ...string) (*framework.Framework, framework.Sample, error) {
	var fw *framework.Framework
	in := framework.Sample{Counts: map[string]map[string]int{}}
	err := db.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&in.AsOfSeq); err != nil {
			return err
		}
		p := db.newPool()
		for _, id := range inspectionIDs {
			_, unit, err := p.member(ctx, tx, id)
			if err != nil {
				return err
			}
			fw = p.fw
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM cases WHERE inspection_id = ?`, id).Scan(&n); err != nil {
				return err
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
			if err := rows.Err(); err != nil {
				return err
			}
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

// pool checks the inspections pooled into one report: each once, all on
// one framework version, each with a distinct unit label.
type pool struct {
	db     *DB
	fw     *framework.Framework
	ids    map[string]bool
	labels map[string]bool
}

func (db *DB) newPool() *pool {
	return &pool{db: db, ids: map[string]bool{}, labels: map[string]bool{}}
}

// member adds an inspection and returns its name and unit label: its unit
// (else its name), told apart by its name, then its id, when another pooled
// inspection already has that label (the label prefixes pooled case
// references, so a shared one would merge two units' cases).
func (p *pool) member(ctx context.Context, tx *sql.Tx, id string) (name, label string, err error) {
	if p.ids[id] {
		return "", "", framework.Errorf(framework.CodeInvalid, "inspection %s is listed twice", id)
	}
	p.ids[id] = true
	f, _, err := p.db.inspectionFramework(ctx, tx, id)
	if err != nil {
		return "", "", err
	}
	if p.fw != nil && (f.ID != p.fw.ID || f.Version != p.fw.Version) {
		return "", "", framework.Errorf(framework.CodeInvalid, "cannot pool inspection %s (%s v%d) with %s v%d: pooled inspections share one framework version",
			id, f.ID, f.Version, p.fw.ID, p.fw.Version)
	}
	p.fw = f
	var unit string
	if err := tx.QueryRowContext(ctx, `SELECT name, unit FROM inspections WHERE id = ?`, id).Scan(&name, &unit); err != nil {
		return "", "", err
	}
	if unit == "" {
		unit = name
	}
	for _, l := range []string{unit, unit + " (" + name + ")", unit + " (" + id + ")"} {
		if !p.labels[l] {
			p.labels[l] = true
			return name, l, nil
		}
	}
	return "", "", fmt.Errorf("pool: no distinct label for inspection %s", id) // ids are unique: unreachable
}

// MaxDismissals bounds one DismissRefusals call.
const MaxDismissals = 5000

// DismissRefusals audits that u dismissed refused ops of theirs, and
// returns how many of opIDs those were. Other ids (unknown, not refused, or
// another user's) are skipped alike.
func (db *DB) DismissRefusals(ctx context.Context, u User, device string, opIDs []string) (int, error) {
	if len(opIDs) > MaxDismissals {
		return 0, framework.Errorf(framework.CodeInvalid, "%d op ids are over the limit of %d", len(opIDs), MaxDismissals)
	}
	n := 0
	err := db.write(ctx, func(tx *sql.Tx) error {
		n = 0
		at := db.now()
		for _, id := range opIDs {
			var reason, question string
			var inspection, ref sql.NullString
			err := tx.QueryRowContext(ctx, `SELECT r.reason, coalesce(r.question_id, ''), c.inspection_id, c.case_ref FROM op_records r
				LEFT JOIN cases c ON c.id = r.case_id WHERE r.op_id = ? AND r.result = ? AND r.user_name = ?`,
				id, int(framework.OpRejected), u.Name).Scan(&reason, &question, &inspection, &ref)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO dismissals (op_id) VALUES (?) ON CONFLICT DO NOTHING`, id)
			if err != nil {
				return err
			}
			if first, err := res.RowsAffected(); err != nil || first == 0 {
				n++ // dismissed before: counted, not audited again
				continue
			}
			entity := "op/" + id
			if inspection.Valid {
				entity = "case/" + inspection.String + "/" + ref.String + "/" + question
			}
			if err := audit(ctx, tx, at, framework.Actor{User: u.Name, Device: device, Admin: u.Admin}, "refusal.dismiss", entity,
				map[string]string{"op_id": id, "reason": reason}, map[string]string{"status": "dismissed"}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("dismiss refusals: %w", err)
	}
	return n, nil
}
