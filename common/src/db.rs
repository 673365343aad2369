//! The database layer: one code base over SQLite and PostgreSQL through a diesel
//! `MultiConnection`, an r2d2 pool, per-backend migrations and a test harness that runs the same
//! cases on both backends.
//!
//! The connection is opened by URL scheme here (not by the derived `establish`) so that the real
//! error reaches the operator. SQLite runs in WAL mode with a busy timeout and one in-process
//! writer at a time; PostgreSQL keeps each service in its own schema (`search_path`).

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use diesel::{
    Connection, PgConnection, RunQueryDsl, SqliteConnection, connection::SimpleConnection,
};
use diesel_migrations::MigrationHarness;

mod migrations;
mod queries;

pub use migrations::Migrations;

/// One connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Which backend a database runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Failures of the database layer, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database url {url:?} is not supported: use sqlite://PATH or postgres://...")]
    UnsupportedUrl { url: String },
    #[error("cannot open {target}: {message}")]
    Connect { target: String, message: String },
    #[error("cannot prepare {target}: {message}")]
    Prepare { target: String, message: String },
    #[error("no database connection available: {0}")]
    Pool(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database task stopped: {0}")]
    Task(String),
}

/// Where a database is: a SQLite file, or a PostgreSQL server and the schema of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    Sqlite { path: PathBuf },
    Postgres { url: String, schema: String },
}

impl DatabaseTarget {
    /// Chooses the backend by the URL's scheme.
    pub fn from_url(url: &str, schema: &str) -> Result<Self, DbError> {
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if rest.is_empty() || rest == ":memory:" {
                return Err(DbError::UnsupportedUrl {
                    url: url.to_owned(),
                });
            }
            return Ok(DatabaseTarget::Sqlite {
                path: PathBuf::from(rest),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseTarget::Postgres {
                url: url.to_owned(),
                schema: schema.to_owned(),
            });
        }
        Err(DbError::UnsupportedUrl {
            url: url.to_owned(),
        })
    }

    /// A description safe for logs (no password).
    pub fn describe(&self) -> String {
        match self {
            DatabaseTarget::Sqlite { path } => format!("sqlite file {}", path.display()),
            DatabaseTarget::Postgres { url, schema } => {
                format!("postgres {} schema {schema}", redact_url_password(url))
            }
        }
    }

    fn backend(&self) -> Backend {
        match self {
            DatabaseTarget::Sqlite { .. } => Backend::Sqlite,
            DatabaseTarget::Postgres { .. } => Backend::Postgres,
        }
    }

    fn establish(&self) -> Result<DbConnection, DbError> {
        match self {
            DatabaseTarget::Sqlite { path } => {
                if let Some(parent) = path
                    .parent()
                    .filter(|parent| !parent.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(parent).map_err(|error| DbError::Connect {
                        target: self.describe(),
                        message: format!("cannot create directory {}: {error}", parent.display()),
                    })?;
                }
                let path_text = path.to_string_lossy();
                let mut connection =
                    SqliteConnection::establish(&path_text).map_err(|error| DbError::Connect {
                        target: self.describe(),
                        message: error.to_string(),
                    })?;
                connection
                    .batch_execute(
                        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 15000; \
                         PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                    )
                    .map_err(|error| DbError::Prepare {
                        target: self.describe(),
                        message: error.to_string(),
                    })?;
                Ok(DbConnection::Sqlite(connection))
            }
            DatabaseTarget::Postgres { url, schema } => {
                let mut connection =
                    PgConnection::establish(url).map_err(|error| DbError::Connect {
                        target: self.describe(),
                        message: error.to_string(),
                    })?;
                connection
                    .batch_execute(&format!("SET search_path TO \"{schema}\""))
                    .map_err(|error| DbError::Prepare {
                        target: self.describe(),
                        message: error.to_string(),
                    })?;
                Ok(DbConnection::Pg(connection))
            }
        }
    }
}

/// A `LIKE` pattern (escape character `\`) matching `text` anywhere, with `%`, `_` and `\`
/// taken literally: `.like(contains_pattern(text)).escape('\\')`.
pub fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

struct ConnectionManager {
    target: DatabaseTarget,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = DbError;

    fn connect(&self) -> Result<DbConnection, DbError> {
        self.target.establish()
    }

    fn is_valid(&self, connection: &mut DbConnection) -> Result<(), DbError> {
        connection.batch_execute("SELECT 1").map_err(DbError::Query)
    }

    fn has_broken(&self, _connection: &mut DbConnection) -> bool {
        false
    }
}

/// A pooled database of one service.
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<ConnectionManager>,
    target: DatabaseTarget,
    sqlite_writer: Option<Arc<Mutex<()>>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Database")
            .field("target", &self.target.describe())
            .finish()
    }
}

impl Database {
    /// Opens a pool on `url` (PostgreSQL: inside `schema`). One connection is opened at once so a
    /// wrong URL, password or path fails here with the server's own words.
    pub fn connect(url: &str, schema: &str) -> Result<Database, DbError> {
        let target = DatabaseTarget::from_url(url, schema)?;
        let mut first = target.establish()?;
        if let DbConnection::Pg(connection) = &mut first {
            create_schema(connection, schema).map_err(|error| DbError::Prepare {
                target: target.describe(),
                message: error.to_string(),
            })?;
        }
        let max_size = match target.backend() {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        };
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(15))
            .build_unchecked(ConnectionManager {
                target: target.clone(),
            });
        let sqlite_writer = (target.backend() == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Database {
            pool,
            target,
            sqlite_writer,
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.target.backend()
    }

    /// A log-safe description of where the data is.
    pub fn describe(&self) -> String {
        self.target.describe()
    }

    /// Applies pending migrations; PostgreSQL replicas take an advisory lock so they do not race.
    /// Answers the names of the migrations applied.
    pub fn migrate(&self, migrations: &Migrations) -> Result<Vec<String>, DbError> {
        let mut connection = self
            .pool
            .get()
            .map_err(|error| DbError::Pool(error.to_string()))?;
        let applied = match &mut *connection {
            DbConnection::Sqlite(connection) => connection
                .run_pending_migrations(migrations.for_backend(Backend::Sqlite))
                .map(|versions| versions.iter().map(ToString::to_string).collect())
                .map_err(|error| DbError::Migration(error.to_string()))?,
            DbConnection::Pg(connection) => {
                let lock_key = advisory_lock_key(&self.target);
                diesel::sql_query(format!("SELECT pg_advisory_lock({lock_key})"))
                    .execute(connection)?;
                let outcome = connection
                    .run_pending_migrations(migrations.for_backend(Backend::Postgres))
                    .map(|versions| versions.iter().map(ToString::to_string).collect())
                    .map_err(|error| DbError::Migration(error.to_string()));
                diesel::sql_query(format!("SELECT pg_advisory_unlock({lock_key})"))
                    .execute(connection)?;
                outcome?
            }
        };
        Ok(applied)
    }

    /// Runs `work` on a pooled connection on the blocking thread pool (reads and single statements).
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut connection = pool
                .get()
                .map_err(|error| E::from(DbError::Pool(error.to_string())))?;
            work(&mut connection)
        })
        .await
        .map_err(|error| E::from(DbError::Task(error.to_string())))?
    }

    /// Runs `work` in one transaction (writes): all of it lands or none. On SQLite, writers of this
    /// process take turns so read-then-write transactions never meet a busy snapshot.
    pub async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        let writer = self.sqlite_writer.clone();
        tokio::task::spawn_blocking(move || {
            let _turn = writer
                .as_ref()
                .map(|lock| lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
            let mut pooled = pool
                .get()
                .map_err(|error| E::from(DbError::Pool(error.to_string())))?;
            let connection: &mut DbConnection = &mut pooled;
            connection.transaction(work)
        })
        .await
        .map_err(|error| E::from(DbError::Task(error.to_string())))?
    }

    /// Checks that a connection can be had and answers a trivial query (readiness).
    pub async fn ping(&self) -> Result<(), DbError> {
        self.run(|connection| connection.batch_execute("SELECT 1").map_err(DbError::Query))
            .await
    }
}

/// Runs `insert` in a savepoint and answers whether it wrote its row: `false` when the key is
/// taken, also by a transaction that committed after this one looked. (On PostgreSQL two
/// transactions can both find no row and both insert; the later insert waits for the earlier
/// commit, then fails on the unique key.) The surrounding transaction stays usable, and its next
/// query sees the other row, so a caller that looked first can fall back to updating that row.
pub fn insert_unless_taken<T>(
    connection: &mut DbConnection,
    insert: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<T>,
) -> diesel::QueryResult<bool> {
    match connection.transaction(insert) {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Writes a row by key: `insert` when `exists` says no row has the key yet and the insert wins,
/// else `update` — also when a concurrent transaction inserted the key after the caller looked
/// (see [`insert_unless_taken`]).
pub fn upsert<I, U>(
    connection: &mut DbConnection,
    exists: bool,
    insert: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<I>,
    update: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<U>,
) -> diesel::QueryResult<()> {
    if !exists && insert_unless_taken(connection, insert)? {
        return Ok(());
    }
    update(connection).map(|_| ())
}

/// [`upsert`] into the diesel `table`: inserts `values` when `exists` says no row has the key
/// yet, else sets `changes` on the row whose primary key is `key`. Needs diesel's `QueryDsl`
/// and `RunQueryDsl` in scope.
#[macro_export]
macro_rules! upsert_into {
    ($connection:expr, $exists:expr, $table:path, $values:expr, $key:expr, $changes:expr $(,)?) => {
        $crate::db::upsert(
            $connection,
            $exists,
            |connection| {
                ::diesel::insert_into($table)
                    .values($values)
                    .execute(connection)
            },
            |connection| {
                ::diesel::update($table.find($key))
                    .set($changes)
                    .execute(connection)
            },
        )
    };
}

fn create_schema(connection: &mut PgConnection, schema: &str) -> Result<(), diesel::result::Error> {
    let lock_key = advisory_lock_key_for_schema(schema);
    diesel::sql_query(format!("SELECT pg_advisory_lock({lock_key})")).execute(connection)?;
    let created = connection.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""));
    diesel::sql_query(format!("SELECT pg_advisory_unlock({lock_key})")).execute(connection)?;
    created?;
    connection.batch_execute(&format!("SET search_path TO \"{schema}\""))
}

fn advisory_lock_key(target: &DatabaseTarget) -> i64 {
    match target {
        DatabaseTarget::Postgres { schema, .. } => advisory_lock_key_for_schema(schema),
        DatabaseTarget::Sqlite { .. } => 0,
    }
}

/// A stable 63-bit key per schema (FNV-1a), so each service's migrations lock only each other.
fn advisory_lock_key_for_schema(schema: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in b"tad-migrations:".iter().chain(schema.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash >> 1) as i64
}

/// Harness for repository tests: a fresh SQLite file in a temp dir, or a fresh PostgreSQL
/// schema on `TEST_DATABASE_URL` (dropped afterwards).
pub mod testing {
    use super::*;

    /// A database that exists for one test.
    pub struct TestDatabase {
        pub database: Database,
        _dir: Option<tempfile::TempDir>,
        postgres: Option<(String, String)>,
    }

    impl TestDatabase {
        /// A migrated SQLite database in a new temp dir.
        pub fn sqlite(migrations: &Migrations) -> TestDatabase {
            let dir = tempfile::tempdir().expect("create temp dir for test database");
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            let database = Database::connect(&url, "unused").expect("open test sqlite database");
            database
                .migrate(migrations)
                .expect("migrate test sqlite database");
            TestDatabase {
                database,
                _dir: Some(dir),
                postgres: None,
            }
        }

        /// A migrated fresh schema on `TEST_DATABASE_URL`, or `None` when it is unset.
        pub fn postgres(migrations: &Migrations) -> Option<TestDatabase> {
            let url = std::env::var("TEST_DATABASE_URL")
                .ok()
                .filter(|url| !url.is_empty())?;
            let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
            let database = Database::connect(&url, &schema).expect("open TEST_DATABASE_URL");
            database
                .migrate(migrations)
                .expect("migrate test postgres schema");
            Some(TestDatabase {
                database,
                _dir: None,
                postgres: Some((url, schema)),
            })
        }
    }

    /// Checks that `migrations` embed the `pinned` versions first on both backends, and that a
    /// database which recorded them (under the earlier folder layout) runs only the later ones.
    /// On SQLite always, on PostgreSQL when `TEST_DATABASE_URL` is set.
    pub fn assert_recorded_versions_are_current(migrations: &Migrations, pinned: &[&str]) {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let versions = migrations
                .versions(backend)
                .expect("list embedded migrations");
            assert_eq!(
                versions.iter().take(pinned.len()).collect::<Vec<_>>(),
                pinned,
                "the embedded migration versions on {backend:?} changed: a database migrated \
                 before would run a migration again or miss one"
            );
        }
        let dir = tempfile::tempdir().expect("create temp dir for test database");
        let url = format!("sqlite://{}", dir.path().join("old.db").display());
        let database = Database::connect(&url, "unused").expect("open test sqlite database");
        assert_current_once_recorded(&database, migrations, pinned);
        if let Some(url) = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|url| !url.is_empty())
        {
            let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
            let database = Database::connect(&url, &schema).expect("open TEST_DATABASE_URL");
            assert_current_once_recorded(&database, migrations, pinned);
            drop(database);
            drop_postgres_schema(&url, &schema);
        }
    }

    /// Records `pinned` as diesel would have; only the later migrations may then be pending.
    fn assert_current_once_recorded(database: &Database, migrations: &Migrations, pinned: &[&str]) {
        let mut connection = database.pool.get().expect("test database connection");
        let mut statements = vec![
            "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, \
             run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
                .to_owned(),
        ];
        statements.extend(pinned.iter().map(|version| {
            format!("INSERT INTO __diesel_schema_migrations (version) VALUES ('{version}')")
        }));
        for statement in statements {
            match &mut *connection {
                DbConnection::Sqlite(connection) => connection.batch_execute(&statement),
                DbConnection::Pg(connection) => connection.batch_execute(&statement),
            }
            .expect("record the old migration versions");
        }
        let later: Vec<String> = migrations
            .versions(database.backend())
            .expect("list embedded migrations")
            .into_iter()
            .skip(pinned.len())
            .collect();
        fn versions<DB: diesel::backend::Backend>(
            pending: Vec<Box<dyn diesel::migration::Migration<DB> + '_>>,
        ) -> Vec<String> {
            pending
                .iter()
                .map(|m| m.name().version().to_string())
                .collect()
        }
        let pending = match &mut *connection {
            DbConnection::Sqlite(connection) => connection
                .pending_migrations(migrations.for_backend(Backend::Sqlite))
                .map(versions),
            DbConnection::Pg(connection) => connection
                .pending_migrations(migrations.for_backend(Backend::Postgres))
                .map(versions),
        }
        .expect("list pending migrations");
        assert_eq!(
            pending, later,
            "a database that recorded {pinned:?} must run only the later migrations"
        );
    }

    /// Drops a schema a test created on a PostgreSQL server (best effort).
    pub fn drop_postgres_schema(url: &str, schema: &str) {
        if let Ok(mut connection) = PgConnection::establish(url) {
            let _ =
                connection.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
        }
    }

    impl Drop for TestDatabase {
        fn drop(&mut self) {
            if let Some((url, schema)) = &self.postgres {
                drop_postgres_schema(url, schema);
            }
        }
    }

    /// Runs each listed `async fn case(Database)` on SQLite, and on PostgreSQL when
    /// `TEST_DATABASE_URL` is set: `database_test_suite!(MIGRATIONS; case_a, case_b);`
    #[macro_export]
    macro_rules! database_test_suite {
        ($migrations:expr; $($case:ident),+ $(,)?) => {
            mod sqlite {
                #[allow(unused_imports)]
                use super::*;
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        let test_database = $crate::db::testing::TestDatabase::sqlite(&$migrations);
                        super::$case(test_database.database.clone()).await;
                    }
                )+
            }
            mod postgres {
                #[allow(unused_imports)]
                use super::*;
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        let Some(test_database) = $crate::db::testing::TestDatabase::postgres(&$migrations) else {
                            eprintln!("skipped on postgres: TEST_DATABASE_URL is not set");
                            return;
                        };
                        super::$case(test_database.database.clone()).await;
                    }
                )+
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shared migration and a PostgreSQL override of it (`common/testdata`).
    static PROBE_MIGRATIONS: Migrations = Migrations::with_postgres_overrides(
        diesel_migrations::embed_migrations!("testdata/migrations"),
        diesel_migrations::embed_migrations!("testdata/migrations-postgres"),
    );

    fn table_exists(database: &Database, table: &str) -> bool {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            count: i64,
        }
        let mut connection = database.pool.get().expect("connection");
        let count = match &mut *connection {
            DbConnection::Sqlite(connection) => diesel::sql_query(format!(
                "SELECT COUNT(*) AS count FROM sqlite_master WHERE name = '{table}'"
            ))
            .get_result::<Count>(connection),
            DbConnection::Pg(connection) => diesel::sql_query(format!(
                "SELECT COUNT(*) AS count FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '{table}'"
            ))
            .get_result::<Count>(connection),
        };
        count.expect("count tables").count == 1
    }

    #[test]
    fn a_postgres_override_replaces_the_shared_migration_on_postgres_only() {
        // The probe's own migration, then the common tables every service has (the audit trail).
        for backend in [Backend::Sqlite, Backend::Postgres] {
            assert_eq!(
                PROBE_MIGRATIONS.versions(backend).expect("versions"),
                ["20000101000001", "20261206000009", "20261206000010"]
            );
        }
        let test_database = testing::TestDatabase::sqlite(&PROBE_MIGRATIONS);
        assert!(table_exists(&test_database.database, "probe_shared"));
        assert!(!table_exists(&test_database.database, "probe_postgres"));
        if let Some(test_database) = testing::TestDatabase::postgres(&PROBE_MIGRATIONS) {
            assert!(table_exists(&test_database.database, "probe_postgres"));
            assert!(!table_exists(&test_database.database, "probe_shared"));
        }
    }

    #[test]
    fn backend_is_chosen_by_scheme() {
        assert_eq!(
            DatabaseTarget::from_url("sqlite:///tmp/a.db", "s").expect("sqlite"),
            DatabaseTarget::Sqlite {
                path: PathBuf::from("/tmp/a.db")
            }
        );
        assert!(matches!(
            DatabaseTarget::from_url("postgres://u@h/db", "resource").expect("pg"),
            DatabaseTarget::Postgres { .. }
        ));
        assert!(DatabaseTarget::from_url("mysql://x", "s").is_err());
        assert!(DatabaseTarget::from_url("sqlite://:memory:", "s").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url_password("postgres://tad:hunter2@db:5432/tad"),
            "postgres://tad:***@db:5432/tad"
        );
        assert_eq!(
            redact_url_password("postgres://tad@db/tad"),
            "postgres://tad@db/tad"
        );
    }

    #[test]
    fn a_bad_postgres_url_shows_the_real_error() {
        let error = Database::connect("postgres://nobody@127.0.0.1:1/none", "x")
            .expect_err("nothing listens on port 1");
        let text = error.to_string();
        assert!(
            text.contains("127.0.0.1") && text.contains("cannot open"),
            "{text}"
        );
    }

    #[test]
    fn an_unwritable_sqlite_path_shows_the_real_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").expect("write");
        let url = format!("sqlite://{}/db.sqlite", blocker.display());
        let error = Database::connect(&url, "x").expect_err("parent is a file");
        assert!(
            error.to_string().contains("cannot create directory"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn sqlite_runs_queries_and_transactions() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = Database::connect(&format!("sqlite://{}/t.db", dir.path().display()), "x")
            .expect("open");
        database.ping().await.expect("ping");
        database
            .transaction(|connection| {
                connection.batch_execute("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');")?;
                Ok::<_, DbError>(())
            })
            .await
            .expect("write");
        let rolled_back: Result<(), DbError> = database
            .transaction(|connection| {
                connection.batch_execute("INSERT INTO t VALUES ('b');")?;
                Err(DbError::Task("abort".into()))
            })
            .await;
        assert!(rolled_back.is_err());
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let count = database
            .run(|connection| {
                diesel::sql_query("SELECT COUNT(*) AS n FROM t")
                    .get_result::<Count>(connection)
                    .map_err(DbError::Query)
            })
            .await
            .expect("count");
        assert_eq!(count.n, 1, "the failed transaction left nothing");
    }
}
