-- svc-appinhouse: undo 2026-11-25-000001_appinhouse.
DROP TABLE build_extends;
DROP TABLE builds;
DROP TABLE apps;
