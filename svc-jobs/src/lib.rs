//! svc-jobs: job templates, instances, work orders, joint lines and executions (SPEC §4–5); filled by the jobs issues.
