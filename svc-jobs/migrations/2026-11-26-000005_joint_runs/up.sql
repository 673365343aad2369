-- svc-jobs joint-line runs (2.1): a parent record over the instance runs of a joint line's nodes.
CREATE TABLE joint_runs (
    id TEXT PRIMARY KEY NOT NULL,
    joint_line_id TEXT NOT NULL REFERENCES joint_lines (id),
    status TEXT NOT NULL,
    use_tad_host BOOLEAN NOT NULL,
    started_by TEXT NOT NULL,
    owner TEXT,
    lease_until TIMESTAMP,
    message TEXT,
    create_time TIMESTAMP NOT NULL,
    start_time TIMESTAMP,
    end_time TIMESTAMP
);
-- One running joint run per joint line.
CREATE UNIQUE INDEX joint_runs_one_active ON joint_runs (joint_line_id) WHERE status = 'running';
CREATE INDEX joint_runs_of_line ON joint_runs (joint_line_id, create_time);

CREATE TABLE joint_run_nodes (
    joint_run_id TEXT NOT NULL REFERENCES joint_runs (id),
    sequence BIGINT NOT NULL,
    instance_id TEXT NOT NULL,
    parents TEXT NOT NULL,
    run_id TEXT,
    status TEXT NOT NULL,
    message TEXT,
    PRIMARY KEY (joint_run_id, sequence)
);
