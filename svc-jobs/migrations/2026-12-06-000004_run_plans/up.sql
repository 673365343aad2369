-- Plans answered by the dry run (issue 21): what 6.1 of an instance would run, under the plan id
-- (a keyed fingerprint of the plans, the same for the same inputs). `plans` holds the step plans
-- sealed as run snapshots are. 6.1 with a plan_id compares today's plans with these and refuses,
-- naming what changed. Rows older than a week are dropped when a new plan is stored.
CREATE TABLE run_plans (
    plan_id TEXT PRIMARY KEY NOT NULL,
    instance_id TEXT NOT NULL,
    plans TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL
);
CREATE INDEX run_plans_by_time ON run_plans (create_time);
