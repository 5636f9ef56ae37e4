-- fieldwork client (offline) store, version 1. Append-only.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE frameworks (
	id         TEXT    NOT NULL,
	version    INTEGER NOT NULL,
	definition BLOB    NOT NULL,
	PRIMARY KEY (id, version)
);

CREATE TABLE inspections (
	id                TEXT PRIMARY KEY,
	name              TEXT    NOT NULL,
	unit              TEXT    NOT NULL,
	framework_id      TEXT    NOT NULL,
	framework_version INTEGER NOT NULL,
	status            TEXT    NOT NULL,
	role              TEXT    NOT NULL
);

CREATE TABLE cases (
	inspection_id TEXT NOT NULL REFERENCES inspections(id),
	case_ref      TEXT NOT NULL,
	attributes    TEXT NOT NULL,
	inspector     TEXT NOT NULL,
	status        TEXT NOT NULL,
	PRIMARY KEY (inspection_id, case_ref)
);

-- The local view of each answer. revision is the last server revision
-- seen (the base of the next op); pending counts outbox ops not yet acknowledged.
CREATE TABLE answers (
	inspection_id TEXT    NOT NULL,
	case_ref      TEXT    NOT NULL,
	question_id   TEXT    NOT NULL,
	value         TEXT    NOT NULL,
	note          TEXT    NOT NULL,
	revision      INTEGER NOT NULL,
	updated_by    TEXT    NOT NULL,
	updated_at    TEXT    NOT NULL,
	pending       INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (inspection_id, case_ref, question_id),
	FOREIGN KEY (inspection_id, case_ref) REFERENCES cases(inspection_id, case_ref)
);

-- Ops written in the same transaction as the answer, sent in device_seq order.
CREATE TABLE outbox (
	device_seq    INTEGER PRIMARY KEY,
	op_id         TEXT    NOT NULL UNIQUE,
	inspection_id TEXT    NOT NULL,
	case_ref      TEXT    NOT NULL,
	question_id   TEXT    NOT NULL,
	value         TEXT    NOT NULL,
	note          TEXT    NOT NULL,
	base_revision INTEGER NOT NULL,
	client_time   TEXT    NOT NULL
);

CREATE TABLE judgements (
	inspection_id TEXT NOT NULL,
	standard_id   TEXT NOT NULL,
	rating        TEXT NOT NULL,
	rationale     TEXT NOT NULL,
	judged_by     TEXT NOT NULL,
	judged_at     TEXT NOT NULL,
	PRIMARY KEY (inspection_id, standard_id)
);

CREATE TABLE conflicts (
	id            TEXT PRIMARY KEY,
	inspection_id TEXT NOT NULL,
	case_ref      TEXT NOT NULL,
	question_id   TEXT NOT NULL,
	status        TEXT NOT NULL,
	body          TEXT NOT NULL -- JSON of framework.Conflict
);

-- Ops the server refused, kept so the inspector sees why.
CREATE TABLE rejected (
	op_id         TEXT PRIMARY KEY,
	inspection_id TEXT NOT NULL,
	case_ref      TEXT NOT NULL,
	question_id   TEXT NOT NULL,
	value         TEXT NOT NULL,
	reason        TEXT NOT NULL,
	at            TEXT NOT NULL
);
