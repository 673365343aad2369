DROP TABLE env_governance;
