-- The service's audit trail (issue 20, `common::audit`): append-only events chained by SHA-256, and the head of
-- the chain (one row: the last sequence number and hash), which appends update first.
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY NOT NULL,
    time_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    app_id TEXT,
    env_id TEXT,
    request_id TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    reason TEXT,
    changes TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE INDEX audit_events_time ON audit_events (time_ms);
CREATE INDEX audit_events_actor ON audit_events (actor);
CREATE INDEX audit_events_object ON audit_events (object_kind, object_id);
CREATE INDEX audit_events_app ON audit_events (app_id);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
