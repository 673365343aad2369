-- Login sessions: a user token is honoured only while its session row exists (SPEC section 8).
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    create_time TIMESTAMP NOT NULL
);

CREATE INDEX sessions_username ON sessions (username);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
