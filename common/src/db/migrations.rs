//! The migrations of a service: the embedded folders, PostgreSQL overrides, the versions each
//! backend records, and `shared_migrations!`, which declares a service's migrations and the test
//! that databases migrated before stay current.

use diesel_migrations::{EmbeddedMigrations, embed_migrations};

use super::{Backend, DbError};

/// The tables every service keeps in its own schema (`common/migrations/`: the audit trail of
/// `crate::audit`), run among each service's own migrations in the order of their versions.
const COMMON_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The migrations of one service: one folder (`migrations/`) used on both backends, and, where a
/// migration's SQL truly differs on PostgreSQL, an override folder (`migrations-postgres/`) whose
/// migration of the same name is used instead of the shared one on that backend; plus the common
/// tables every service has (`common/migrations/`). The versions recorded in
/// `__diesel_schema_migrations` are the folders' date prefixes, so the layout of the folders never
/// changes which migrations a database has had.
pub struct Migrations {
    shared: EmbeddedMigrations,
    postgres_overrides: Option<EmbeddedMigrations>,
    with_common: bool,
}

impl Migrations {
    /// Migrations whose SQL is the same on both backends: `Migrations::shared(embed_migrations!("migrations"))`.
    pub const fn shared(shared: EmbeddedMigrations) -> Migrations {
        Migrations {
            shared,
            postgres_overrides: None,
            with_common: true,
        }
    }

    /// Only the common tables (the tests of `crate::audit`).
    pub const fn common_only() -> Migrations {
        Migrations {
            shared: COMMON_MIGRATIONS,
            postgres_overrides: None,
            with_common: false,
        }
    }

    /// Shared migrations, some of which PostgreSQL replaces by the override folder's migration
    /// of the same name (each override must name a shared migration).
    pub const fn with_postgres_overrides(
        shared: EmbeddedMigrations,
        postgres_overrides: EmbeddedMigrations,
    ) -> Migrations {
        Migrations {
            shared,
            postgres_overrides: Some(postgres_overrides),
            with_common: true,
        }
    }

    /// The versions `backend` would record, in the order they run.
    pub fn versions(&self, backend: Backend) -> Result<Vec<String>, DbError> {
        fn names<DB: diesel::backend::Backend>(
            source: BackendMigrations<'_>,
        ) -> Result<Vec<String>, DbError> {
            let migrations = diesel::migration::MigrationSource::<DB>::migrations(&source)
                .map_err(|error| DbError::Migration(error.to_string()))?;
            let mut versions: Vec<String> = migrations
                .iter()
                .map(|migration| migration.name().version().to_string())
                .collect();
            versions.sort();
            Ok(versions)
        }
        match backend {
            Backend::Sqlite => names::<diesel::sqlite::Sqlite>(self.for_backend(backend)),
            Backend::Postgres => names::<diesel::pg::Pg>(self.for_backend(backend)),
        }
    }

    pub(super) fn for_backend(&self, backend: Backend) -> BackendMigrations<'_> {
        BackendMigrations {
            shared: &self.shared,
            common: self.with_common.then_some(&COMMON_MIGRATIONS),
            overrides: match backend {
                Backend::Sqlite => None,
                Backend::Postgres => self.postgres_overrides.as_ref(),
            },
        }
    }
}

/// Lends embedded migrations to the harness without giving them away: the service's and the
/// common ones in the order of their versions, with one backend's overrides put in place of the
/// shared migrations of the same version.
pub(super) struct BackendMigrations<'a> {
    shared: &'a EmbeddedMigrations,
    common: Option<&'a EmbeddedMigrations>,
    overrides: Option<&'a EmbeddedMigrations>,
}

impl<DB: diesel::backend::Backend> diesel::migration::MigrationSource<DB>
    for BackendMigrations<'_>
{
    fn migrations(
        &self,
    ) -> diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<DB>>>> {
        let mut migrations = diesel::migration::MigrationSource::<DB>::migrations(self.shared)?;
        if let Some(common) = self.common {
            migrations.extend(diesel::migration::MigrationSource::<DB>::migrations(
                common,
            )?);
            migrations.sort_by_key(|migration| migration.name().version().to_string());
        }
        let Some(overrides) = self.overrides else {
            return Ok(migrations);
        };
        for replacement in diesel::migration::MigrationSource::<DB>::migrations(overrides)? {
            let version = replacement.name().version().to_string();
            let Some(slot) = migrations
                .iter_mut()
                .find(|migration| migration.name().version().to_string() == version)
            else {
                return Err(format!(
                    "the postgres override {} has no shared migration of the same name",
                    replacement.name()
                )
                .into());
            };
            *slot = replacement;
        }
        Ok(migrations)
    }
}

/// Declares, in a service's `db` module, `pub static MIGRATIONS` (the crate's `migrations/`
/// folder, the same SQL on SQLite and PostgreSQL) and the test that a database which recorded the
/// listed versions (under an earlier folder layout, or before later migrations were added) runs
/// only the later ones: `common::shared_migrations!("svc-x", recorded: ["20261125000001"]);`.
/// The caller depends on `diesel_migrations`.
#[macro_export]
macro_rules! shared_migrations {
    ($service:literal, recorded: [$($version:literal),+ $(,)?]) => {
        #[doc = concat!(
            "The migrations of ",
            $service,
            ": `migrations/`, the same SQL on SQLite and PostgreSQL."
        )]
        pub static MIGRATIONS: $crate::db::Migrations =
            $crate::db::Migrations::shared(diesel_migrations::embed_migrations!("migrations"));

        #[cfg(test)]
        mod tests {
            /// The versions databases recorded before: they must stay the same, or those
            /// databases would migrate again.
            #[test]
            fn databases_migrated_before_stay_current() {
                $crate::db::testing::assert_recorded_versions_are_current(
                    &super::MIGRATIONS,
                    &[$($version),+],
                );
            }
        }
    };
}
