-- Second marking on the laptop (docs/qa.md). A marking op waits in the
-- outbox like an answer op, with marking 'answer' (an answer of the second
-- marking) or 'submit' (its submission); its answers are kept apart from
-- the case's answers, with their own pending count.
ALTER TABLE outbox ADD COLUMN marking TEXT NOT NULL DEFAULT '';

CREATE TABLE marking_answers (
	inspection_id TEXT    NOT NULL,
	case_ref      TEXT    NOT NULL,
	question_id   TEXT    NOT NULL,
	value         TEXT    NOT NULL,
	note          TEXT    NOT NULL,
	revision      INTEGER NOT NULL,
	updated_by    TEXT    NOT NULL,
	updated_at    TEXT    NOT NULL,
	pending       INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (inspection_id, case_ref, question_id)
);

-- The QA selections this laptop may see, as last pulled (body:
-- framework.QASelection as JSON); status may read submitted while the
-- submission is queued here.
CREATE TABLE qa_selections (
	inspection_id TEXT NOT NULL,
	case_ref      TEXT NOT NULL,
	qa_user       TEXT NOT NULL,
	status        TEXT NOT NULL,
	body          TEXT NOT NULL,
	PRIMARY KEY (inspection_id, case_ref)
);

CREATE TABLE marking_conflicts (
	id            TEXT PRIMARY KEY,
	inspection_id TEXT NOT NULL,
	case_ref      TEXT NOT NULL,
	question_id   TEXT NOT NULL,
	status        TEXT NOT NULL,
	body          TEXT NOT NULL -- JSON of framework.Conflict
);

-- Marking edits the server refused, kept whole until dismissed.
CREATE TABLE marking_refused (
	op_id         TEXT PRIMARY KEY,
	inspection_id TEXT NOT NULL,
	case_ref      TEXT NOT NULL,
	question_id   TEXT NOT NULL, -- '' for a submission
	value         TEXT NOT NULL,
	note          TEXT NOT NULL,
	reason        TEXT NOT NULL,
	code          TEXT NOT NULL,
	at            TEXT NOT NULL,
	status        TEXT NOT NULL DEFAULT 'open'
);
