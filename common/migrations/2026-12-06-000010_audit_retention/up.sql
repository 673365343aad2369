-- Retention of the audit trail (issue 20): events older than the retention are removed from the oldest end,
-- and the head keeps the sequence number and hash of the last one removed, so the chain still verifies from
-- there (the first kept event's prev_hash must be that hash). An index for the action filter.
ALTER TABLE audit_head ADD COLUMN pruned_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_head ADD COLUMN pruned_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_events_action ON audit_events (action);
