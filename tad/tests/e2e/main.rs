//! The tad end-to-end suite, linked as one test binary (one link of the whole platform instead of
//! one per file): each module drives `tad` through its HTTP API, its CLI or its engine.
//! Run one area with `cargo test -p tad --test e2e execution::`.

mod support;

mod api_tokens;
mod appinhouse_browser;
mod appinhouse_browser_access;
mod appinhouse_contract;
mod appinhouse_replicas;
mod artifact_archives;
mod artifact_routes;
mod artifact_s3;
mod audit_cli;
mod audit_trail;
mod auth_sessions;
mod cluster_deletes;
mod concurrent_saves;
mod console_approvals_browser;
mod console_browser;
mod console_instances_browser;
mod console_manage_browser;
mod console_plan_browser;
mod console_run_browser;
mod console_tokens_browser;
mod execution;
mod execution_safety;
mod failover;
mod gateway_contract;
mod input_limits;
mod jobs_contract;
mod joint_plan;
mod leftovers;
mod output_integrity;
mod package_templates;
mod read_caches;
mod read_caches_runs;
mod read_caches_steps;
mod recorded_answers;
mod replica_checks;
mod resource_contract;
mod response_hardening;
mod schedules;
mod secrets_at_rest;
mod serve;
mod slow_clients;
mod split;
mod ssh_validation;
mod transport;
