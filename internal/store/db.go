// Package store is the server's database: frameworks, users and tokens,
// inspections and teams, cases, answers and their history, conflicts, the
// pull log, kept counts and the audit trail, in one SQLite file on
// internal/sqlite. The sync decision is syncer's and the rules are
// framework's; this package gathers the facts they need, calls them, and
// stores the outcome with the measured statement shapes.
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the server's database.
type DB struct {
	conn *sqlite.Conn
	// Now returns the current time; tests may fix it.
	Now func() time.Time

	mu  sync.Mutex
	fws map[string]*framework.Framework // parsed frameworks by id@version

	applyCh       chan *applyRequest
	closed        chan struct{}
	committerDone chan struct{}
	closeOnce     sync.Once

	logger       atomic.Pointer[slog.Logger]
	replacedOnce sync.Once
}

// Open opens (creating and migrating) the server database at path.
func Open(ctx context.Context, path string) (*DB, error) {
	c, err := sqlite.Open(ctx, path, migrations, "migrations")
	if err != nil {
		return nil, err
	}
	db := &DB{conn: c, Now: time.Now, fws: map[string]*framework.Framework{},
		applyCh: make(chan *applyRequest), closed: make(chan struct{}), committerDone: make(chan struct{})}
	go db.committer()
	if err := db.runPendingTasks(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// runPendingTasks does what a migration asked of Go, once: 0008 asks for
// the kept counts to be recounted, as they now leave out answers that no
// longer apply to their case, a rule SQL cannot judge.
func (db *DB) runPendingTasks(ctx context.Context) error {
	var n int
	if err := db.conn.Reader.QueryRowContext(ctx, `SELECT count(*) FROM pending_tasks`).Scan(&n); err != nil || n == 0 {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM pending_tasks WHERE name = 'recount'`)
		if err != nil {
			return fmt.Errorf("pending recount: %w", err)
		}
		if done, _ := res.RowsAffected(); done == 0 {
			return nil
		}
		if _, err := db.recount(ctx, tx, true); err != nil {
			return fmt.Errorf("pending recount: %w", err)
		}
		return nil
	})
}

// Close stops the committer and closes the database.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { close(db.closed) })
	<-db.committerDone
	return db.conn.Close()
}

func (db *DB) now() string { return db.Now().UTC().Format(time.RFC3339Nano) }

// SetLogger sets where the store logs the few events an operator must
// act on (slog.Default until set).
func (db *DB) SetLogger(l *slog.Logger) { db.logger.Store(l) }

func (db *DB) log() *slog.Logger {
	if l := db.logger.Load(); l != nil {
		return l
	}
	return slog.Default()
}

// write runs fn in one write transaction. Every server write goes through
// here, so every commit is refused once the database file is no longer the
// one opened (sqlite.Conn.Write): the operator is told once, and each
// caller is told to restart.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	err := db.conn.Write(ctx, fn)
	if errors.Is(err, sqlite.ErrFileReplaced) {
		db.replacedOnce.Do(func() {
			db.log().Error("the database file was replaced or deleted while fieldworkd ran: refusing every write until restart", "path", db.conn.Path())
		})
		return framework.Errorf(framework.CodePrecondition, "the database file at %s was replaced or deleted; restart fieldworkd", db.conn.Path())
	}
	return err
}

// read runs fn in one read transaction, so everything it reads is from one
// snapshot.
func (db *DB) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.conn.Read(ctx, fn)
}

func audit(ctx context.Context, tx *sql.Tx, at string, a framework.Actor, action, entity string, before, after any) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit (at, user_name, device_id, action, entity, before, after, inspection_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		auditRow(at, a, action, entity, before, after)...)
	return err
}

// auditRow is an audit row's values, before and after encoded as JSON.
func auditRow(at string, a framework.Actor, action, entity string, before, after any) []any {
	enc := func(v any) any {
		if v == nil {
			return nil
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	return []any{at, a.User, a.Device, action, entity, enc(before), enc(after), auditInspection(entity)}
}

// auditInspection is the inspection an audit entity belongs to: entities
// are named case/<inspection>/<ref>[/…] or inspection/<inspection>[/…].
func auditInspection(entity string) any {
	parts := strings.SplitN(entity, "/", 3)
	if len(parts) >= 2 && (parts[0] == "case" || parts[0] == "inspection") {
		return parts[1]
	}
	return nil
}

// AuditEntry is one row of the audit trail.
type AuditEntry struct {
	Seq                                         int64
	At                                          time.Time
	User, Device, Action, Entity, Before, After string
}

// Audit lists an inspection's audit entries after seq (one case's when
// caseRef is set), oldest first. With inspectionID empty it lists the
// entries of no inspection: users, tokens and framework loads.
func (db *DB) Audit(ctx context.Context, inspectionID, caseRef string, after int64, limit int) ([]AuditEntry, error) {
	prefix := "case/" + inspectionID + "/" + caseRef
	of := `inspection_id = ?` // two forms, so that both use the index by inspection
	if inspectionID == "" {
		of = `inspection_id IS NULL AND ? = ''`
	}
	rows, err := db.conn.Reader.QueryContext(ctx, `SELECT seq, at, user_name, device_id, action, entity, coalesce(before, ''), coalesce(after, '')
		FROM audit_trail WHERE `+of+` AND seq > ? AND (? = '' OR entity = ? OR substr(entity, 1, ?) = ?)
		ORDER BY seq LIMIT ?`, inspectionID, after, caseRef, prefix, len(prefix)+1, prefix+"/", limit)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.User, &e.Device, &e.Action, &e.Entity, &e.Before, &e.After); err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		e.At = sqlite.ParseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RevokeToken revokes one token of a user (tokenID: a prefix of its hash
// of at least 12 characters) or, with tokenID empty, all of them.
func (db *DB) RevokeToken(ctx context.Context, a framework.Actor, user, tokenID string) (int, error) {
	if tokenID != "" && len(tokenID) < 12 {
		return 0, framework.Errorf(framework.CodeInvalid, "token_id must be at least 12 characters")
	}
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		at := db.now()
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL AND (? = '' OR substr(hash, 1, ?) = ?)`,
			at, user, tokenID, len(tokenID), tokenID)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		if n == 0 {
			return framework.Errorf(framework.CodeNotFound, "no live token of %q matches", user)
		}
		return audit(ctx, tx, at, a, "token.revoke", "user/"+user, nil, map[string]any{"token_id": tokenID, "revoked": n})
	})
	if err != nil {
		return 0, fmt.Errorf("revoke token: %w", err)
	}
	return int(n), nil
}

// TokenID is the public name of a token: the first 12 hex digits of its hash.
func TokenID(token string) string { return hashToken(token)[:12] }

func addChange(ctx context.Context, tx *sql.Tx, inspectionID, kind string, caseID any, entity string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO changes (inspection_id, kind, case_id, entity) VALUES (?, ?, ?, ?)`, inspectionID, kind, caseID, entity)
	return err
}

// ---- frameworks ----

// FrameworkInfo summarises a stored framework version.
type FrameworkInfo struct {
	ID        string
	Version   int
	Title     string
	Checksum  string
	Rated     bool
	Questions int
}

// PutFramework stores a framework version. Storing the same definition
// again does nothing. A different definition under an existing id and
// version is refused (CodeExists) once an inspection uses it, because
// frameworks are immutable once used; an unused built-in is replaced.
func (db *DB) PutFramework(ctx context.Context, fw *framework.Framework, raw []byte, builtin bool) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		at := db.now()
		// Every load that stores something is audited: the server loads
		// frameworks itself, at start, from its binary or --framework files.
		loaded := func(before any) error {
			return audit(ctx, tx, at, framework.Actor{User: "fieldworkd", Device: "framework-load"}, "framework.load",
				fmt.Sprintf("framework/%s@%d", fw.ID, fw.Version), before,
				map[string]any{"id": fw.ID, "version": fw.Version, "checksum": fw.Checksum(), "title": fw.Title, "builtin": builtin})
		}
		var sum string
		err := tx.QueryRowContext(ctx, `SELECT checksum FROM frameworks WHERE id = ? AND version = ?`, fw.ID, fw.Version).Scan(&sum)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err = tx.ExecContext(ctx, `INSERT INTO frameworks (id, version, title, definition, checksum, builtin, loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				fw.ID, fw.Version, fw.Title, raw, fw.Checksum(), builtin, at); err != nil {
				return err
			}
			return loaded(nil)
		case err != nil:
			return err
		case sum == fw.Checksum():
			return nil
		}
		var used int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM inspections WHERE framework_id = ? AND framework_version = ?`, fw.ID, fw.Version).Scan(&used); err != nil {
			return err
		}
		if used > 0 {
			return framework.Errorf(framework.CodeExists, "framework %s version %d is used by %d inspection(s) and cannot change; give the new definition a new version", fw.ID, fw.Version, used)
		}
		if _, err = tx.ExecContext(ctx, `UPDATE frameworks SET title = ?, definition = ?, checksum = ?, builtin = ?, loaded_at = ? WHERE id = ? AND version = ?`,
			fw.Title, raw, fw.Checksum(), builtin, at, fw.ID, fw.Version); err != nil {
			return err
		}
		return loaded(map[string]any{"checksum": sum})
	})
	if err != nil {
		return fmt.Errorf("store framework %s@%d: %w", fw.ID, fw.Version, err)
	}
	db.mu.Lock()
	delete(db.fws, fmt.Sprintf("%s@%d", fw.ID, fw.Version))
	db.mu.Unlock()
	return nil
}

// Frameworks lists every stored framework version.
func (db *DB) Frameworks(ctx context.Context) ([]FrameworkInfo, error) {
	rows, err := db.conn.Reader.QueryContext(ctx, `SELECT id, version FROM frameworks ORDER BY id, version`)
	if err != nil {
		return nil, fmt.Errorf("list frameworks: %w", err)
	}
	type key struct {
		id string
		v  int
	}
	var keys []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.id, &k.v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list frameworks: %w", err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list frameworks: %w", err)
	}
	var out []FrameworkInfo
	for _, k := range keys {
		fw, _, err := db.Framework(ctx, k.id, k.v)
		if err != nil {
			return nil, err
		}
		out = append(out, FrameworkInfo{ID: fw.ID, Version: fw.Version, Title: fw.Title, Checksum: fw.Checksum(), Rated: fw.Rated(), Questions: len(fw.Questions())})
	}
	return out, nil
}

// Framework returns a framework version (version 0: the latest) and its
// file. Parsed frameworks are cached; they are immutable once stored.
func (db *DB) Framework(ctx context.Context, id string, version int) (*framework.Framework, []byte, error) {
	q := `SELECT version, definition FROM frameworks WHERE id = ? AND version = ?`
	args := []any{id, version}
	if version == 0 {
		q = `SELECT version, definition FROM frameworks WHERE id = ? ORDER BY version DESC LIMIT 1`
		args = args[:1]
	}
	var raw []byte
	err := db.conn.Reader.QueryRowContext(ctx, q, args...).Scan(&version, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, framework.Errorf(framework.CodeNotFound, "framework %q not found", id)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get framework %s: %w", id, err)
	}
	k := fmt.Sprintf("%s@%d", id, version)
	db.mu.Lock()
	fw := db.fws[k]
	db.mu.Unlock()
	if fw == nil {
		if fw, err = framework.Load(raw); err != nil {
			return nil, nil, fmt.Errorf("stored framework %s: %w", k, err)
		}
		db.mu.Lock()
		db.fws[k] = fw
		db.mu.Unlock()
	}
	return fw, raw, nil
}

// ---- users and tokens ----

// User is an authenticated user.
type User struct {
	Name  string
	Admin bool
}

// CreateUser creates a user (CodeExists if the name is taken).
func (db *DB) CreateUser(ctx context.Context, a framework.Actor, name string, admin bool) error {
	if err := checkUserName(name); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		at := db.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (name, admin, created_at) VALUES (?, ?, ?)`, name, admin, at); err != nil {
			if sqlite.IsUnique(err) {
				return framework.Errorf(framework.CodeExists, "user %q already exists", name)
			}
			return fmt.Errorf("create user %s: %w", name, err)
		}
		return audit(ctx, tx, at, a, "user.create", "user/"+name, nil, map[string]any{"admin": admin})
	})
}

func checkUserName(name string) error { return framework.FieldUserName.Check(name) }

func ensureUser(ctx context.Context, tx *sql.Tx, at string, a framework.Actor, name string) error {
	if err := checkUserName(name); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO users (name, admin, created_at) VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING`, name, at)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return audit(ctx, tx, at, a, "user.create", "user/"+name, nil, map[string]any{"admin": false})
	}
	return nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// IssueToken creates a random 256-bit bearer token for a user, stores its
// hash and returns the token, which is never stored or shown again.
func (db *DB) IssueToken(ctx context.Context, a framework.Actor, user string, ttl time.Duration) (string, time.Time, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", time.Time{}, err
	}
	token := "fw_" + base64.RawURLEncoding.EncodeToString(b[:])
	if ttl <= 0 {
		ttl = framework.DefaultTokenTTL
	}
	expires := db.Now().Add(ttl).UTC()
	err := db.write(ctx, func(tx *sql.Tx) error {
		at := db.now()
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE name = ?`, user).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return framework.Errorf(framework.CodeNotFound, "user %q not found", user)
		}
		h := hashToken(token)
		if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (hash, user_name, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			h, user, at, expires.Format(time.RFC3339Nano)); err != nil {
			return err
		}
		return audit(ctx, tx, at, a, "token.issue", "user/"+user, nil, map[string]any{"token_hash_prefix": h[:12], "expires_at": expires})
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue token for %s: %w", user, err)
	}
	return token, expires, nil
}

// BootstrapAdmin makes sure the user "admin" exists as an administrator
// and issues it a token; it is how an operator gets the first credential.
func (db *DB) BootstrapAdmin(ctx context.Context) (string, error) {
	a := framework.Actor{User: "fieldworkd", Device: "admin-token"}
	err := db.write(ctx, func(tx *sql.Tx) error {
		at := db.now()
		res, err := tx.ExecContext(ctx, `INSERT INTO users (name, admin, created_at) VALUES ('admin', 1, ?) ON CONFLICT (name) DO UPDATE SET admin = 1 WHERE admin = 0`, at)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return audit(ctx, tx, at, a, "user.create", "user/admin", nil, map[string]any{"admin": true})
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("bootstrap admin: %w", err)
	}
	token, _, err := db.IssueToken(ctx, a, "admin", 0)
	return token, err
}

// Authenticate returns the user a bearer token belongs to, or a
// CodeUnauthorized error if it is unknown, revoked or expired.
func (db *DB) Authenticate(ctx context.Context, token string) (User, error) {
	return db.AuthenticateHash(ctx, TokenHash(token))
}

// TokenHash is the hash under which a token is stored. Holding it instead
// of the token (a web session does) proves nothing to the API.
func TokenHash(token string) string { return hashToken(token) }

// AuthenticateHash is Authenticate for a token known by its TokenHash.
func (db *DB) AuthenticateHash(ctx context.Context, hash string) (User, error) {
	var u User
	var expires string
	var revoked sql.NullString
	err := db.conn.Reader.QueryRowContext(ctx, `SELECT u.name, u.admin, t.expires_at, t.revoked_at FROM tokens t JOIN users u ON u.name = t.user_name WHERE t.hash = ?`,
		hash).Scan(&u.Name, &u.Admin, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, framework.Errorf(framework.CodeUnauthorized, "unknown token")
	}
	if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	if revoked.Valid {
		return User{}, framework.Errorf(framework.CodeUnauthorized, "token revoked")
	}
	if db.Now().After(sqlite.ParseTime(expires)) {
		return User{}, framework.Errorf(framework.CodeUnauthorized, "token expired")
	}
	return u, nil
}

// ---- inspections and team ----

// CreateInspection creates an inspection bound to a stored framework
// version (version 0: the latest).
func (db *DB) CreateInspection(ctx context.Context, a framework.Actor, name, unit, fwID string, fwVersion int) (framework.Inspection, error) {
	if err := framework.FieldInspectionName.Check(name); err != nil {
		return framework.Inspection{}, err
	}
	if err := framework.FieldUnit.Check(unit); err != nil {
		return framework.Inspection{}, err
	}
	fw, _, err := db.Framework(ctx, fwID, fwVersion)
	if err != nil {
		return framework.Inspection{}, err
	}
	in := framework.Inspection{
		ID: uuid.Must(uuid.NewV7()).String(), Name: name, Unit: unit,
		FrameworkID: fw.ID, FrameworkVersion: fw.Version, Status: framework.InspectionFieldwork,
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		at := db.now()
		in.CreatedAt = sqlite.ParseTime(at)
		if _, err := tx.ExecContext(ctx, `INSERT INTO inspections (id, name, unit, framework_id, framework_version, status, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			in.ID, in.Name, in.Unit, in.FrameworkID, in.FrameworkVersion, in.Status, at, a.User); err != nil {
			return err
		}
		if err := addChange(ctx, tx, in.ID, "inspection", nil, in.ID); err != nil {
			return err
		}
		return audit(ctx, tx, at, a, "inspection.create", "inspection/"+in.ID, nil, in)
	})
	if err != nil {
		return framework.Inspection{}, fmt.Errorf("create inspection: %w", err)
	}
	return in, nil
}

const inspectionCols = `i.id, i.name, i.unit, i.framework_id, i.framework_version, i.status, i.created_at`

func scanInspection(s interface{ Scan(...any) error }, extra ...any) (framework.Inspection, error) {
	var in framework.Inspection
	var at string
	err := s.Scan(append([]any{&in.ID, &in.Name, &in.Unit, &in.FrameworkID, &in.FrameworkVersion, &in.Status, &at}, extra...)...)
	in.CreatedAt = sqlite.ParseTime(at)
	return in, err
}

// Inspection returns one inspection, with the user's role on it ("" if
// none; "admin" for an administrator not on the team).
func (db *DB) Inspection(ctx context.Context, u User, id string) (framework.Inspection, error) {
	var role sql.NullString
	in, err := scanInspection(db.conn.Reader.QueryRowContext(ctx, `SELECT `+inspectionCols+`, t.role FROM inspections i
		LEFT JOIN team t ON t.inspection_id = i.id AND t.user_name = ? WHERE i.id = ?`, u.Name, id), &role)
	if errors.Is(err, sql.ErrNoRows) {
		return framework.Inspection{}, framework.Errorf(framework.CodeNotFound, "inspection %q not found", id)
	}
	if err != nil {
		return framework.Inspection{}, fmt.Errorf("get inspection %s: %w", id, err)
	}
	in.Role = framework.EffectiveRole(role.String, u.Admin)
	return in, nil
}

// Inspections lists the inspections a user may see: all for an
// administrator, else those the user is on the team of.
func (db *DB) Inspections(ctx context.Context, u User) ([]framework.Inspection, error) {
	rows, err := db.conn.Reader.QueryContext(ctx, `SELECT `+inspectionCols+`, t.role FROM inspections i
		LEFT JOIN team t ON t.inspection_id = i.id AND t.user_name = ?
		WHERE ? OR t.role IS NOT NULL ORDER BY i.created_at, i.id`, u.Name, u.Admin)
	if err != nil {
		return nil, fmt.Errorf("list inspections: %w", err)
	}
	defer rows.Close()
	var out []framework.Inspection
	for rows.Next() {
		var role sql.NullString
		in, err := scanInspection(rows, &role)
		if err != nil {
			return nil, fmt.Errorf("list inspections: %w", err)
		}
		in.Role = framework.EffectiveRole(role.String, u.Admin) // only an administrator lists one they are not on
		out = append(out, in)
	}
	return out, rows.Err()
}

// AddTeamMember gives a user (created if new) a role on an inspection.
func (db *DB) AddTeamMember(ctx context.Context, a framework.Actor, inspectionID, user, role string) error {
	if !framework.ValidRole(role) {
		return framework.Errorf(framework.CodeInvalid, "role %q is not one of lead, inspector, qa, analyst", role)
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		at := db.now()
		if err := inspectionExists(ctx, tx, inspectionID); err != nil {
			return err
		}
		if err := ensureUser(ctx, tx, at, a, user); err != nil {
			return err
		}
		var before sql.NullString
		// The role before decides whether the user's devices are told of a
		// change, so a failed read must not pass for "not on the team".
		if err := tx.QueryRowContext(ctx, `SELECT role FROM team WHERE inspection_id = ? AND user_name = ?`,
			inspectionID, user).Scan(&before); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("team role of %s: %w", user, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO team (inspection_id, user_name, role) VALUES (?, ?, ?)
			ON CONFLICT (inspection_id, user_name) DO UPDATE SET role = excluded.role`, inspectionID, user, role); err != nil {
			return err
		}
		if err := addChange(ctx, tx, inspectionID, "inspection", nil, inspectionID); err != nil {
			return err
		}
		if before.String != role {
			// What the user may see changed: deliver it to their devices,
			// and take back the cases an inspector may not see.
			if err := announce(ctx, tx, inspectionID, user, ""); err != nil {
				return err
			}
			if before.Valid && role == framework.RoleInspector {
				if err := withdraw(ctx, tx, inspectionID, user, ""); err != nil {
					return err
				}
			}
		}
		return audit(ctx, tx, at, a, "team.set", "inspection/"+inspectionID+"/team/"+user, nullable(before), role)
	})
}

// RemoveTeamMember takes a user off an inspection's team and tells their
// devices to drop the inspection and its cases. It refuses while cases are still assigned to
// them: those would be left with nobody to answer them. It returns the role
// they had and the number of cases withdrawn.
func (db *DB) RemoveTeamMember(ctx context.Context, a framework.Actor, inspectionID, user string) (role string, withdrawn int, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		if err := inspectionExists(ctx, tx, inspectionID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `SELECT role FROM team WHERE inspection_id = ? AND user_name = ?`, inspectionID, user).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) {
			return framework.Errorf(framework.CodeNotFound, "%s is not on the team of inspection %s", user, inspectionID)
		}
		if err != nil {
			return err
		}
		var assigned int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM cases WHERE inspection_id = ? AND inspector = ?`, inspectionID, user).Scan(&assigned); err != nil {
			return err
		}
		if assigned > 0 {
			return framework.Errorf(framework.CodePrecondition, "%s is still assigned %d case(s) of inspection %s: reassign them first (import the cases with another inspector)",
				user, assigned, inspectionID)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM team WHERE inspection_id = ? AND user_name = ?`, inspectionID, user); err != nil {
			return err
		}
		// Every case they could see (a device from before the whole
		// inspection could be withdrawn drops these; an inspector, who has
		// no case left, saw none, and must not learn the others' refs from
		// their withdrawals), then the inspection; pull delivers both to a
		// user off the team (changes.go).
		if framework.CanSeeCase(role, false) {
			if err := withdraw(ctx, tx, inspectionID, user, ""); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM cases WHERE inspection_id = ?`, inspectionID).Scan(&withdrawn); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO changes (inspection_id, kind, case_id, entity, for_user) VALUES (?1, 'removed', NULL, ?1, ?2)`,
			inspectionID, user); err != nil {
			return err
		}
		return audit(ctx, tx, db.now(), a, "team.remove", "inspection/"+inspectionID+"/team/"+user, role, nil)
	})
	return role, withdrawn, err
}

func nullable(s sql.NullString) any {
	if !s.Valid {
		return nil
	}
	return s.String
}

func inspectionExists(ctx context.Context, tx *sql.Tx, id string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM inspections WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return framework.Errorf(framework.CodeNotFound, "inspection %q not found", id)
	}
	return nil
}
