//! svc-resource storage: schema, migrations and queries.

pub mod models;
pub mod schema;

common::shared_migrations!(
    "svc-resource",
    recorded: [
        "20261125000001",
        "20261125000002",
        "20261203000001",
        "20261204000001",
    ]
);
