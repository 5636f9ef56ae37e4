-- fieldwork server schema, version 1. Append-only: later changes go in new files.

CREATE TABLE frameworks (
	id         TEXT    NOT NULL,
	version    INTEGER NOT NULL,
	title      TEXT    NOT NULL,
	definition BLOB    NOT NULL,
	checksum   TEXT    NOT NULL,
	builtin    INTEGER NOT NULL DEFAULT 0,
	loaded_at  TEXT    NOT NULL,
	PRIMARY KEY (id, version)
);

CREATE TABLE users (
	name       TEXT PRIMARY KEY,
	admin      INTEGER NOT NULL DEFAULT 0,
	created_at TEXT    NOT NULL
);

-- Tokens are stored only as SHA-256 hashes; the token itself is shown once.
CREATE TABLE tokens (
	hash       TEXT PRIMARY KEY,
	user_name  TEXT NOT NULL REFERENCES users(name),
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	revoked_at TEXT
);

CREATE TABLE inspections (
	id                TEXT PRIMARY KEY,
	name              TEXT    NOT NULL,
	unit              TEXT    NOT NULL DEFAULT '',
	framework_id      TEXT    NOT NULL,
	framework_version INTEGER NOT NULL,
	status            TEXT    NOT NULL,
	created_at        TEXT    NOT NULL,
	created_by        TEXT    NOT NULL,
	FOREIGN KEY (framework_id, framework_version) REFERENCES frameworks(id, version)
);

CREATE TABLE team (
	inspection_id TEXT NOT NULL REFERENCES inspections(id),
	user_name     TEXT NOT NULL REFERENCES users(name),
	role          TEXT NOT NULL CHECK (role IN ('lead', 'inspector', 'qa', 'analyst')),
	PRIMARY KEY (inspection_id, user_name)
);
CREATE INDEX team_by_user ON team(user_name);

CREATE TABLE cases (
	id            TEXT PRIMARY KEY,
	inspection_id TEXT NOT NULL REFERENCES inspections(id),
	case_ref      TEXT NOT NULL,
	attributes    TEXT NOT NULL, -- JSON object of the framework's case attributes
	inspector     TEXT NOT NULL,
	status        TEXT NOT NULL,
	UNIQUE (inspection_id, case_ref)
);

CREATE TABLE answers (
	case_id     TEXT    NOT NULL REFERENCES cases(id),
	question_id TEXT    NOT NULL,
	value       TEXT    NOT NULL,
	note        TEXT    NOT NULL,
	revision    INTEGER NOT NULL,
	updated_by  TEXT    NOT NULL,
	device_id   TEXT    NOT NULL,
	updated_at  TEXT    NOT NULL,
	PRIMARY KEY (case_id, question_id)
) WITHOUT ROWID;

-- Every version of every answer, append-only.
CREATE TABLE answer_history (
	id          INTEGER PRIMARY KEY,
	case_id     TEXT    NOT NULL,
	question_id TEXT    NOT NULL,
	value       TEXT    NOT NULL,
	note        TEXT    NOT NULL,
	revision    INTEGER NOT NULL,
	updated_by  TEXT    NOT NULL,
	device_id   TEXT    NOT NULL,
	updated_at  TEXT    NOT NULL,
	op_id       TEXT
);
CREATE INDEX answer_history_by_answer ON answer_history(case_id, question_id, revision);

CREATE TABLE judgements (
	inspection_id TEXT NOT NULL REFERENCES inspections(id),
	standard_id   TEXT NOT NULL,
	rating        TEXT NOT NULL,
	rationale     TEXT NOT NULL,
	judged_by     TEXT NOT NULL,
	device_id     TEXT NOT NULL,
	judged_at     TEXT NOT NULL,
	PRIMARY KEY (inspection_id, standard_id)
);

CREATE TABLE conflicts (
	id              TEXT PRIMARY KEY,
	inspection_id   TEXT    NOT NULL REFERENCES inspections(id),
	case_id         TEXT    NOT NULL REFERENCES cases(id),
	question_id     TEXT    NOT NULL,
	base_revision   INTEGER NOT NULL,
	server_revision INTEGER NOT NULL,
	server_value    TEXT    NOT NULL,
	server_note     TEXT    NOT NULL,
	client_value    TEXT    NOT NULL,
	client_note     TEXT    NOT NULL,
	client_user     TEXT    NOT NULL,
	client_device   TEXT    NOT NULL,
	op_id           TEXT    NOT NULL,
	created_at      TEXT    NOT NULL,
	status          TEXT    NOT NULL DEFAULT 'open',
	resolved_by     TEXT    NOT NULL DEFAULT '',
	resolution      TEXT    NOT NULL DEFAULT ''
);

-- The record of every op received, so a re-sent op is answered from here.
CREATE TABLE ops_applied (
	op_id       TEXT PRIMARY KEY,
	result      INTEGER NOT NULL,
	revision    INTEGER NOT NULL,
	reason      TEXT    NOT NULL,
	conflict_id TEXT,
	user_name   TEXT    NOT NULL,
	device_id   TEXT    NOT NULL,
	device_seq  INTEGER NOT NULL,
	applied_at  TEXT    NOT NULL
) WITHOUT ROWID;

-- The pull cursor: one row per change, in commit order.
CREATE TABLE changes (
	seq           INTEGER PRIMARY KEY AUTOINCREMENT,
	inspection_id TEXT NOT NULL,
	kind          TEXT NOT NULL, -- inspection, case, answer, judgement, conflict
	case_id       TEXT,          -- set for case-scoped changes, for visibility
	entity        TEXT NOT NULL  -- the id within its kind (question id for answers)
);

CREATE TABLE audit (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	at        TEXT NOT NULL,
	user_name TEXT NOT NULL,
	device_id TEXT NOT NULL,
	action    TEXT NOT NULL,
	entity    TEXT NOT NULL,
	before    TEXT,
	after     TEXT
);
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
