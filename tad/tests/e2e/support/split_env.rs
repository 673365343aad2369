//! What `tad` processes started apart share: a JWT key, a credential key, a data directory, and
//! PostgreSQL and Redis when `TEST_DATABASE_URL` / `TEST_REDIS_URL` are set (else SQLite files
//! and each process its own cache); and the first of them, `tad resource`.

use std::process::Command;

use super::{TadProcess, tad_command};

/// The shared settings of one test's `tad` processes.
pub struct ProcessEnv {
    pub data_dir: tempfile::TempDir,
    jwt_secret: String,
    credential_key: String,
    /// Each test its own key space, so failed-login counters of one test never lock out another.
    redis_prefix: String,
    pub postgres: Option<String>,
    pub redis: Option<String>,
    /// The resource service's PostgreSQL schema; other services add a suffix to it.
    pub schema: String,
}

fn set_variable(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|url| !url.is_empty())
}

/// Whether PostgreSQL and Redis are given (`TEST_DATABASE_URL`, `TEST_REDIS_URL`: the CI's
/// second pass); when not, says that the calling test skips.
pub fn postgres_and_redis_given() -> bool {
    let given =
        set_variable("TEST_DATABASE_URL").is_some() && set_variable("TEST_REDIS_URL").is_some();
    if !given {
        eprintln!("skipped: needs TEST_DATABASE_URL and TEST_REDIS_URL (the CI's second pass)");
    }
    given
}

impl ProcessEnv {
    pub fn new() -> ProcessEnv {
        ProcessEnv {
            data_dir: tempfile::tempdir().expect("temp dir"),
            jwt_secret: format!("{}{}", common::ids::new_id(), common::ids::new_id()),
            credential_key: format!("{}{}", common::ids::new_id(), common::ids::new_id()),
            redis_prefix: format!("tad-test-{}:", common::ids::new_id()),
            postgres: set_variable("TEST_DATABASE_URL"),
            redis: set_variable("TEST_REDIS_URL"),
            schema: format!("e2e_{}", common::ids::new_id()),
        }
    }

    /// PostgreSQL when set, else the SQLite file `sqlite_file` in the data directory.
    pub fn database_url(&self, sqlite_file: &str) -> String {
        match &self.postgres {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}",
                self.data_dir.path().join(sqlite_file).display()
            ),
        }
    }

    /// Gives `command` the shared keys, data directory and Redis.
    pub fn configure(&self, command: &mut Command) {
        command
            .env("TAD_JWT_SECRET", &self.jwt_secret)
            .env("TAD_CREDENTIAL_KEY", &self.credential_key)
            .arg("--data-dir")
            .arg(self.data_dir.path());
        if let Some(url) = &self.redis {
            command
                .env("TAD_REDIS_URL", url)
                .env("TAD_REDIS_PREFIX", &self.redis_prefix);
        }
    }

    /// Starts `tad resource` with `admin_password`, set up by `configure`; answers it and the
    /// address it listens on.
    pub fn start_resource(
        &self,
        admin_password: &str,
        configure: impl Fn(&mut Command),
    ) -> (TadProcess, String) {
        let mut command = tad_command();
        command
            .args([
                "resource",
                "--resource-listen",
                "127.0.0.1:0",
                "--resource-database-url",
                &self.database_url("resource.db"),
            ])
            .env("TAD_RESOURCE_DATABASE_SCHEMA", &self.schema)
            .env("TAD_ADMIN_PASSWORD", admin_password);
        configure(&mut command);
        TadProcess::start(command, "TAD resource service is listening on ")
    }

    /// Starts `count` `tad gateway` processes in front of the resource service at
    /// `resource_addr` (`host:port`); answers each with its URL.
    pub fn start_gateways(&self, resource_addr: &str, count: usize) -> Vec<(TadProcess, String)> {
        let resource_addr = format!("http://{resource_addr}");
        (0..count)
            .map(|_| {
                let mut command = tad_command();
                command
                    .args(["gateway", "--listen", "127.0.0.1:0"])
                    .env("TAD_RESOURCE_ADDR", &resource_addr);
                self.configure(&mut command);
                TadProcess::start(command, "TAD gateway is listening on ")
            })
            .collect()
    }
}

/// Polls `GET path` as `api` until it answers 401; fails the test when that takes a second or
/// more from `since` (the change that should end `api`'s token).
pub async fn refused_within_a_second(api: &super::Api, path: &str, since: std::time::Instant) {
    loop {
        let (status, _) = api.get(path).await;
        if status == 401 {
            break;
        }
        assert!(
            since.elapsed() < std::time::Duration::from_secs(1),
            "the other replica still honours the token after {:?}",
            since.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(since.elapsed() < std::time::Duration::from_secs(1));
}
