-- How each case sample was drawn (fieldwork sample's cases.csv.sample.json,
-- framework.SampleInfo as JSON), kept with the inspection its cases were
-- imported into, in the same transaction. One row per distinct sample file
-- (sample_sha256): importing the same sample again keeps it once.
CREATE TABLE samples (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	inspection_id TEXT    NOT NULL REFERENCES inspections(id),
	sample_sha256 TEXT    NOT NULL,
	info          TEXT    NOT NULL,
	imported_by   TEXT    NOT NULL,
	device_id     TEXT    NOT NULL,
	imported_at   TEXT    NOT NULL,
	UNIQUE (inspection_id, sample_sha256)
);
