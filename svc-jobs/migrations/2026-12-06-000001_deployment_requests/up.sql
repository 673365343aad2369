-- svc-jobs deployment requests (issue 20): a run asked on a protected environment (6.1, 6.2, 2.1,
-- retry, rollback) waits here for an approver. `plans` holds what would run, frozen when it was
-- asked (each step's plan sealed with the credential key, as run snapshots are): the approved run
-- runs exactly that, and a request whose plans no longer match today's bindings is void.
CREATE TABLE deployment_requests (
    id TEXT PRIMARY KEY NOT NULL,
    -- deploy (6.1), next_step (6.2), retry, rollback or joint_line (2.1)
    kind TEXT NOT NULL,
    -- the instance (6.1, 6.2, rollback), the failed run (retry) or the joint line (2.1)
    target_id TEXT NOT NULL,
    use_tad_host BOOLEAN NOT NULL,
    application_id TEXT,
    env_id TEXT NOT NULL,
    plans TEXT NOT NULL,
    -- pending, waiting (approved, for the next deploy window), started, rejected, void, expired
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    -- who approved or rejected it (when: the audit trail's approval event)
    decided_by TEXT,
    comment TEXT,
    -- why it is void, expired or waiting
    reason TEXT,
    not_before TIMESTAMP,
    -- the run (or joint run) the approval started
    execution_id TEXT
);
CREATE INDEX deployment_requests_by_status ON deployment_requests (status, create_time);
CREATE INDEX deployment_requests_by_target ON deployment_requests (target_id, status);
