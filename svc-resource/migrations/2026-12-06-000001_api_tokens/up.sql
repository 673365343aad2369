-- API tokens (issue 20): a token is stored only as the hex SHA-256 of its secret; its roles are a
-- JSON array (capped by its owner's roles when used); deleting the row revokes it.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    roles TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    create_time TIMESTAMP NOT NULL,
    last_used TIMESTAMP NULL
);

CREATE UNIQUE INDEX api_tokens_token_hash ON api_tokens (token_hash);
CREATE UNIQUE INDEX api_tokens_username_name ON api_tokens (username, name);
