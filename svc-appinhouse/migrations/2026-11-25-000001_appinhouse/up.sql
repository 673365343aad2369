-- svc-appinhouse: apps, builds per platform (with their OTA plist), extra downloads of a build.
CREATE TABLE apps (
    name TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    alias TEXT NOT NULL,
    position BIGINT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    update_time TIMESTAMP NOT NULL
);
CREATE INDEX apps_position ON apps (position);

CREATE TABLE builds (
    app TEXT NOT NULL,
    platform TEXT NOT NULL,
    version TEXT NOT NULL,
    build_time TIMESTAMP NOT NULL,
    given_offset_minutes INTEGER NOT NULL,
    description TEXT NOT NULL,
    url TEXT NOT NULL,
    software_url TEXT NOT NULL,
    bundle_identifier TEXT NOT NULL,
    title TEXT NOT NULL,
    full_size_image TEXT NOT NULL,
    display_image TEXT NOT NULL,
    plist TEXT NOT NULL,
    hosted_key TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    update_time TIMESTAMP NOT NULL,
    PRIMARY KEY (app, platform, version)
);
CREATE INDEX builds_newest ON builds (app, platform, build_time);

CREATE TABLE build_extends (
    app TEXT NOT NULL,
    platform TEXT NOT NULL,
    version TEXT NOT NULL,
    extend_key TEXT NOT NULL,
    extend_name TEXT NOT NULL,
    software_url TEXT NOT NULL,
    plist TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    PRIMARY KEY (app, platform, version, extend_key)
);
