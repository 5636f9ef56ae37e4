package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/fieldworkhq/fieldwork/internal/framework"
	"github.com/fieldworkhq/fieldwork/internal/sqlite"
)

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
func (db *DB) Authenticate(ctx context.Context, token string) (framework.User, error) {
	return db.AuthenticateHash(ctx, TokenHash(token))
}

// TokenHash is the hash under which a token is stored. Holding it instead
// of the token (a web session does) proves nothing to the API.
func TokenHash(token string) string { return hashToken(token) }

// AuthenticateHash is Authenticate for a token known by its TokenHash.
func (db *DB) AuthenticateHash(ctx context.Context, hash string) (framework.User, error) {
	var u framework.User
	var expires string
	var revoked sql.NullString
	err := db.conn.Reader.QueryRowContext(ctx, `SELECT u.name, u.admin, t.expires_at, t.revoked_at FROM tokens t JOIN users u ON u.name = t.user_name WHERE t.hash = ?`,
		hash).Scan(&u.Name, &u.Admin, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return framework.User{}, framework.Errorf(framework.CodeUnauthorized, "unknown token")
	}
	if err != nil {
		return framework.User{}, fmt.Errorf("authenticate: %w", err)
	}
	if revoked.Valid {
		return framework.User{}, framework.Errorf(framework.CodeUnauthorized, "token revoked")
	}
	if db.Now().After(sqlite.ParseTime(expires)) {
		return framework.User{}, framework.Errorf(framework.CodeUnauthorized, "token expired")
	}
	return u, nil
}
