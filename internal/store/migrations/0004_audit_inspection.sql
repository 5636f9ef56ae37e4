-- Audit entries name the inspection they belong to, for listing by inspection.
ALTER TABLE audit ADD COLUMN inspection_id TEXT;
CREATE INDEX audit_by_inspection ON audit(inspection_id, seq);
