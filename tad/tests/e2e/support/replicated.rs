//! The split layout as separate `tad` processes: one resource, artifact and appinhouse service,
//! several `tad jobs` replicas on one database and gateways given every jobs replica. The
//! databases are fresh PostgreSQL schemas when `TEST_DATABASE_URL` is set (Redis under a fresh
//! prefix when `TEST_REDIS_URL` is), else SQLite files shared by the replicas. A jobs replica can
//! be killed with `-9` and started again on its own address, as an orchestrator would.

use std::collections::HashMap;

use super::{TadProcess, drop_platform_schemas, platform_env, tad_command};

/// What [`ReplicatedPlatform::start`] starts.
pub struct Layout<'a> {
    pub admin_password: &'a str,
    pub jobs_replicas: usize,
    pub gateways: usize,
    /// More `TAD_*` variables for every process.
    pub env: &'a [(&'a str, &'a str)],
}

pub struct ReplicatedPlatform {
    env: HashMap<String, String>,
    data_dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
    services: Vec<TadProcess>,
    /// The jobs replicas; `None` while one is down.
    pub jobs: Vec<Option<TadProcess>>,
    /// The address each jobs replica listens on (kept across restarts).
    pub jobs_addrs: Vec<String>,
    gateways: Vec<TadProcess>,
    /// `http://host:port` of each gateway.
    pub gateway_urls: Vec<String>,
}

const SERVICES: [&str; 4] = ["resource", "artifact", "jobs", "appinhouse"];

impl ReplicatedPlatform {
    pub fn start(layout: Layout) -> ReplicatedPlatform {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let (mut env, postgres) = platform_env(layout.admin_password, layout.env);
        for (name, value) in [
            ("TAD_JWT_SECRET", common::ids::new_id().repeat(2)),
            ("TAD_CREDENTIAL_KEY", common::ids::new_id().repeat(2)),
            (
                "TAD_APPINHOUSE_SECRET_KEY",
                "replicated-appinhouse-key".to_owned(),
            ),
        ] {
            env.entry(name.to_owned()).or_insert(value);
        }
        for service in SERVICES {
            let key = format!("TAD_{}_DATABASE_URL", service.to_uppercase());
            let file = data_dir.path().join(format!("{service}.db"));
            env.entry(key)
                .or_insert_with(|| format!("sqlite://{}", file.display()));
        }
        let mut platform = ReplicatedPlatform {
            env,
            data_dir,
            postgres,
            services: Vec::new(),
            jobs: Vec::new(),
            jobs_addrs: Vec::new(),
            gateways: Vec::new(),
            gateway_urls: Vec::new(),
        };
        // Each service listens on a free port; the ones started after it are told its address.
        let services: [(&[&str], &str, &str, &str); 3] = [
            (
                &["resource"],
                "TAD_RESOURCE_LISTEN",
                "TAD resource service is listening on ",
                "TAD_RESOURCE_ADDR",
            ),
            (
                &["artifact"],
                "TAD_ARTIFACT_LISTEN",
                "TAD artifact service is listening on ",
                "TAD_ARTIFACT_ADDR",
            ),
            (
                &["appinhouse", "serve"],
                "TAD_APPINHOUSE_LISTEN",
                "TAD appinhouse service is listening on ",
                "TAD_APPINHOUSE_ADDR",
            ),
        ];
        for (role, listen, ready, address) in services {
            let (process, addr) = platform.spawn(role, &[(listen, "127.0.0.1:0".into())], ready);
            platform
                .env
                .insert(address.into(), format!("http://{addr}"));
            platform.services.push(process);
        }
        for _ in 0..layout.jobs_replicas {
            let (process, addr) = platform.spawn(
                &["jobs"],
                &[("TAD_JOBS_LISTEN", "127.0.0.1:0".into())],
                "TAD jobs service is listening on ",
            );
            platform.jobs.push(Some(process));
            platform.jobs_addrs.push(addr);
        }
        let jobs_urls: Vec<String> = platform
            .jobs_addrs
            .iter()
            .map(|addr| format!("http://{addr}"))
            .collect();
        for _ in 0..layout.gateways {
            let (gateway, url) = platform.spawn(
                &["gateway", "--listen", "127.0.0.1:0"],
                &[("TAD_JOBS_ADDR", jobs_urls.join(","))],
                "TAD gateway is listening on ",
            );
            platform.gateways.push(gateway);
            platform.gateway_urls.push(url);
        }
        platform
    }

    /// Starts `tad <role>` with the platform's environment and `extra`, and waits until it
    /// prints `ready`; answers the process and the rest of that line.
    fn spawn(&self, role: &[&str], extra: &[(&str, String)], ready: &str) -> (TadProcess, String) {
        let mut command = tad_command();
        command
            .args(role)
            .arg("--data-dir")
            .arg(self.data_dir.path());
        command.envs(&self.env);
        for (name, value) in extra {
            command.env(name, value);
        }
        TadProcess::start(command, ready)
    }

    /// `kill -9` of jobs replica `index` (reaped); nothing if it is down already.
    pub fn kill_jobs(&mut self, index: usize) {
        if let Some(mut process) = self.jobs[index].take() {
            process.child.kill().expect("kill -9");
            process.child.wait().expect("reaped");
        }
    }

    /// Starts jobs replica `index` again on its address, with `extra` variables (e.g. a crash
    /// point); answers once it listens.
    pub fn start_jobs(&mut self, index: usize, extra: &[(&str, String)]) {
        assert!(self.jobs[index].is_none(), "replica {index} is running");
        let mut env = vec![("TAD_JOBS_LISTEN", self.jobs_addrs[index].clone())];
        env.extend(extra.iter().cloned());
        let (process, _) = self.spawn(&["jobs"], &env, "TAD jobs service is listening on ");
        self.jobs[index] = Some(process);
    }

    /// Whether jobs replica `index` has ended on its own (a crash point); reaps it then.
    pub fn jobs_ended(&mut self, index: usize) -> bool {
        let ended = self.jobs[index]
            .as_mut()
            .is_some_and(|process| process.child.try_wait().expect("try_wait").is_some());
        if ended {
            self.jobs[index] = None;
        }
        ended
    }

    /// Starts one more `tad <role>` with the platform's environment and `extra` (another
    /// replica, a gateway given other addresses); it runs as long as the platform. Answers the
    /// rest of its `ready` line (where it listens).
    pub fn start_more(&mut self, role: &[&str], extra: &[(&str, String)], ready: &str) -> String {
        let (process, addr) = self.spawn(role, extra, ready);
        self.services.push(process);
        addr
    }

    /// The data directory every process was started with.
    pub fn data_dir(&self) -> &std::path::Path {
        self.data_dir.path()
    }
}

impl Drop for ReplicatedPlatform {
    fn drop(&mut self) {
        self.jobs.clear();
        self.gateways.clear();
        self.services.clear();
        drop_platform_schemas(&self.postgres);
    }
}
