-- svc-resource catalog: users, product lines, applications, modules, environments, cluster types.
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    roles TEXT NOT NULL,
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL
);

CREATE TABLE product_lines (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    mender TEXT NOT NULL,
    update_time TIMESTAMP NOT NULL
);

CREATE TABLE applications (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    product_line_id TEXT NOT NULL REFERENCES product_lines (id),
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    mender TEXT NOT NULL,
    update_time TIMESTAMP NOT NULL
);
CREATE INDEX applications_product_line_id ON applications (product_line_id);

CREATE TABLE modules (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    mender TEXT NOT NULL,
    update_time TIMESTAMP NOT NULL
);
CREATE INDEX modules_application_id ON modules (application_id);

CREATE TABLE envs (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    remark TEXT NOT NULL,
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    mender TEXT NOT NULL,
    update_time TIMESTAMP NOT NULL
);

CREATE TABLE cluster_types (
    type_key TEXT PRIMARY KEY NOT NULL,
    type_value TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL
);
