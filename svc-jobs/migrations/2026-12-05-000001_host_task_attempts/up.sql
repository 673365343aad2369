-- Each start of a host task is an attempt; its number names the attempt's process group on the
-- host (key `tad-<task id>-<attempt>`), so a resume or retry can kill what an earlier attempt
-- left running there before it starts again.
ALTER TABLE host_tasks ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
