-- svc-resource deployment resources: clusters of an application in an environment, hosts of a
-- product line in an environment (SSH credentials encrypted, host key pinned), and bindings.
CREATE TABLE clusters (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    remark TEXT NOT NULL,
    cluster_type TEXT NOT NULL,
    env_id TEXT NOT NULL REFERENCES envs (id),
    app_id TEXT NOT NULL REFERENCES applications (id),
    source TEXT NOT NULL,
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    mender TEXT NOT NULL,
    update_time TIMESTAMP NOT NULL
);
CREATE INDEX clusters_app_id ON clusters (app_id);
CREATE INDEX clusters_env_id ON clusters (env_id);

CREATE TABLE hosts (
    id TEXT PRIMARY KEY NOT NULL,
    host_ip TEXT NOT NULL,
    host_name TEXT NOT NULL,
    remark TEXT NOT NULL,
    ssh_port INTEGER NOT NULL,
    ssh_user TEXT NOT NULL,
    ssh_password_sealed TEXT,
    ssh_private_key_sealed TEXT,
    host_key_fingerprint TEXT,
    product_line_id TEXT NOT NULL REFERENCES product_lines (id),
    env_id TEXT NOT NULL REFERENCES envs (id),
    source TEXT NOT NULL,
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    mender TEXT NOT NULL,
    update_time TIMESTAMP NOT NULL,
    UNIQUE (env_id, host_ip)
);
CREATE INDEX hosts_product_line_id ON hosts (product_line_id);

CREATE TABLE cluster_hosts (
    cluster_id TEXT NOT NULL REFERENCES clusters (id),
    host_id TEXT NOT NULL REFERENCES hosts (id),
    create_time TIMESTAMP NOT NULL,
    PRIMARY KEY (cluster_id, host_id)
);
CREATE INDEX cluster_hosts_host_id ON cluster_hosts (host_id);
