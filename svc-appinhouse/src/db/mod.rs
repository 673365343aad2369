//! svc-appinhouse storage: schema, migrations and queries.

pub mod models;
pub mod schema;

common::shared_migrations!(
    "svc-appinhouse",
    recorded: [
        "20261125000001",
    ]
);
