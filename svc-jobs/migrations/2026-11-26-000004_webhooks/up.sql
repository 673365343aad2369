-- svc-jobs webhooks added by admins (beside TAD_WEBHOOK_URLS): each gets a signed JSON post when
-- a run finishes.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL UNIQUE,
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL
);
