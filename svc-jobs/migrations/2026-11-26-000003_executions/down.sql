DROP TABLE run_events;
DROP TABLE host_tasks;
DROP TABLE run_steps;
DROP TABLE runs;
