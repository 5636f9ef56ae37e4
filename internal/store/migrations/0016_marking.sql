-- Second marking (docs/qa.md). A case selected for QA has one QA marker;
-- the second marking is stored apart from the case's answers, with its own
-- revisions (marking_history, append-only) and conflicts, and moves no
-- figure. lifted is set once both markings are submitted (the case, and
-- the second marking), and stays: it ends the blind (framework.
-- CanSeeMarkingValues).
CREATE TABLE qa_selections (
	case_id       TEXT    PRIMARY KEY REFERENCES cases(id),
	inspection_id TEXT    NOT NULL REFERENCES inspections(id),
	qa_user       TEXT    NOT NULL,
	selected_by   TEXT    NOT NULL,
	selected_at   TEXT    NOT NULL,
	status        TEXT    NOT NULL DEFAULT 'in_progress', -- in_progress or submitted
	submitted_by  TEXT    NOT NULL DEFAULT '',
	submitted_at  TEXT    NOT NULL DEFAULT '',
	lifted        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX qa_selections_by_inspection ON qa_selections(inspection_id);

CREATE TABLE marking_answers (
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

CREATE TABLE marking_history (
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
CREATE INDEX marking_history_by_answer ON marking_history(case_id, question_id, revision);
CREATE TRIGGER marking_history_append_only_update BEFORE UPDATE ON marking_history
BEGIN SELECT RAISE(ABORT, 'marking history is append-only'); END;
CREATE TRIGGER marking_history_append_only_delete BEFORE DELETE ON marking_history
BEGIN SELECT RAISE(ABORT, 'marking history is append-only'); END;

-- A stale edit of a second marking whose value differed (two laptops of
-- the QA marker): both kept, as for answers.
CREATE TABLE marking_conflicts (
	id              TEXT    PRIMARY KEY,
	inspection_id   TEXT    NOT NULL,
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
CREATE INDEX marking_conflicts_by_op ON marking_conflicts(op_id);

-- Moderation decisions, append-only: the agreed answer of one question of
-- a double-marked case, which side it took and the two values then. The
-- agreed answer itself is written to answers through the push path.
CREATE TABLE moderations (
	id           INTEGER PRIMARY KEY,
	case_id      TEXT    NOT NULL REFERENCES cases(id),
	question_id  TEXT    NOT NULL,
	take         TEXT    NOT NULL, -- first, second or value
	value        TEXT    NOT NULL,
	note         TEXT    NOT NULL,
	first_value  TEXT    NOT NULL,
	second_value TEXT    NOT NULL,
	decided_by   TEXT    NOT NULL,
	device_id    TEXT    NOT NULL,
	decided_at   TEXT    NOT NULL,
	revision     INTEGER NOT NULL
);
CREATE INDEX moderations_by_case ON moderations(case_id, question_id, id);
CREATE TRIGGER moderations_append_only_update BEFORE UPDATE ON moderations
BEGIN SELECT RAISE(ABORT, 'moderations are append-only'); END;

-- The blind lifts when the second of the two markings is submitted,
-- whichever path submits the case (SetCaseStatus, a status op): one home
-- here, so no path can forget it. Lifting adds a pull change, so every
-- laptop that was refused a marking's values gets them then.
CREATE TRIGGER qa_lift_on_case AFTER UPDATE OF status ON cases
WHEN NEW.status IN ('submitted', 'qa_checked', 'locked')
BEGIN
	UPDATE qa_selections SET lifted = 1 WHERE case_id = NEW.id AND status = 'submitted' AND lifted = 0;
END;
CREATE TRIGGER qa_lift_change AFTER UPDATE OF lifted ON qa_selections
WHEN NEW.lifted = 1 AND OLD.lifted = 0
BEGIN
	INSERT INTO changes (inspection_id, kind, case_id, entity) VALUES (NEW.inspection_id, 'marking_lift', NEW.case_id, NEW.case_id);
END;
