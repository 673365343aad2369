ALTER TABLE host_tasks DROP COLUMN attempt;
