//! svc-artifact storage: schema, migrations and queries.

pub mod models;
pub mod schema;

common::shared_migrations!(
    "svc-artifact",
    recorded: [
        "20261126000001",
    ]
);
