-- Reverts the svc-jobs configuration tables.
DROP TABLE joint_line_nodes;
DROP TABLE joint_lines;
DROP TABLE instance_steps;
DROP TABLE job_instances;
DROP TABLE job_template_methods;
DROP TABLE job_templates;
