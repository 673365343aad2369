-- Governance of an environment (issue 20): whether runs on it need an approval, the deploy
-- windows (a JSON array of five-field cron texts, read on the wall clock of window_timezone)
-- and a freeze (UTC) an approved run must respect, and whether a run approved outside them
-- waits for the next window ('wait') or is refused ('refuse'). No row: not protected.
CREATE TABLE env_governance (
    env_id TEXT PRIMARY KEY NOT NULL,
    protected BOOLEAN NOT NULL,
    deploy_windows TEXT NOT NULL,
    window_timezone TEXT NOT NULL,
    frozen_until TIMESTAMP NULL,
    outside_window TEXT NOT NULL,
    mender TEXT NOT NULL,
    update_time TIMESTAMP NOT NULL
);
