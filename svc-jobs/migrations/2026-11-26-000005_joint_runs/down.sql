DROP TABLE joint_run_nodes;
DROP TABLE joint_runs;
