DROP INDEX run_steps_rollback;
