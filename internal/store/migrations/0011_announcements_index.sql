-- Pull asks, per page, which cases and inspections are announced to the
-- pulling user later on (changes for one user: see announce in cases.go).
CREATE INDEX changes_for_user ON changes(for_user, seq) WHERE for_user IS NOT NULL;
