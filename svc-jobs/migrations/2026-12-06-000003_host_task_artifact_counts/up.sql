-- What a host task did with its step's artifacts (issue 21): how many it sent, and how many it
-- did not send because the host already held the file with the same md5 at its destination.
ALTER TABLE host_tasks ADD COLUMN artifacts_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE host_tasks ADD COLUMN artifacts_skipped INTEGER NOT NULL DEFAULT 0;
