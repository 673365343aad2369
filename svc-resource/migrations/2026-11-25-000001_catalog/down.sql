-- Reverts the svc-resource catalog.
DROP TABLE cluster_types;
DROP TABLE envs;
DROP TABLE modules;
DROP TABLE applications;
DROP TABLE product_lines;
DROP TABLE users;
