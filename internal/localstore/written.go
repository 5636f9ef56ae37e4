package localstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
	"github.com/fieldworkhq/fieldwork/internal/syncer"
)

// Written judgements on the laptop: recorded offline with an outbox op
// like an answer (framework.CheckWrittenWrite and Framework.CheckWritten,
// the server's checks), settled from their acks by syncer.Settle, and
// refreshed from pulled changes.

// RecordWritten checks a written item and, in one transaction, stores it
// locally and appends its op to the outbox. A new strength, improvement or
// recommendation gets its item id here when w.ItemID is empty.
func (l *Store) RecordWritten(ctx context.Context, user, inspectionID string, w framework.WrittenOp) (framework.Op, error) {
	return l.recordWritten(ctx, user, framework.Op{InspectionID: inspectionID, Written: &w})
}

func (l *Store) recordWritten(ctx context.Context, user string, want framework.Op) (framework.Op, error) {
	w := *want.Written
	if w.Kind == framework.WrittenSummary {
		w.ItemID = framework.SummaryItemID
	} else if w.ItemID == "" {
		w.ItemID = uuid.Must(uuid.NewV7()).String()
	}
	in, err := l.Inspection(ctx, want.InspectionID)
	if err != nil {
		return framework.Op{}, err
	}
	fw, err := l.Framework(ctx, in.FrameworkID, in.FrameworkVersion)
	if err != nil {
		return framework.Op{}, err
	}
	if err := framework.CheckWrittenWrite(in.Role, in.ID, in.Status); err != nil {
		return framework.Op{}, err
	}
	var op framework.Op
	err = l.write(ctx, func(tx *sql.Tx) error {
		cur, err := localWritten(ctx, tx, in.ID, w.ItemID)
		if err != nil {
			return err
		}
		var existing *framework.WrittenItem
		if cur != nil {
			existing = &cur.WrittenItem
		}
		if err := fw.CheckWritten(w, existing); err != nil {
			return err
		}
		var base int64
		if cur != nil {
			base = cur.Revision
		}
		device, err := l.deviceID(ctx, tx)
		if err != nil {
			return err
		}
		seq, err := nextDeviceSeq(ctx, tx)
		if err != nil {
			return err
		}
		supersedes, err := pendingEdits(ctx, tx, in.ID, "", w.ItemID)
		if err != nil {
			return err
		}
		now := l.Now().UTC()
		op = framework.Op{ID: uuid.Must(uuid.NewV7()).String(), InspectionID: in.ID, BaseRevision: base, DeviceID: device, DeviceSeq: seq,
			ClientTime: now, ConflictID: want.ConflictID, Resolution: want.Resolution, Supersedes: supersedes, Written: &w}
		body, _ := json.Marshal(w)
		at := now.Format(time.RFC3339Nano)
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (device_seq, op_id, inspection_id, case_ref, question_id, value, note, base_revision, client_time,
			conflict_id, resolution, supersedes, device_id, written) VALUES (?, ?, ?, '', ?, '', '', ?, ?, ?, ?, ?, ?, ?)`,
			seq, op.ID, in.ID, w.ItemID, base, at, op.ConflictID, op.Resolution, strings.Join(supersedes, ","), device, string(body)); err != nil {
			return err
		}
		if op.ConflictID != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE written_conflicts SET status = 'resolving' WHERE id = ?`, op.ConflictID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO written_items (inspection_id, item_id, kind, standard_id, text, withdrawn, revision, ord, created_by, created_at,
			updated_by, updated_at, pending) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, 1)
			ON CONFLICT DO UPDATE SET text = excluded.text, withdrawn = excluded.withdrawn, updated_by = excluded.updated_by,
			updated_at = excluded.updated_at, pending = pending + 1`,
			in.ID, w.ItemID, w.Kind, w.StandardID, w.Text, w.Withdrawn, base, user, at, user, at)
		return err
	})
	if err != nil {
		return framework.Op{}, fmt.Errorf("record %s: %w", w.Kind, err)
	}
	return op, nil
}

// nextDeviceSeq takes the device's next op number (answers and written
// items share one sequence: the server detects a copied store by it).
func nextDeviceSeq(ctx context.Context, tx *sql.Tx) (int64, error) {
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(CAST(value AS INTEGER)), 0) + 1 FROM meta WHERE key = 'device_seq'`).Scan(&seq); err != nil {
		return 0, err
	}
	return seq, setMeta(ctx, tx, "device_seq", strconv.FormatInt(seq, 10))
}

// LocalWritten is a written item as this laptop holds it.
type LocalWritten struct {
	framework.WrittenItem
	// Pending counts the local edits not yet acknowledged by the server.
	Pending int
}

const localWrittenCols = `item_id, inspection_id, kind, standard_id, text, withdrawn, revision, ord, created_by, created_at, updated_by, updated_at, pending`

func scanLocalWritten(row interface{ Scan(...any) error }) (LocalWritten, error) {
	var it LocalWritten
	var created, updated string
	err := row.Scan(&it.ID, &it.InspectionID, &it.Kind, &it.StandardID, &it.Text, &it.Withdrawn, &it.Revision, &it.Order,
		&it.CreatedBy, &created, &it.UpdatedBy, &updated, &it.Pending)
	it.CreatedAt, it.UpdatedAt = sqlite.ParseTime(created), sqlite.ParseTime(updated)
	return it, err
}

func localWritten(ctx context.Context, tx *sql.Tx, inspectionID, itemID string) (*LocalWritten, error) {
	it, err := scanLocalWritten(tx.QueryRowContext(ctx, `SELECT `+localWrittenCols+` FROM written_items WHERE inspection_id = ? AND item_id = ?`, inspectionID, itemID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &it, err
}

// Written lists an inspection's written items on this laptop, withdrawn
// ones included.
func (l *Store) Written(ctx context.Context, inspectionID string) ([]LocalWritten, error) {
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT `+localWrittenCols+` FROM written_items WHERE inspection_id = ? ORDER BY ord, created_at`, inspectionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LocalWritten
	for rows.Next() {
		it, err := scanLocalWritten(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// ResolveWritten queues the resolution of an open written conflict: mine
// records this laptop's refused text on top of the server's, theirs keeps
// the server's. Like RecordWritten it works offline.
func (l *Store) ResolveWritten(ctx context.Context, user, conflictID string, choice framework.Resolution) (framework.Op, error) {
	var body, status string
	err := l.conn.Writer.QueryRowContext(ctx, `SELECT body, status FROM written_conflicts WHERE id = ?`, conflictID).Scan(&body, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return framework.Op{}, framework.Errorf(framework.CodeNotFound, "written conflict %q is not on this device", conflictID)
	}
	if err != nil {
		return framework.Op{}, err
	}
	if status != "open" {
		return framework.Op{}, framework.Errorf(framework.CodePrecondition, "written conflict %s is %s", conflictID, status)
	}
	var c framework.WrittenConflict
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		return framework.Op{}, err
	}
	w := framework.WrittenOp{ItemID: c.ItemID, Kind: c.Kind, StandardID: c.StandardID}
	switch choice {
	case framework.ResolveMine:
		w.Text, w.Withdrawn = c.ClientText, c.ClientWithdrawn
	case framework.ResolveTheirs:
		w.Text, w.Withdrawn = c.ServerText, c.ServerWithdrawn
	default:
		return framework.Op{}, framework.Errorf(framework.CodeInvalid, "resolution %q is not mine or theirs", choice)
	}
	return l.recordWritten(ctx, user, framework.Op{InspectionID: c.InspectionID, ConflictID: c.ID, Resolution: choice, Written: &w})
}

// WrittenConflicts lists the open written conflicts of an inspection.
func (l *Store) WrittenConflicts(ctx context.Context, inspectionID string) ([]framework.WrittenConflict, error) {
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT body FROM written_conflicts WHERE inspection_id = ? AND status = 'open' ORDER BY id`, inspectionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []framework.WrittenConflict
	for rows.Next() {
		var body string
		var c framework.WrittenConflict
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(body), &c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// WrittenOpenCounts counts, over every inspection on this device, the
// open written conflicts and the refused written edits not dismissed:
// what `fieldwork status` says is waiting for the lead.
func (l *Store) WrittenOpenCounts(ctx context.Context) (conflicts, refused int, err error) {
	err = l.conn.Writer.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM written_conflicts WHERE status = 'open'),
		(SELECT count(*) FROM written_refused WHERE status = 'open')`).Scan(&conflicts, &refused)
	return conflicts, refused, err
}

// WrittenRefusal is a written edit the server refused, kept whole.
type WrittenRefusal struct {
	OpID, InspectionID string
	Op                 framework.WrittenOp
	Reason, Code       string
	At                 time.Time
}

// WrittenRefused lists the open refused written edits of an inspection.
func (l *Store) WrittenRefused(ctx context.Context, inspectionID string) ([]WrittenRefusal, error) {
	rows, err := l.conn.Writer.QueryContext(ctx, `SELECT op_id, inspection_id, body, reason, code, at FROM written_refused
		WHERE inspection_id = ? AND status = 'open' ORDER BY at, op_id`, inspectionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []WrittenRefusal
	for rows.Next() {
		var r WrittenRefusal
		var body, at string
		if err := rows.Scan(&r.OpID, &r.InspectionID, &body, &r.Reason, &r.Code, &at); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(body), &r.Op); err != nil {
			return nil, err
		}
		r.At = sqlite.ParseTime(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// DismissWrittenRefusal marks a refused written edit (by op id or a prefix
// of 8 or more characters) dismissed: kept, no longer listed.
func (l *Store) DismissWrittenRefusal(ctx context.Context, inspectionID, opID string) error {
	if len(opID) < 8 {
		return framework.Errorf(framework.CodeInvalid, "give at least 8 characters of the op id")
	}
	res, err := l.conn.Writer.ExecContext(ctx, `UPDATE written_refused SET status = 'dismissed'
		WHERE inspection_id = ? AND status = 'open' AND (op_id = ? OR substr(op_id, length(op_id) - ? + 1) = ? OR substr(op_id, 1, ?) = ?)`,
		inspectionID, opID, len(opID), opID, len(opID), opID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return framework.Errorf(framework.CodeNotFound, "no open refused written edit %s", opID)
	}
	return nil
}

// settleWritten settles the written ops of an acknowledged batch that were
// still queued: each item as syncer.Settle says (the latest local text
// while an edit is pending, else the server's), conflicts and refusals
// kept whole beside it.
func (l *Store) settleWritten(ctx context.Context, tx *sql.Tx, ops []framework.Op, acks []framework.Ack, queued map[string]bool) error {
	byID := make(map[string]framework.Op, len(ops))
	for _, op := range ops {
		if op.Written != nil {
			byID[op.ID] = op
		}
	}
	type key struct{ insp, item string }
	type settled struct {
		acked int
		last  *framework.WrittenItem
	}
	var order []key
	got := map[key]*settled{}
	for _, ack := range acks {
		op, ok := byID[ack.OpID]
		if !ok || !queued[op.ID] {
			continue
		}
		k := key{op.InspectionID, op.Written.ItemID}
		if got[k] == nil {
			got[k] = &settled{}
			order = append(order, k)
		}
		got[k].acked++
		got[k].last = ack.Written
		now := l.Now().UTC().Format(time.RFC3339Nano)
		switch ack.Result {
		case framework.OpConflict:
			if c := ack.WrittenConflict; c != nil {
				body, _ := json.Marshal(c)
				if _, err := tx.ExecContext(ctx, `INSERT INTO written_conflicts (id, inspection_id, item_id, status, body) VALUES (?, ?, ?, ?, ?)
					ON CONFLICT DO UPDATE SET status = excluded.status, body = excluded.body`, c.ID, c.InspectionID, c.ItemID, c.Status, string(body)); err != nil {
					return err
				}
			}
		case framework.OpRejected:
			body, _ := json.Marshal(op.Written)
			if _, err := tx.ExecContext(ctx, `INSERT INTO written_refused (op_id, inspection_id, item_id, body, reason, code, at) VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (op_id) DO NOTHING`, op.ID, op.InspectionID, op.Written.ItemID, string(body), ack.Reason, string(framework.ErrorCode(ack.Err)), now); err != nil {
				return err
			}
		}
		if op.ConflictID != "" {
			st := "resolved"
			if ack.Result != framework.OpApplied {
				st = "open"
			}
			if _, err := tx.ExecContext(ctx, `UPDATE written_conflicts SET status = ? WHERE id = ? AND status = 'resolving'`, st, op.ConflictID); err != nil {
				return err
			}
		}
	}
	for _, k := range order {
		s := got[k]
		cur, err := localWritten(ctx, tx, k.insp, k.item)
		if err != nil {
			return err
		}
		if cur == nil {
			continue // dropped meanwhile (dropWritten, a withdrawn inspection): the others still settle
		}
		st := syncer.Settlement{Acked: s.acked}
		if it := s.last; it != nil {
			st.Last = &framework.Answer{Value: it.Text, Note: withdrawnNote(it.Withdrawn), Revision: it.Revision, UpdatedBy: it.UpdatedBy, UpdatedAt: it.UpdatedAt}
		}
		after, keep := syncer.Settle(syncer.LocalAnswer{Value: cur.Text, Note: withdrawnNote(cur.Withdrawn), Revision: cur.Revision,
			UpdatedBy: cur.UpdatedBy, UpdatedAt: cur.UpdatedAt, Pending: cur.Pending}, st)
		if !keep {
			if _, err := tx.ExecContext(ctx, `DELETE FROM written_items WHERE inspection_id = ? AND item_id = ?`, k.insp, k.item); err != nil {
				return err
			}
			continue
		}
		ord, createdBy, createdAt := cur.Order, cur.CreatedBy, cur.CreatedAt
		if it := s.last; it != nil && after.Pending == 0 {
			ord, createdBy, createdAt = it.Order, it.CreatedBy, it.CreatedAt
		}
		if _, err := tx.ExecContext(ctx, `UPDATE written_items SET text = ?, withdrawn = ?, revision = ?, updated_by = ?, updated_at = ?, pending = ?,
			ord = ?, created_by = ?, created_at = ? WHERE inspection_id = ? AND item_id = ?`,
			after.Value, after.Note != "", after.Revision, after.UpdatedBy, after.UpdatedAt.UTC().Format(time.RFC3339Nano), after.Pending,
			ord, createdBy, createdAt.UTC().Format(time.RFC3339Nano), k.insp, k.item); err != nil {
			return err
		}
	}
	return nil
}

// withdrawnNote is how a withdrawal rides through syncer.Settle, which
// settles an item's text and state as it settles an answer's value and note.
func withdrawnNote(withdrawn bool) string {
	if withdrawn {
		return "withdrawn"
	}
	return ""
}

// putPulledWritten stores a pulled item, unless a local edit of it is
// still pending (that edit reaches the server and is decided there).
// putPulledWrittenConflict keeps a written conflict pulled from the server
// (made by another laptop's edit, or resolved elsewhere): a resolution
// queued here stays queued until the server settles it, and a resolution
// made elsewhere closes it here too.
func putPulledWrittenConflict(ctx context.Context, tx *sql.Tx, c *framework.WrittenConflict) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO written_conflicts (id, inspection_id, item_id, status, body) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO UPDATE SET body = excluded.body, status = CASE WHEN excluded.status = 'resolved' THEN 'resolved'
			WHEN written_conflicts.status = 'resolving' THEN 'resolving' ELSE excluded.status END`,
		c.ID, c.InspectionID, c.ItemID, c.Status, string(body))
	return err
}

func putPulledWritten(ctx context.Context, tx *sql.Tx, it *framework.WrittenItem) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO written_items (inspection_id, item_id, kind, standard_id, text, withdrawn, revision, ord, created_by, created_at,
		updated_by, updated_at, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT DO UPDATE SET
		ord = excluded.ord, created_by = excluded.created_by, created_at = excluded.created_at,
		text = CASE WHEN pending > 0 THEN text ELSE excluded.text END,
		withdrawn = CASE WHEN pending > 0 THEN withdrawn ELSE excluded.withdrawn END,
		revision = CASE WHEN pending > 0 THEN revision ELSE excluded.revision END,
		updated_by = CASE WHEN pending > 0 THEN updated_by ELSE excluded.updated_by END,
		updated_at = CASE WHEN pending > 0 THEN updated_at ELSE excluded.updated_at END`,
		it.InspectionID, it.ID, it.Kind, it.StandardID, it.Text, it.Withdrawn, it.Revision, it.Order, it.CreatedBy,
		it.CreatedAt.UTC().Format(time.RFC3339Nano), it.UpdatedBy, it.UpdatedAt.UTC().Format(time.RFC3339Nano))
	return err
}

// dropWritten drops an inspection's written items and conflicts from this
// device once the user's role there is no longer one that may write them
// (framework.CanLead): the pull delivers them only to those, and a lead
// demoted to inspector may not read them in the report either. As when an
// inspection is withdrawn, edits still in the outbox stay there, to be
// refused and kept whole (written_refused).
func dropWritten(ctx context.Context, tx *sql.Tx, inspectionID string) error {
	for _, table := range []string{"written_items", "written_conflicts"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE inspection_id = ?`, inspectionID); err != nil {
			return fmt.Errorf("drop written judgements of %s: %w", inspectionID, err)
		}
	}
	return nil
}
