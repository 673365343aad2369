-- svc-jobs idempotency keys of the requests that start work (6.1, 6.2, 2.1, retry, rollback): a
-- request repeated with the same key by the same caller on the same route answers the execution
-- the first one started. Written in the transaction that claims that execution; rows older than
-- a day are deleted when a key is stored.
CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    route TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    PRIMARY KEY (caller, route, idempotency_key)
);
CREATE INDEX idempotency_keys_by_time ON idempotency_keys (create_time);
