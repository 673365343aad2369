-- svc-artifact: stored files, packages and versions, app-config templates, scripts, components.
CREATE TABLE stored_files (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    md5 TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    object_key TEXT NOT NULL,
    version_id TEXT NOT NULL,
    role TEXT NOT NULL,
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL
);
CREATE INDEX stored_files_version ON stored_files (version_id);

CREATE TABLE artifacts (
    id TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    UNIQUE (app_id, kind, name)
);

CREATE TABLE artifact_versions (
    id TEXT PRIMARY KEY NOT NULL,
    artifact_id TEXT NOT NULL REFERENCES artifacts (id),
    version TEXT NOT NULL,
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL
);
CREATE INDEX artifact_versions_artifact ON artifact_versions (artifact_id);

CREATE TABLE config_templates (
    file_id TEXT PRIMARY KEY NOT NULL,
    version_id TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    name TEXT NOT NULL,
    yml_file_id TEXT NOT NULL,
    schema_json TEXT NOT NULL
);

CREATE TABLE script_versions (
    id TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL,
    name TEXT NOT NULL,
    uploader TEXT NOT NULL,
    status TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    review_time TIMESTAMP
);
CREATE INDEX script_versions_app ON script_versions (app_id);

CREATE TABLE components (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    remark TEXT NOT NULL
);

CREATE TABLE methods (
    id TEXT PRIMARY KEY NOT NULL,
    component_id TEXT NOT NULL REFERENCES components (id),
    name TEXT NOT NULL,
    remark TEXT NOT NULL,
    builtin BOOLEAN NOT NULL
);

CREATE TABLE method_versions (
    id TEXT PRIMARY KEY NOT NULL,
    method_id TEXT NOT NULL REFERENCES methods (id),
    file_id TEXT NOT NULL,
    entrypoint TEXT NOT NULL,
    timeout_s INTEGER NOT NULL,
    params_json TEXT NOT NULL,
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL
);
CREATE INDEX method_versions_method ON method_versions (method_id);

-- The built-in component: it runs the step's bound scripts and nothing else.
INSERT INTO components (id, name, remark) VALUES ('custom', 'custom', '自定义脚本组件');
INSERT INTO methods (id, component_id, name, remark, builtin)
    VALUES ('cu1', 'custom', 'custom-script', '执行绑定的脚本', TRUE);
