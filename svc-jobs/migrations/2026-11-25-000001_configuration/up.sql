-- svc-jobs configuration: job templates and their ordered methods, job instances and their
-- steps (one per template method, with what is bound to it), joint lines and their nodes.
CREATE TABLE job_templates (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    remark TEXT NOT NULL,
    template_type TEXT NOT NULL,
    status TEXT NOT NULL,
    deploy_type TEXT NOT NULL,
    application_id TEXT NOT NULL,
    rollback_template_id TEXT,
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    mender TEXT,
    update_time TIMESTAMP NOT NULL
);
CREATE INDEX job_templates_application_id ON job_templates (application_id);

CREATE TABLE job_template_methods (
    template_id TEXT NOT NULL REFERENCES job_templates (id),
    sequence INTEGER NOT NULL,
    component_id TEXT NOT NULL,
    method_id TEXT NOT NULL,
    PRIMARY KEY (template_id, sequence)
);

CREATE TABLE job_instances (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    remark TEXT NOT NULL,
    status TEXT NOT NULL,
    env_id TEXT NOT NULL,
    application_id TEXT NOT NULL,
    product_line_id TEXT NOT NULL,
    module_id TEXT,
    job_template_id TEXT NOT NULL REFERENCES job_templates (id),
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    mender TEXT,
    update_time TIMESTAMP NOT NULL
);
CREATE INDEX job_instances_application_id ON job_instances (application_id);

CREATE TABLE instance_steps (
    instance_id TEXT NOT NULL REFERENCES job_instances (id),
    sequence INTEGER NOT NULL,
    component_id TEXT NOT NULL,
    method_id TEXT NOT NULL,
    cluster_id TEXT,
    bindings TEXT NOT NULL,
    PRIMARY KEY (instance_id, sequence)
);

CREATE TABLE joint_lines (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    remark TEXT NOT NULL,
    product_line_id TEXT NOT NULL,
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    mender TEXT,
    update_time TIMESTAMP NOT NULL
);

CREATE TABLE joint_line_nodes (
    joint_line_id TEXT NOT NULL REFERENCES joint_lines (id),
    sequence BIGINT NOT NULL,
    instance_id TEXT NOT NULL REFERENCES job_instances (id),
    parents TEXT NOT NULL,
    canvas_top DOUBLE PRECISION NOT NULL,
    canvas_left DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (joint_line_id, sequence)
);
