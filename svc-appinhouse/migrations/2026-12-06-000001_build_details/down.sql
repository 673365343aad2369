-- svc-appinhouse: undo 2026-12-06-000001_build_details.
DROP TABLE app_access;
DROP TABLE build_details;
