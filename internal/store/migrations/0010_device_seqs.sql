-- The highest sequence number seen from each device. A device numbers its
-- ops 1, 2, 3 … in one store and pushes them in order, so a new op at or
-- below it means the store was restored from a backup or copied to another
-- laptop and counts again from where the copy was taken (reusedSeq in
-- apply.go). One row per device, updated once per commit group.
CREATE TABLE device_seqs (
	device_id TEXT PRIMARY KEY,
	max_seq   INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO device_seqs (device_id, max_seq)
	SELECT device_id, max(device_seq) FROM op_records WHERE device_id != '' AND device_seq > 0 GROUP BY device_id;
