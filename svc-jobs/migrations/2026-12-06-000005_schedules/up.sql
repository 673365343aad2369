-- Scheduled deploys (issue 21): 6.1 of an instance, or 2.1 of a joint line, at each minute a
-- five-field cron text matches, read on the wall clock of `timezone`. `next_fire` (UTC) is the
-- next occurrence; the replica whose update moves it on (compare and set) fires that occurrence,
-- so exactly one replica fires each. A paused schedule has no next occurrence.
CREATE TABLE schedules (
    id TEXT PRIMARY KEY NOT NULL,
    -- instance (6.1) or joint_line (2.1)
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    cron TEXT NOT NULL,
    timezone TEXT NOT NULL,
    use_tad_host BOOLEAN NOT NULL,
    enabled BOOLEAN NOT NULL,
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    next_fire TIMESTAMP,
    last_fire TIMESTAMP,
    -- what the last occurrence did: the run it started, or why it did not start one
    last_execution_id TEXT,
    last_message TEXT
);
CREATE INDEX schedules_due ON schedules (enabled, next_fire);
