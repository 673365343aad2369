//! svc-jobs storage: schema, migrations and queries.

pub mod models;
pub mod schema;

use common::db::Migrations;
use diesel_migrations::embed_migrations;

/// The migrations of svc-jobs: `migrations/`, the same SQL on SQLite and PostgreSQL.
pub static MIGRATIONS: Migrations = Migrations::shared(embed_migrations!("migrations"));

#[cfg(test)]
mod tests {
    /// The versions databases recorded under the earlier layout (one folder per backend, the
    /// same names): they must stay the same, or those databases would migrate again.
    #[test]
    fn databases_migrated_before_stay_current() {
        common::db::testing::assert_recorded_versions_are_current(
            &super::MIGRATIONS,
            &[
                "20261125000001",
                "20261125000002",
                "20261126000003",
                "20261126000004",
                "20261126000005",
                "20261205000001",
                "20261205000002",
            ],
        );
    }
}
