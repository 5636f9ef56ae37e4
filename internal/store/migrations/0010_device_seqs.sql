-- The highest sequence number seen from each device and user. A device
-- numbers its ops 1, 2, 3 … in one store and pushes them in order, so a new
-- op at or below it means the store was restored from a backup or copied to
-- another laptop and counts again from where the copy was taken (reusedSeq
-- in apply.go). From then on the device id is forked: both copies still
-- use it for the ops they had queued, so every later op under it is decided
-- as one from a copy. Keyed by user too, so nobody can mark another user's
-- device. One row per device and user, updated once per commit group.
CREATE TABLE device_seqs (
	device_id TEXT    NOT NULL,
	user_name TEXT    NOT NULL,
	max_seq   INTEGER NOT NULL,
	forked    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (device_id, user_name)
) WITHOUT ROWID;
INSERT INTO device_seqs (device_id, user_name, max_seq)
	SELECT device_id, user_name, max(device_seq) FROM op_records WHERE device_id != '' AND device_seq > 0 GROUP BY device_id, user_name;
