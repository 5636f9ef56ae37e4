// Package localstore is the client's offline store: one SQLite file on
// the inspector's laptop (on internal/sqlite, with its own migrations)
// holding the inspections, cases, answers and frameworks its user may see,
// the outbox of ops not yet acknowledged, conflicts and refused edits.
package localstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
	"github.com/fieldworkhq/fieldwork/internal/syncer"
)

//go:embed migrations/*.sql
var localMigrations embed.FS

// Store is a client's offline store: the inspections, cases, answers and
// frameworks its user may see, and the outbox of ops not yet acknowledged.
type Store struct {
	conn *sqlite.Conn
	Now  func() time.Time

	// fws caches loaded frameworks by id@version. The store is shared by
	// concurrent callers (the web form's handlers), so the cache has a lock.
	fwMu sync.Mutex
	fws  map[string]*framework.Framework
}

// Open opens (creating and migrating) a client store, readable and
// writable by its owner only.
func Open(ctx context.Context, path string) (*Store, error) {
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600); err == nil {
		f.Close()
	}
	c, err := sqlite.Open(ctx, path, localMigrations, "migrations")
	if err != nil {
		return nil, err
	}
	os.Chmod(path, 0o600)
	return &Store{conn: c, Now: time.Now, fws: map[string]*framework.Framework{}}, nil
}

// Close closes the store.
func (l *Store) Close() error { return l.conn.Close() }

// write runs fn in one write transaction, refused (like the server's)
// once the file at the store's path is not the one opened: answers
// committed to a file renamed over or deleted would be lost.
func (l *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return l.conn.Write(ctx, fn)
}

// Meta returns a stored setting ("" if unset).
func (l *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := l.conn.Writer.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetMeta stores a setting.
func (l *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := l.conn.Writer.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

func setMeta(ctx context.Context, tx *sql.Tx, key, value string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// DeviceID returns this store's device id, creating it on first use.
func (l *Store) DeviceID(ctx context.Context) (string, error) {
	id, err := l.Meta(ctx, "device_id")
	if err != nil || id != "" {
		return id, err
	}
	id = uuid.Must(uuid.NewV7()).String()
	return id, l.SetMeta(ctx, "device_id", id)
}

// PutFramework caches a framework file.
func (l *Store) PutFramework(ctx context.Context, id string, version int, raw []byte) error {
	_, err := l.conn.Writer.ExecContext(ctx, `INSERT INTO frameworks (id, version, definition) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET definition = excluded.definition`, id, version, raw)
	return err
}

// HasFramework reports whether a framework version is cached.
func (l *Store) HasFramework(ctx context.Context, id string, version int) (bool, error) {
	var n int
	err := l.conn.Writer.QueryRowContext(ctx, `SELECT count(*) FROM frameworks WHERE id = ? AND version = ?`, id, version).Scan(&n)
	return n > 0, err
}

// Framework returns a cached framework.
func (l *Store) Framework(ctx context.Context, id string, version int) (*framework.Framework, error) {
	k := fmt.Sprintf("%s@%d", id, version)
	l.fwMu.Lock()
	fw := l.fws[k]
	l.fwMu.Unlock()
	if fw != nil {
		return fw, nil
	}
	var raw []byte
	err := l.conn.Writer.QueryRowContext(ctx, `SELECT definition FROM frameworks WHERE id = ? AND version = ?`, id, version).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, framework.Errorf(framework.CodeNotFound, "framework %s is not in the local store: run fieldwork sync", k)
	}
	if err != nil {
		return nil, err
	}
	// Two callers missing at once both load it; either result will do.
	fw, err = framework.Load(raw)
	if err != nil {
		return nil, err
	}
	l.fwMu.Lock()
	l.fws[k] = fw
	l.fwMu.Unlock()
	return fw, nil
}

// Inspections lists the locally known inspections.
func (l *Store) Inspections(ctx context.Context) ([]framework.Inspection, error) {
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT id, name, unit, framework_id, framework_version, status, role FROM inspections ORDER BY name, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.Inspection
	for rows.Next() {
		var in framework.Inspection
		if err := rows.Scan(&in.ID, &in.Name, &in.Unit, &in.FrameworkID, &in.FrameworkVersion, &in.Status, &in.Role); err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// Inspection returns one locally known inspection.
func (l *Store) Inspection(ctx context.Context, id string) (framework.Inspection, error) {
	var in framework.Inspection
	err := l.conn.Writer.QueryRowContext(ctx, `SELECT id, name, unit, framework_id, framework_version, status, role FROM inspections WHERE id = ?`, id).
		Scan(&in.ID, &in.Name, &in.Unit, &in.FrameworkID, &in.FrameworkVersion, &in.Status, &in.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return in, framework.Errorf(framework.CodeNotFound, "inspection %q is not in the local store (run fieldwork sync while online)", id)
	}
	return in, err
}

// Cases lists the local cases of an inspection.
func (l *Store) Cases(ctx context.Context, inspectionID string) ([]framework.Case, error) {
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT case_ref, attributes, inspector, status FROM cases WHERE inspection_id = ? ORDER BY case_ref`, inspectionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.Case
	for rows.Next() {
		var c framework.Case
		var attrs string
		if err := rows.Scan(&c.Ref, &attrs, &c.Inspector, &c.Status); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(attrs), &c.Attributes)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Answers lists the local answers of an inspection (one case if caseRef is set).
func (l *Store) Answers(ctx context.Context, inspectionID, caseRef string) ([]framework.Answer, error) {
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT case_ref, question_id, value, note, revision, updated_by, updated_at FROM answers
		WHERE inspection_id = ? AND (? = '' OR case_ref = ?) ORDER BY case_ref, question_id`, inspectionID, caseRef, caseRef)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.Answer
	for rows.Next() {
		var a framework.Answer
		var at string
		if err := rows.Scan(&a.CaseRef, &a.QuestionID, &a.Value, &a.Note, &a.Revision, &a.UpdatedBy, &at); err != nil {
			return nil, err
		}
		a.UpdatedAt = sqlite.ParseTime(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Record validates an answer against the inspection's framework and the
// case's attributes and, in one transaction, stores it locally and appends
// its op to the outbox. It needs no network.
func (l *Store) Record(ctx context.Context, user, inspectionID, caseRef, questionID, value, note string) (framework.Op, error) {
	return l.record(ctx, user, framework.Op{InspectionID: inspectionID, CaseRef: caseRef, QuestionID: questionID, Value: value, Note: note})
}

// Resolve queues the resolution of an open conflict: choice is mine (the
// refused edit), theirs (the value the server kept) or value (a new value
// given in value and note). Like Record it works offline.
func (l *Store) Resolve(ctx context.Context, user, conflictID, choice, value, note string) (framework.Op, error) {
	var body, status string
	err := l.conn.Writer.QueryRowContext(ctx, `SELECT body, status FROM conflicts WHERE id = ?`, conflictID).Scan(&body, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return framework.Op{}, framework.Errorf(framework.CodeNotFound, "conflict %q is not on this device (run fieldwork sync)", conflictID)
	}
	if err != nil {
		return framework.Op{}, err
	}
	if status != "open" {
		return framework.Op{}, framework.Errorf(framework.CodePrecondition, "conflict %s is %s", conflictID, status)
	}
	var c framework.Conflict
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		return framework.Op{}, err
	}
	switch choice {
	case framework.ResolveMine:
		value, note = c.ClientValue, c.ClientNote
	case framework.ResolveTheirs:
		value, note = c.ServerValue, c.ServerNote
	case framework.ResolveValue:
	default:
		return framework.Op{}, framework.Errorf(framework.CodeInvalid, "resolution %q is not mine, theirs or value", choice)
	}
	return l.record(ctx, user, framework.Op{InspectionID: c.InspectionID, CaseRef: c.CaseRef, QuestionID: c.QuestionID,
		Value: value, Note: note, ConflictID: c.ID, Resolution: choice})
}

func (l *Store) record(ctx context.Context, user string, want framework.Op) (framework.Op, error) {
	inspectionID, caseRef, questionID, value, note := want.InspectionID, want.CaseRef, want.QuestionID, want.Value, want.Note
	in, err := l.Inspection(ctx, inspectionID)
	if err != nil {
		return framework.Op{}, err
	}
	fw, err := l.Framework(ctx, in.FrameworkID, in.FrameworkVersion)
	if err != nil {
		return framework.Op{}, err
	}
	var op framework.Op
	err = l.write(ctx, func(tx *sql.Tx) error {
		var attrs string
		c := framework.Case{Ref: caseRef}
		err := tx.QueryRowContext(ctx, `SELECT attributes, status, inspector FROM cases WHERE inspection_id = ? AND case_ref = ?`,
			inspectionID, caseRef).Scan(&attrs, &c.Status, &c.Inspector)
		if errors.Is(err, sql.ErrNoRows) {
			return framework.Errorf(framework.CodeNotFound, "case %q is not in inspection %s on this device", caseRef, inspectionID)
		}
		if err != nil {
			return err
		}
		// The same rule the server applies, so the inspector learns at once.
		if err := framework.CheckAnswerWrite(in.Role, c.Inspector == user, inspectionID, in.Status, c); err != nil {
			return err
		}
		var a map[string]string
		if err := json.Unmarshal([]byte(attrs), &a); err != nil {
			return fmt.Errorf("case %s attributes: %w", caseRef, err)
		}
		v, err := fw.CheckAnswer(caseRef, a, questionID, value)
		if err != nil {
			return err
		}
		// The server's limit, so that nothing queued here is refused there.
		if err := framework.CheckAnswerNote(caseRef, questionID, note); err != nil {
			return err
		}
		var base int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(revision), 0) FROM answers WHERE inspection_id = ? AND case_ref = ? AND question_id = ?`,
			inspectionID, caseRef, questionID).Scan(&base); err != nil {
			return err
		}
		device, err := l.deviceID(ctx, tx)
		if err != nil {
			return err
		}
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(CAST(value AS INTEGER)), 0) + 1 FROM meta WHERE key = 'device_seq'`).Scan(&seq); err != nil {
			return err
		}
		if err := setMeta(ctx, tx, "device_seq", strconv.FormatInt(seq, 10)); err != nil {
			return err
		}
		// The earlier edits of this answer still unsent are superseded by
		// this one once it is applied, should they reach the server after it.
		supersedes, err := pendingEdits(ctx, tx, inspectionID, caseRef, questionID)
		if err != nil {
			return err
		}
		now := l.Now().UTC()
		op = framework.Op{ID: uuid.Must(uuid.NewV7()).String(), InspectionID: inspectionID, CaseRef: caseRef, QuestionID: questionID,
			Value: v.String(), Note: note, BaseRevision: base, DeviceID: device, DeviceSeq: seq, ClientTime: now,
			ConflictID: want.ConflictID, Resolution: want.Resolution, Supersedes: supersedes}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (device_seq, op_id, inspection_id, case_ref, question_id, value, note, base_revision, client_time, conflict_id, resolution, supersedes, device_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, seq, op.ID, inspectionID, caseRef, questionID, op.Value, note, base, now.Format(time.RFC3339Nano),
			op.ConflictID, op.Resolution, strings.Join(supersedes, ","), device); err != nil {
			return err
		}
		if op.ConflictID != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE conflicts SET status = 'resolving' WHERE id = ?`, op.ConflictID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO answers (inspection_id, case_ref, question_id, value, note, revision, updated_by, updated_at, pending)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT DO UPDATE SET value = excluded.value, note = excluded.note,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at, pending = pending + 1`,
			inspectionID, caseRef, questionID, op.Value, note, base, user, now.Format(time.RFC3339Nano))
		return err
	})
	if err != nil {
		return framework.Op{}, fmt.Errorf("record answer: %w", err)
	}
	return op, nil
}

// pendingEdits lists the op_ids of an answer's edits still in the outbox,
// oldest first (the most recent framework.MaxSupersedes of them).
func pendingEdits(ctx context.Context, tx *sql.Tx, inspectionID, caseRef, questionID string) ([]string, error) {
	return queryStrings(tx.QueryContext(ctx, `SELECT op_id FROM (SELECT op_id, device_seq FROM outbox WHERE inspection_id = ? AND case_ref = ? AND question_id = ?
		ORDER BY device_seq DESC LIMIT ?) ORDER BY device_seq`, inspectionID, caseRef, questionID, framework.MaxSupersedes))
}

// queryStrings reads a one-column query's rows.
func queryStrings(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (l *Store) deviceID(ctx context.Context, tx *sql.Tx) (string, error) {
	var id string
	err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'device_id'`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		id = uuid.Must(uuid.NewV7()).String()
		return id, setMeta(ctx, tx, "device_id", id)
	}
	return id, err
}

// Outbox returns up to limit unacknowledged ops in device order.
func (l *Store) Outbox(ctx context.Context, limit int) ([]framework.Op, error) {
	return l.OutboxAfter(ctx, 0, limit)
}

// OutboxAfter returns up to limit unacknowledged ops after device_seq
// after, in device order.
func (l *Store) OutboxAfter(ctx context.Context, after int64, limit int) ([]framework.Op, error) {
	device, err := l.DeviceID(ctx)
	if err != nil {
		return nil, err
	}
	// The reader pool: the push stream reads its next batch while the
	// acknowledgement of an earlier one holds the writer.
	rows, err := l.conn.Reader.QueryContext(ctx, `SELECT device_seq, op_id, inspection_id, case_ref, question_id, value, note, base_revision, client_time,
		conflict_id, resolution, supersedes, device_id FROM outbox WHERE device_seq > ? ORDER BY device_seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.Op
	for rows.Next() {
		op := framework.Op{DeviceID: device}
		var at, supersedes, opDevice string
		if err := rows.Scan(&op.DeviceSeq, &op.ID, &op.InspectionID, &op.CaseRef, &op.QuestionID, &op.Value, &op.Note, &op.BaseRevision, &at, &op.ConflictID, &op.Resolution, &supersedes, &opDevice); err != nil {
			return nil, err
		}
		if opDevice != "" { // "": queued before device ids were kept per op
			op.DeviceID = opDevice
		}
		if supersedes != "" {
			op.Supersedes = strings.Split(supersedes, ",")
		}
		op.ClientTime = sqlite.ParseTime(at)
		out = append(out, op)
	}
	return out, rows.Err()
}

// PendingCount is the number of ops waiting in the outbox.
func (l *Store) PendingCount(ctx context.Context) (int, error) {
	var n int
	err := l.conn.Writer.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&n)
	return n, err
}

// Acknowledge applies the server's acknowledgements of pushed ops in one
// transaction: acknowledged ops leave the outbox; once an answer has no
// local edit pending, it shows the server's current answer (the op's value
// if applied, the kept value after a conflict or a rejection); conflicts
// and rejections are kept for the user.
func (l *Store) Acknowledge(ctx context.Context, ops []framework.Op, acks []framework.Ack) error {
	byID := make(map[string]framework.Op, len(ops))
	for _, op := range ops {
		byID[op.ID] = op
	}
	var ids []any
	whole := len(acks) == len(ops) // every op of the batch acknowledged, in order
	for i, ack := range acks {
		if _, ok := byID[ack.OpID]; ok {
			ids = append(ids, ack.OpID)
		}
		whole = whole && ack.OpID == ops[i].ID
	}
	fast := whole && settleInOneStatement && commonApplied(ops, acks)
	var reusedDevice string
	for i, ack := range acks {
		if ack.DeviceReused && i < len(ops) {
			reusedDevice = ops[i].DeviceID
		}
	}
	return l.write(ctx, func(tx *sql.Tx) error {
		if reusedDevice != "" {
			// The server has seen this device's sequence numbers from another
			// copy of this store (restored from a backup, or copied): from now
			// on this store syncs as a new device, so the two cannot be taken
			// for one another. Queued ops keep the id they were made under.
			if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'device_id' AND value = ?`,
				uuid.Must(uuid.NewV7()).String(), reusedDevice); err != nil {
				return fmt.Errorf("acknowledge: new device id: %w", err)
			}
		}
		if fast {
			if err := settleApplied(ctx, tx, ops, acks); err != nil {
				return err
			}
			if consecutive(ops) {
				// Nothing but the batch lies in its range, and nothing else is
				// left to do with the ops still in the outbox.
				if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE device_seq BETWEEN ? AND ?`, ops[0].DeviceSeq, ops[len(ops)-1].DeviceSeq); err != nil {
					return fmt.Errorf("acknowledge: %w", err)
				}
				return nil
			}
		}
		// The ops still in the outbox leave it; the others were acknowledged
		// before (a re-sent batch) and change nothing.
		inOutbox := make(map[string]bool, len(ids))
		keep := func(rows *sql.Rows, id func(*sql.Rows) (string, error)) error {
			defer rows.Close()
			for rows.Next() {
				opID, err := id(rows)
				if err != nil {
					return err
				}
				inOutbox[opID] = true
			}
			return rows.Err()
		}
		if whole && len(ops) > 0 {
			// A batch is a run of consecutive outbox rows (OutboxAfter), and
			// device_seq only grows: the rows left in its range are its ops.
			bySeq := make(map[int64]string, len(ops))
			lo, hi := ops[0].DeviceSeq, ops[0].DeviceSeq
			for _, op := range ops {
				bySeq[op.DeviceSeq] = op.ID
				lo, hi = min(lo, op.DeviceSeq), max(hi, op.DeviceSeq)
			}
			rows, err := tx.QueryContext(ctx, `DELETE FROM outbox WHERE device_seq BETWEEN ? AND ? RETURNING device_seq`, lo, hi)
			if err != nil {
				return err
			}
			if err := keep(rows, func(rows *sql.Rows) (string, error) {
				var seq int64
				if err := rows.Scan(&seq); err != nil {
					return "", err
				}
				id, ok := bySeq[seq]
				if !ok { // not a batch read by OutboxAfter: undo rather than lose an op
					return "", fmt.Errorf("acknowledge: outbox op %d lies inside the batch but is not in it", seq)
				}
				return id, nil
			}); err != nil {
				return err
			}
		} else {
			for start := 0; start < len(ids); start += 500 {
				chunk := ids[start:min(start+500, len(ids))]
				marks, args := sqlite.InList(chunk)
				rows, err := tx.QueryContext(ctx, `DELETE FROM outbox WHERE op_id IN (`+marks+`) RETURNING op_id`, args...)
				if err != nil {
					return err
				}
				if err := keep(rows, func(rows *sql.Rows) (string, error) {
					var id string
					err := rows.Scan(&id)
					return id, err
				}); err != nil {
					return err
				}
			}
		}
		for _, ack := range acks {
			op, ok := byID[ack.OpID]
			if !ok || !inOutbox[op.ID] {
				continue
			}
			switch ack.Result {
			case framework.OpConflict:
				// No conflict body: the case is no longer this user's to see.
				if ack.Conflict != nil {
					if err := putLocalConflict(ctx, tx, ack.Conflict); err != nil {
						return err
					}
				}
			case framework.OpRejected:
				// Kept whole, note included, until the inspector records it
				// again or dismisses it: the local answer shows the server's.
				if _, err := tx.ExecContext(ctx, `INSERT INTO rejected (op_id, inspection_id, case_ref, question_id, value, note, reason, code, at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (op_id) DO NOTHING`,
					op.ID, op.InspectionID, op.CaseRef, op.QuestionID, op.Value, op.Note, ack.Reason, string(framework.ErrorCode(ack.Err)),
					l.Now().UTC().Format(time.RFC3339Nano)); err != nil {
					return err
				}
			}
			if op.ConflictID != "" && ack.Result != framework.OpApplied {
				// The resolution did not take: the conflict is open again locally.
				if _, err := tx.ExecContext(ctx, `UPDATE conflicts SET status = 'open' WHERE id = ? AND status = 'resolving'`, op.ConflictID); err != nil {
					return err
				}
			}
		}
		if fast {
			return nil
		}
		settled := syncer.Settlements(ops, acks, func(id string) bool { return inOutbox[id] })
		if len(settled) == 0 {
			return nil
		}
		// Each answer as syncer.Settle says (TestAcknowledge_SettlesAsSyncerSays
		// holds the SQL to it): once it has no edit pending it shows the
		// server's answer, or goes if the server holds none. A prepared statement per answer: the
		// one-statement form that read the batch from a JSON array spent more
		// time extracting the JSON fields than updating the rows (BENCHMARKS.md).
		settle, err := tx.PrepareContext(ctx, `UPDATE answers SET pending = max(pending - ?4, 0),
			value = CASE WHEN pending - ?4 <= 0 THEN ?5 ELSE value END,
			note = CASE WHEN pending - ?4 <= 0 THEN ?6 ELSE note END,
			revision = CASE WHEN pending - ?4 <= 0 THEN ?7 ELSE revision END,
			updated_by = CASE WHEN pending - ?4 <= 0 THEN ?8 ELSE updated_by END,
			updated_at = CASE WHEN pending - ?4 <= 0 THEN ?9 ELSE updated_at END
			WHERE inspection_id = ?1 AND case_ref = ?2 AND question_id = ?3`)
		if err != nil {
			return fmt.Errorf("settle answers: %w", err)
		}
		defer settle.Close()
		// Without cancellation: for a cancellable context the driver runs each
		// statement on a goroutine of its own, which costs more than the update.
		// The transaction is short, and an ack not stored is only re-sent.
		ctx := context.WithoutCancel(ctx)
		for _, st := range settled {
			k := [3]string{st.Key.InspectionID, st.Key.CaseRef, st.Key.QuestionID}
			if a := st.Last; a != nil {
				_, err = settle.ExecContext(ctx, k[0], k[1], k[2], st.Acked, a.Value, a.Note, a.Revision, a.UpdatedBy, a.UpdatedAt.UTC().Format(time.RFC3339Nano))
			} else {
				// The server holds no answer (a rejected first write): the local
				// one goes with its last pending edit.
				_, err = tx.ExecContext(ctx, `UPDATE answers SET pending = max(pending - ?4, 0)
					WHERE inspection_id = ?1 AND case_ref = ?2 AND question_id = ?3`, k[0], k[1], k[2], st.Acked)
				if err == nil {
					_, err = tx.ExecContext(ctx, `DELETE FROM answers WHERE inspection_id = ? AND case_ref = ? AND question_id = ? AND pending = 0`, k[0], k[1], k[2])
				}
			}
			if err != nil {
				return fmt.Errorf("settle answers: %w", err)
			}
		}
		return nil
	})
}

// settleInOneStatement enables settleApplied; a test turns it off to compare
// the general path's results with it.
var settleInOneStatement = true

// consecutive reports whether ops have the device sequence numbers first,
// first+1, … in order.
func consecutive(ops []framework.Op) bool {
	for i, op := range ops {
		if op.DeviceSeq != ops[0].DeviceSeq+int64(i) {
			return false
		}
	}
	return len(ops) > 0
}

// commonApplied reports whether a batch was acknowledged in the common way:
// every op applied as sent (the server's answer has the op's value and note),
// all by one writer at one time (one group commit), each answer once. Such
// a batch needs from the server only each op's revision.
func commonApplied(ops []framework.Op, acks []framework.Ack) bool {
	if len(acks) == 0 || len(acks) != len(ops) || acks[0].Answer == nil {
		return false
	}
	who, at := acks[0].Answer.UpdatedBy, acks[0].Answer.UpdatedAt
	seen := make(map[[3]string]bool, len(ops))
	for i, ack := range acks {
		op, a := ops[i], ack.Answer
		if ack.Result != framework.OpApplied || ack.OpID != op.ID || a == nil || a.Value != op.Value || a.Note != op.Note ||
			a.UpdatedBy != who || !a.UpdatedAt.Equal(at) {
			return false
		}
		k := [3]string{op.InspectionID, op.CaseRef, op.QuestionID}
		if seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

// settleApplied settles a commonApplied batch with one statement, before
// its ops leave the outbox: the keys, values and notes come from the
// outbox rows, and only each op's revision is passed, as a JSON object
// keyed by device_seq whose members json_each yields as scalars. (Passing
// every field in a JSON array of rows cost more in extracting the fields
// than the update itself: BENCHMARKS.md.) Ops no longer in the outbox were
// acknowledged before and settle nothing.
func settleApplied(ctx context.Context, tx *sql.Tx, ops []framework.Op, acks []framework.Ack) error {
	revs := make([]byte, 0, 16*len(ops))
	revs = append(revs, '{')
	for i, op := range ops {
		if i > 0 {
			revs = append(revs, ',')
		}
		revs = append(revs, '"')
		revs = strconv.AppendInt(revs, op.DeviceSeq, 10)
		revs = append(revs, '"', ':')
		revs = strconv.AppendInt(revs, acks[i].Answer.Revision, 10)
	}
	revs = append(revs, '}')
	a := acks[0].Answer
	if _, err := tx.ExecContext(ctx, settleAppliedSQL,
		string(revs), a.UpdatedBy, a.UpdatedAt.UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("settle answers: %w", err)
	}
	return nil
}

// settleAppliedSQL: ?1 the revisions by device_seq, ?2 and ?3 the writer
// and time. The materialized CTE keeps the batch outermost (a join written
// inline made SQLite scan every answer), so each op costs three seeks by
// key; TestSettleAppliedPlan holds it to that.
const settleAppliedSQL = `WITH o AS MATERIALIZED (SELECT o.inspection_id, o.case_ref, o.question_id, o.value, o.note, j.value AS rev
		FROM json_each(?1) AS j CROSS JOIN outbox AS o ON o.device_seq = CAST(j.key AS INTEGER))
	UPDATE answers SET pending = max(pending - 1, 0),
		value = CASE WHEN pending <= 1 THEN o.value ELSE answers.value END,
		note = CASE WHEN pending <= 1 THEN o.note ELSE answers.note END,
		revision = CASE WHEN pending <= 1 THEN o.rev ELSE answers.revision END,
		updated_by = CASE WHEN pending <= 1 THEN ?2 ELSE answers.updated_by END,
		updated_at = CASE WHEN pending <= 1 THEN ?3 ELSE answers.updated_at END
	FROM o WHERE answers.inspection_id = o.inspection_id AND answers.case_ref = o.case_ref AND answers.question_id = o.question_id`

// ApplyChanges stores a pulled page and its cursor in one transaction, so
// an interrupted pull resumes after the last page stored. Answers with
// local edits still pending keep the local value.
func (l *Store) ApplyChanges(ctx context.Context, changes []framework.Change, cursor int64) error {
	return l.write(ctx, func(tx *sql.Tx) error {
		for _, ch := range changes {
			var err error
			switch {
			case ch.Inspection != nil:
				in := ch.Inspection
				_, err = tx.ExecContext(ctx, `INSERT INTO inspections (id, name, unit, framework_id, framework_version, status, role) VALUES (?, ?, ?, ?, ?, ?, ?)
					ON CONFLICT DO UPDATE SET name = excluded.name, unit = excluded.unit, status = excluded.status, role = excluded.role`,
					in.ID, in.Name, in.Unit, in.FrameworkID, in.FrameworkVersion, in.Status, in.Role)
			case ch.Case != nil:
				c := ch.Case
				attrs, _ := json.Marshal(c.Attributes)
				_, err = tx.ExecContext(ctx, `INSERT INTO cases (inspection_id, case_ref, attributes, inspector, status) VALUES (?, ?, ?, ?, ?)
					ON CONFLICT DO UPDATE SET attributes = excluded.attributes, inspector = excluded.inspector, status = excluded.status`,
					ch.InspectionID, c.Ref, string(attrs), c.Inspector, c.Status)
			case ch.Answer != nil:
				a := ch.Answer
				_, err = tx.ExecContext(ctx, `INSERT INTO answers (inspection_id, case_ref, question_id, value, note, revision, updated_by, updated_at, pending)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT DO UPDATE SET
					value = CASE WHEN pending > 0 THEN value ELSE excluded.value END,
					note = CASE WHEN pending > 0 THEN note ELSE excluded.note END,
					updated_by = CASE WHEN pending > 0 THEN updated_by ELSE excluded.updated_by END,
					updated_at = CASE WHEN pending > 0 THEN updated_at ELSE excluded.updated_at END,
					revision = CASE WHEN pending > 0 THEN revision ELSE excluded.revision END`,
					ch.InspectionID, a.CaseRef, a.QuestionID, a.Value, a.Note, a.Revision, a.UpdatedBy, a.UpdatedAt.UTC().Format(time.RFC3339Nano))
			case ch.Judgement != nil:
				j := ch.Judgement
				_, err = tx.ExecContext(ctx, `INSERT INTO judgements (inspection_id, standard_id, rating, rationale, judged_by, judged_at) VALUES (?, ?, ?, ?, ?, ?)
					ON CONFLICT DO UPDATE SET rating = excluded.rating, rationale = excluded.rationale, judged_by = excluded.judged_by, judged_at = excluded.judged_at`,
					ch.InspectionID, j.StandardID, j.Rating, j.Rationale, j.JudgedBy, j.JudgedAt.UTC().Format(time.RFC3339Nano))
			case ch.Conflict != nil:
				err = putLocalConflict(ctx, tx, ch.Conflict)
			case ch.WithdrawnCase != "":
				err = withdrawLocalCase(ctx, tx, ch.InspectionID, ch.WithdrawnCase)
			case ch.WithdrawnInspection:
				err = withdrawLocalInspection(ctx, tx, ch.InspectionID)
			}
			if err != nil {
				return fmt.Errorf("apply change %d (%s): %w", ch.Seq, changeKind(ch), err)
			}
		}
		if err := setMeta(ctx, tx, "cursor", strconv.FormatInt(cursor, 10)); err != nil {
			return err
		}
		return setMeta(ctx, tx, "last_pull", l.Now().UTC().Format(time.RFC3339))
	})
}

// changeKind names what a change is about, for errors (ids only: no
// values or notes).
func changeKind(ch framework.Change) string {
	switch {
	case ch.Inspection != nil:
		return "inspection " + ch.InspectionID
	case ch.Case != nil:
		return "case " + ch.Case.Ref + " of inspection " + ch.InspectionID
	case ch.Answer != nil:
		return "answer " + ch.Answer.CaseRef + " " + ch.Answer.QuestionID + " of inspection " + ch.InspectionID
	case ch.Judgement != nil:
		return "judgement " + ch.Judgement.StandardID
	case ch.Conflict != nil:
		return "conflict " + ch.Conflict.ID
	case ch.WithdrawnCase != "":
		return "withdrawal of case " + ch.WithdrawnCase
	case ch.WithdrawnInspection:
		return "withdrawal of inspection " + ch.InspectionID
	}
	return "nothing"
}

// putLocalConflict stores (or refreshes) a conflict the server reported.
// withdrawLocalCase drops a case reassigned to someone else, with its
// answers and conflicts: the device keeps no personal data it may no longer
// see. Edits still in the outbox stay there; pushed, the server refuses
// them and they are listed as rejected with their values, not lost.
func withdrawLocalCase(ctx context.Context, tx *sql.Tx, inspectionID, ref string) error {
	for _, q := range []string{
		`DELETE FROM answers WHERE inspection_id = ? AND case_ref = ?`,
		`DELETE FROM conflicts WHERE inspection_id = ? AND case_ref = ?`,
		`DELETE FROM cases WHERE inspection_id = ? AND case_ref = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, inspectionID, ref); err != nil {
			return fmt.Errorf("withdraw case %s: %w", ref, err)
		}
	}
	return nil
}

// withdrawLocalInspection drops an inspection whose team the user has left,
// with everything of it (cases, answers, conflicts, judgements). As with a
// withdrawn case, unsynced edits stay in the outbox to be refused and listed.
func withdrawLocalInspection(ctx context.Context, tx *sql.Tx, inspectionID string) error {
	for _, table := range []string{"answers", "conflicts", "cases", "judgements"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE inspection_id = ?`, inspectionID); err != nil {
			return fmt.Errorf("withdraw inspection %s: %w", inspectionID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM inspections WHERE id = ?`, inspectionID); err != nil {
		return fmt.Errorf("withdraw inspection %s: %w", inspectionID, err)
	}
	return nil
}

func putLocalConflict(ctx context.Context, tx *sql.Tx, c *framework.Conflict) error {
	body, _ := json.Marshal(c)
	_, err := tx.ExecContext(ctx, `INSERT INTO conflicts (id, inspection_id, case_ref, question_id, status, body) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT DO UPDATE SET status = excluded.status, body = excluded.body`, c.ID, c.InspectionID, c.CaseRef, c.QuestionID, c.Status, string(body))
	return err
}

// Conflicts lists the conflicts known locally (open only unless all).
func (l *Store) Conflicts(ctx context.Context, inspectionID string, all bool) ([]framework.Conflict, error) {
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT body FROM conflicts WHERE (? = '' OR inspection_id = ?) AND (? OR status = 'open') ORDER BY case_ref, question_id, id`,
		inspectionID, inspectionID, all)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.Conflict
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var c framework.Conflict
		if err := json.Unmarshal([]byte(body), &c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Rejection is an edit the server refused, kept for its author.
type Rejection struct {
	OpID         string    `json:"op_id"`
	InspectionID string    `json:"inspection_id"`
	CaseRef      string    `json:"case_ref"`
	QuestionID   string    `json:"question_id"`
	Value        string    `json:"value"`
	Note         string    `json:"note"`
	Reason       string    `json:"reason"`
	Code         string    `json:"code"` // framework.Code: who or what refused it (permission, precondition, invalid …)
	At           time.Time `json:"refused_at"`
	// Status is open until the inspector acts: rerecorded (as the op
	// RerecordedAs) or dismissed.
	Status       string `json:"status"`
	RerecordedAs string `json:"rerecorded_as,omitempty"`
}

// Refusal states.
const (
	RefusalOpen       = "open"
	RefusalRerecorded = "rerecorded"
	RefusalDismissed  = "dismissed"
)

// Rejections lists the refused edits still waiting for their author.
func (l *Store) Rejections(ctx context.Context) ([]Rejection, error) {
	return l.rejections(ctx, `WHERE status = 'open'`)
}

// AllRejections lists every refused edit this device has kept, settled ones
// too.
func (l *Store) AllRejections(ctx context.Context) ([]Rejection, error) {
	return l.rejections(ctx, ``)
}

func (l *Store) rejections(ctx context.Context, where string, args ...any) ([]Rejection, error) {
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT op_id, inspection_id, case_ref, question_id, value, note, reason, code, at, status, rerecorded_as
		FROM rejected `+where+` ORDER BY at, op_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Rejection
	for rows.Next() {
		var r Rejection
		var at string
		if err := rows.Scan(&r.OpID, &r.InspectionID, &r.CaseRef, &r.QuestionID, &r.Value, &r.Note, &r.Reason, &r.Code, &at, &r.Status, &r.RerecordedAs); err != nil {
			return nil, err
		}
		r.At = sqlite.ParseTime(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// RefusalSelector picks open refused edits: by op_id (or a unique prefix of
// at least 8 characters), or by case and question (every open refusal of
// that answer).
type RefusalSelector struct {
	OpID, InspectionID, CaseRef, QuestionID string
}

func (l *Store) selectRefusals(ctx context.Context, sel RefusalSelector) ([]Rejection, error) {
	var rs []Rejection
	var err error
	switch {
	case sel.OpID != "":
		if len(sel.OpID) < 8 {
			return nil, framework.Errorf(framework.CodeInvalid, "give at least 8 characters of the op id (%q)", sel.OpID)
		}
		rs, err = l.rejections(ctx, `WHERE status = 'open' AND substr(op_id, 1, ?) = ?`, len(sel.OpID), sel.OpID)
		if err == nil && len(rs) > 1 {
			return nil, framework.Errorf(framework.CodeInvalid, "%d refused edits have ids starting %q: give more of the id", len(rs), sel.OpID)
		}
	case sel.CaseRef != "" && sel.QuestionID != "":
		rs, err = l.rejections(ctx, `WHERE status = 'open' AND (? = '' OR inspection_id = ?) AND case_ref = ? AND question_id = ?`,
			sel.InspectionID, sel.InspectionID, sel.CaseRef, sel.QuestionID)
	default:
		return nil, framework.Errorf(framework.CodeInvalid, "name the refused edit by --op ID, or by --case and --question")
	}
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, framework.Errorf(framework.CodeNotFound, "no open refused edit matches (see fieldwork status)")
	}
	return rs, nil
}

// RecordAgain records the latest selected refused edit again, as a new
// edit with the same value and note on top of the answer as it now stands,
// and marks every selected refusal settled by it. It is validated like any
// edit, so a refusal whose cause remains is refused here, at once.
func (l *Store) RecordAgain(ctx context.Context, user string, sel RefusalSelector) (framework.Op, error) {
	rs, err := l.selectRefusals(ctx, sel)
	if err != nil {
		return framework.Op{}, err
	}
	r := rs[len(rs)-1]
	op, err := l.record(ctx, user, framework.Op{InspectionID: r.InspectionID, CaseRef: r.CaseRef, QuestionID: r.QuestionID, Value: r.Value, Note: r.Note})
	if err != nil {
		return framework.Op{}, err
	}
	err = l.write(ctx, func(tx *sql.Tx) error {
		for _, r := range rs {
			if _, err := tx.ExecContext(ctx, `UPDATE rejected SET status = ?, rerecorded_as = ?, settled_at = ? WHERE op_id = ?`,
				RefusalRerecorded, op.ID, l.Now().UTC().Format(time.RFC3339Nano), r.OpID); err != nil {
				return err
			}
		}
		return nil
	})
	return op, err
}

// Dismiss marks the selected refused edits dismissed by their author. The
// row stays; the dismissal is sent to the server's audit trail at the next
// sync (PendingDismissals).
func (l *Store) Dismiss(ctx context.Context, sel RefusalSelector) ([]Rejection, error) {
	rs, err := l.selectRefusals(ctx, sel)
	if err != nil {
		return nil, err
	}
	err = l.write(ctx, func(tx *sql.Tx) error {
		for _, r := range rs {
			if _, err := tx.ExecContext(ctx, `UPDATE rejected SET status = ?, settled_at = ? WHERE op_id = ?`,
				RefusalDismissed, l.Now().UTC().Format(time.RFC3339Nano), r.OpID); err != nil {
				return err
			}
		}
		return nil
	})
	return rs, err
}

// PendingDismissals lists the op ids of dismissals not yet sent to the
// server.
func (l *Store) PendingDismissals(ctx context.Context) ([]string, error) {
	return queryStrings(l.conn.Writer.QueryContext(ctx, `SELECT op_id FROM rejected WHERE status = ? AND dismissal_sent = 0 ORDER BY op_id`, RefusalDismissed))
}

// DismissalsSent records that the server has audited these dismissals.
func (l *Store) DismissalsSent(ctx context.Context, ids []string) error {
	return l.write(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE rejected SET dismissal_sent = 1 WHERE op_id = ?`, id); err != nil {
				return err
			}
		}
		return nil
	})
}
