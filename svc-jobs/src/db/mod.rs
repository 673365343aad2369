//! svc-jobs storage: schema, migrations and queries.

pub mod models;
pub mod schema;

common::shared_migrations!(
    "svc-jobs",
    recorded: [
        "20261125000001",
        "20261125000002",
        "20261126000003",
        "20261126000004",
        "20261126000005",
        "20261205000001",
        "20261205000002",
    ]
);
