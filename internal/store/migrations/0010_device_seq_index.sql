-- A device's sequence numbers name its ops in order: two different op_ids
-- with one (device, seq) mean its store was restored from a backup or
-- copied to another laptop. The push path looks that up per group by range
-- (detectReused in apply.go); keys are near-sequential per device, so the
-- index costs little on insert.
CREATE INDEX answer_history_by_device_seq ON answer_history(device_id, device_seq) WHERE device_seq IS NOT NULL;
CREATE INDEX ops_applied_by_device_seq ON ops_applied(device_id, device_seq);
