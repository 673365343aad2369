DROP TABLE run_plans;
