//! Startup checks of the split service roles: a replica names its database (the default SQLite
//! file would split it off from the others), and every live replica of a service uses the same
//! database, checked through Redis where one replica's choice is kept while it lives.

use std::time::Duration;

use anyhow::bail;
use common::{
    cache::SharedCache,
    config::{ServiceConfig, keys::KeySpec},
};
use serde::{Deserialize, Serialize};

/// How long a replica's claim on its service's database outlives its last renewal.
const CLAIM_TTL: Duration = Duration::from_secs(60);
/// How often a live replica renews its claim.
const CLAIM_RENEWAL: Duration = Duration::from_secs(20);

/// Refuses a split role whose database URL is not configured.
pub fn require_database_url(
    role: &str,
    service: &ServiceConfig,
    key: &KeySpec,
) -> anyhow::Result<()> {
    if service.database_url_configured {
        return Ok(());
    }
    bail!(
        "{}: `tad {role}` needs its database URL (`postgres://...`, or `sqlite://PATH` for a \
         single replica): every replica of a service must share one database, and the default \
         SQLite file in the data directory would split this one off (only `tad serve` uses it)",
        key.label()
    )
}

/// Which database a replica works on, as the other replicas compare it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum DatabaseIdentity {
    /// A SQLite file: the same only on the same machine and path.
    Sqlite { machine: String, file: String },
    /// A PostgreSQL database and schema; `server` (host and port) is compared loosely, as one
    /// server may be reached under several names.
    Postgres {
        server: String,
        database: String,
        schema: String,
    },
}

impl DatabaseIdentity {
    /// The identity of `service`'s configured database on this machine.
    pub fn of(service: &ServiceConfig) -> DatabaseIdentity {
        let url = &service.database_url;
        match url.strip_prefix("sqlite://") {
            Some(path) => DatabaseIdentity::Sqlite {
                machine: machine_name(),
                file: std::fs::canonicalize(path)
                    .map(|path| path.display().to_string())
                    .unwrap_or_else(|_| path.to_owned()),
            },
            None => {
                let parsed = url::Url::parse(url).ok();
                let server = parsed
                    .as_ref()
                    .map(|url| {
                        format!(
                            "{}:{}",
                            url.host_str().unwrap_or("localhost"),
                            url.port().unwrap_or(5432)
                        )
                    })
                    .unwrap_or_default();
                let database = parsed
                    .as_ref()
                    .map(|url| url.path().trim_start_matches('/').to_owned())
                    .unwrap_or_default();
                DatabaseIdentity::Postgres {
                    server,
                    database,
                    schema: service.database_schema.clone(),
                }
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            DatabaseIdentity::Sqlite { machine, file } => {
                format!("the SQLite file {file} on {machine}")
            }
            DatabaseIdentity::Postgres {
                server,
                database,
                schema,
            } => format!("PostgreSQL database {database:?} schema {schema:?} at {server}"),
        }
    }

    /// Whether `self` and `other` are surely different databases.
    fn differs_from(&self, other: &DatabaseIdentity) -> bool {
        match (self, other) {
            (
                DatabaseIdentity::Postgres {
                    database, schema, ..
                },
                DatabaseIdentity::Postgres {
                    database: other_database,
                    schema: other_schema,
                    ..
                },
            ) => database != other_database || schema != other_schema,
            _ => self != other,
        }
    }
}

fn machine_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "this machine".to_owned())
}

fn claim_key(service: &str) -> String {
    format!("database-of:{service}")
}

/// Checks that the live replicas of `service` (those whose claim in the shared cache has not
/// expired) use the same database as this one, then keeps this replica's claim alive. `key`
/// names the setting at fault.
pub async fn claim_database(
    cache: SharedCache,
    service: &'static str,
    ours: DatabaseIdentity,
    key: &KeySpec,
) -> anyhow::Result<()> {
    let cache_key = claim_key(service);
    if let Some(theirs) = cache.get(&cache_key).await? {
        // A claim that does not parse was written by another version: it is replaced.
        if let Ok(theirs) = serde_json::from_slice::<DatabaseIdentity>(&theirs) {
            if theirs.differs_from(&ours) {
                bail!(
                    "{}: other `tad {service}` replicas use {}, this one {}: every replica of a \
                     service must share one database (their claim expires {} s after the last \
                     of them stops)",
                    key.label(),
                    theirs.describe(),
                    ours.describe(),
                    CLAIM_TTL.as_secs()
                );
            }
            if theirs != ours {
                tracing::warn!(ours = %ours.describe(), theirs = %theirs.describe(), "{service} replicas reach the same database under different server names");
            }
        }
    }
    let claim = serde_json::to_vec(&ours)?;
    cache.set(&cache_key, &claim, CLAIM_TTL).await?;
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(CLAIM_RENEWAL).await;
            if let Err(error) = cache.set(&cache_key, &claim, CLAIM_TTL).await {
                tracing::warn!(%error, service, "cannot renew this replica's database claim");
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(url: &str, schema: &str) -> ServiceConfig {
        ServiceConfig {
            database_url: url.to_owned(),
            database_url_configured: true,
            database_schema: schema.to_owned(),
            listen: "127.0.0.1:1".parse().expect("addr"),
            addr: "http://127.0.0.1:1".to_owned(),
            addrs: vec!["http://127.0.0.1:1".to_owned()],
        }
    }

    #[test]
    fn identities_tell_sqlite_from_postgres_and_schemas_apart() {
        let postgres = DatabaseIdentity::of(&service("postgres://u:p@db:5432/tad", "jobs"));
        assert_eq!(
            postgres,
            DatabaseIdentity::Postgres {
                server: "db:5432".to_owned(),
                database: "tad".to_owned(),
                schema: "jobs".to_owned()
            }
        );
        let elsewhere = DatabaseIdentity::of(&service("postgres://10.0.0.5/tad", "jobs"));
        assert!(
            !postgres.differs_from(&elsewhere),
            "same database, other name"
        );
        let other_schema = DatabaseIdentity::of(&service("postgres://db/tad", "jobs2"));
        assert!(postgres.differs_from(&other_schema));
        let sqlite = DatabaseIdentity::of(&service("sqlite:///tmp/nowhere/jobs.db", "jobs"));
        assert!(postgres.differs_from(&sqlite) && sqlite.differs_from(&postgres));
        assert!(!postgres.describe().contains("u:p"), "no credentials");
    }

    #[test]
    fn a_default_database_url_is_refused_naming_the_key() {
        let mut defaulted = service("sqlite:///data/jobs.db", "jobs");
        defaulted.database_url_configured = false;
        let key = common::config::keys::JOBS_DATABASE_URL;
        let error = require_database_url("jobs", &defaulted, &key).expect_err("refused");
        assert!(
            error.to_string().contains("TAD_JOBS_DATABASE_URL"),
            "{error}"
        );
        require_database_url("jobs", &service("sqlite:///data/jobs.db", "jobs"), &key)
            .expect("a configured URL");
    }

    #[tokio::test]
    async fn a_replica_on_another_database_is_refused_while_the_first_lives() {
        let cache: SharedCache = std::sync::Arc::new(common::cache::InMemoryCache::new());
        let key = common::config::keys::JOBS_DATABASE_URL;
        let postgres = DatabaseIdentity::of(&service("postgres://db/tad", "jobs"));
        claim_database(cache.clone(), "jobs", postgres.clone(), &key)
            .await
            .expect("first replica");
        claim_database(cache.clone(), "jobs", postgres, &key)
            .await
            .expect("a second replica on the same database");
        let sqlite = DatabaseIdentity::of(&service("sqlite:///tmp/jobs.db", "jobs"));
        let error = claim_database(cache, "jobs", sqlite, &key)
            .await
            .expect_err("a replica on its own SQLite file");
        let message = error.to_string();
        assert!(
            message.contains("TAD_JOBS_DATABASE_URL") && message.contains("PostgreSQL"),
            "{message}"
        );
    }
}
