ALTER TABLE host_tasks DROP COLUMN artifacts_skipped;
ALTER TABLE host_tasks DROP COLUMN artifacts_sent;
