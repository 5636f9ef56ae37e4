-- A server restored from an earlier copy lost what this laptop had synced
-- after the copy was taken. On finding it (the pull says diverged), the
-- laptop keeps here the answers this user had settled, as the server had
-- acknowledged them, pulls everything again, then sends again each one the
-- server no longer holds (syncer.Resend) and empties the table. Rows stay
-- until then, so an interrupted recovery resumes on the next sync.
CREATE TABLE restore_resend (
	inspection_id TEXT    NOT NULL,
	case_ref      TEXT    NOT NULL,
	question_id   TEXT    NOT NULL,
	value         TEXT    NOT NULL,
	note          TEXT    NOT NULL,
	revision      INTEGER NOT NULL,
	updated_by    TEXT    NOT NULL,
	updated_at    TEXT    NOT NULL,
	PRIMARY KEY (inspection_id, case_ref, question_id)
);

-- While a recovery re-pulls (meta restore_recovery = 1), the server's
-- answer for each answer with edits still queued here: the local answer
-- keeps showing the queued edit, and these say on what revision to send
-- it now that the revisions it was based on may name other values.
CREATE TABLE restore_server (
	inspection_id TEXT    NOT NULL,
	case_ref      TEXT    NOT NULL,
	question_id   TEXT    NOT NULL,
	revision      INTEGER NOT NULL,
	PRIMARY KEY (inspection_id, case_ref, question_id)
);
