-- Every sweep looks for rollback steps (sequence 20000 and up, issue 21) left unfinished by a
-- replica that died; this index keeps that a lookup of the few rollback steps there are.
CREATE INDEX run_steps_rollback ON run_steps (sequence, status) WHERE sequence >= 20000;
