-- svc-jobs execution (SPEC §5): a run of an instance → its steps (each with the frozen snapshot
-- of its bindings) → one task per host, and the run's events (status changes and log chunks with
-- byte offsets), numbered per run so that a stream can resume after any of them.
CREATE TABLE runs (
    id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL REFERENCES job_instances (id),
    application_id TEXT NOT NULL,
    env_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    use_tad_host BOOLEAN NOT NULL,
    started_by TEXT NOT NULL,
    owner TEXT,
    lease_until TIMESTAMP,
    stop_requested BOOLEAN NOT NULL,
    message TEXT,
    create_time TIMESTAMP NOT NULL,
    start_time TIMESTAMP,
    end_time TIMESTAMP,
    -- Number of the run's last event; taking the next one locks the row, so events commit in order.
    event_seq BIGINT NOT NULL DEFAULT 0
);
-- One active run per (application, environment), and so per instance: the database refuses a second.
CREATE UNIQUE INDEX runs_one_active_per_app_env ON runs (application_id, env_id) WHERE status = 'running';
CREATE INDEX runs_of_instance ON runs (instance_id, create_time);
CREATE INDEX runs_by_status ON runs (status, lease_until);

CREATE TABLE run_steps (
    run_id TEXT NOT NULL REFERENCES runs (id),
    sequence INTEGER NOT NULL,
    component_id TEXT NOT NULL,
    method_id TEXT NOT NULL,
    cluster_id TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT,
    start_time TIMESTAMP,
    end_time TIMESTAMP,
    PRIMARY KEY (run_id, sequence)
);

CREATE TABLE host_tasks (
    id TEXT PRIMARY KEY NOT NULL,
    run_id TEXT NOT NULL REFERENCES runs (id),
    sequence INTEGER NOT NULL,
    host_ip TEXT NOT NULL,
    status TEXT NOT NULL,
    exit_code INTEGER,
    message TEXT,
    log_size BIGINT NOT NULL,
    start_time TIMESTAMP,
    end_time TIMESTAMP
);
CREATE INDEX host_tasks_of_step ON host_tasks (run_id, sequence);

CREATE TABLE run_events (
    run_id TEXT NOT NULL REFERENCES runs (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    host_task_id TEXT,
    log_offset BIGINT,
    payload TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX run_events_log ON run_events (host_task_id, log_offset);
