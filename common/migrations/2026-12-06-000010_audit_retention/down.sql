DROP INDEX audit_events_action;
ALTER TABLE audit_head DROP COLUMN pruned_hash;
ALTER TABLE audit_head DROP COLUMN pruned_seq;
