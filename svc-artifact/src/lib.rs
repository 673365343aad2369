//! svc-artifact: stored files, packages, scripts and config templates (SPEC §3); filled by the artifact issue.
