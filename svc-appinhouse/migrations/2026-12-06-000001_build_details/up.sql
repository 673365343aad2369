-- svc-appinhouse: what a hosted build file says about itself (size, version code, minimum OS,
-- label, icon) and install counts, one row per build beside `builds` (whose row is full); and
-- the protection of apps whose download page asks for a password or a signed link.
CREATE TABLE build_details (
    app TEXT NOT NULL,
    platform TEXT NOT NULL,
    version TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    version_code TEXT NOT NULL,
    min_os TEXT NOT NULL,
    label TEXT NOT NULL,
    icon_key TEXT NOT NULL,
    installs BIGINT NOT NULL,
    PRIMARY KEY (app, platform, version)
);

CREATE TABLE app_access (
    app TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    epoch TEXT NOT NULL,
    failed_attempts BIGINT NOT NULL,
    attempts_since TIMESTAMP NOT NULL,
    update_time TIMESTAMP NOT NULL
);
