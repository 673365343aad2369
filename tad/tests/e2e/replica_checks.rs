//! Startup checks of the split service roles: a role without its database URL refuses to start
//! (naming the variable, creating no file), and with Redis a `tad jobs` replica on another
//! database than its live peers is refused.

use std::process::Output;

use crate::support::{TadProcess, tad_command};

const SERVICE_ROLES: [(&[&str], &str); 4] = [
    (&["jobs"], "TAD_JOBS_DATABASE_URL"),
    (&["resource"], "TAD_RESOURCE_DATABASE_URL"),
    (&["artifact"], "TAD_ARTIFACT_DATABASE_URL"),
    (&["appinhouse", "serve"], "TAD_APPINHOUSE_DATABASE_URL"),
];

fn secrets(command: &mut std::process::Command) -> &mut std::process::Command {
    command
        .env(
            "TAD_JWT_SECRET",
            "replica-checks-jwt-secret-0123456789abcdef",
        )
        .env("TAD_CREDENTIAL_KEY", "ab".repeat(32))
        .env("TAD_WEBHOOK_SECRET", "replica-checks-webhook-secret")
        .env("TAD_APPINHOUSE_SECRET_KEY", "replica-checks-appinhouse")
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_service_role_without_its_database_url_refuses_to_start() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    for (role, variable) in SERVICE_ROLES {
        let mut command = tad_command();
        command.args(role).arg("--data-dir").arg(data_dir.path());
        let output = secrets(&mut command).output().expect("run tad");
        assert!(!output.status.success(), "{role:?} started");
        let stderr = stderr_of(&output);
        assert!(stderr.contains(variable), "{role:?}: {stderr}");
    }
    let left: Vec<_> = std::fs::read_dir(data_dir.path())
        .expect("read data dir")
        .flatten()
        .map(|entry| entry.file_name())
        .filter(|name| name.to_string_lossy().ends_with(".db"))
        .collect();
    assert!(left.is_empty(), "no database file is created: {left:?}");
}

#[test]
fn a_jobs_replica_on_another_database_than_its_live_peers_is_refused() {
    let Some(redis) = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        eprintln!("skipped: TEST_REDIS_URL is not set");
        return;
    };
    let data_dir = tempfile::tempdir().expect("temp dir");
    let prefix = format!("tad-test-{}:", common::ids::new_id());
    let replica = |file: &str| {
        let mut command = tad_command();
        command
            .arg("jobs")
            .arg("--data-dir")
            .arg(data_dir.path())
            .env("TAD_JOBS_LISTEN", "127.0.0.1:0")
            .env(
                "TAD_JOBS_DATABASE_URL",
                format!("sqlite://{}", data_dir.path().join(file).display()),
            )
            .env("TAD_REDIS_URL", &redis)
            .env("TAD_REDIS_PREFIX", &prefix);
        secrets(&mut command);
        command
    };
    let mut first = TadProcess::spawn(replica("jobs.db"));
    first.wait_for_line("TAD jobs service is listening on ");
    // A second replica on the same file joins; one on its own file is refused.
    let mut second = TadProcess::spawn(replica("jobs.db"));
    second.wait_for_line("TAD jobs service is listening on ");
    let output = replica("other.db").output().expect("run tad jobs");
    assert!(!output.status.success(), "a split-off replica started");
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("TAD_JOBS_DATABASE_URL") && stderr.contains("jobs.db"),
        "{stderr}"
    );
    assert!(!data_dir.path().join("other.db").exists());
    second.terminate();
    first.terminate();
}

/// Each role's `--help` lists exactly the variables the key declarations say it reads, and
/// only its own flags.
#[test]
fn each_role_help_lists_the_variables_it_reads() {
    let roles: [(&[&str], &str); 6] = [
        (&["serve"], "serve"),
        (&["gateway"], "gateway"),
        (&["jobs"], "jobs"),
        (&["artifact"], "artifact"),
        (&["appinhouse", "serve"], "appinhouse"),
        (&["migrate"], "migrate"),
    ];
    for (args, role) in roles {
        let output = tad_command()
            .args(args)
            .arg("--help")
            .output()
            .expect("tad --help");
        let help = String::from_utf8_lossy(&output.stdout).into_owned();
        let listed: Vec<&str> = help
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .filter(|word| word.starts_with("TAD_"))
            .collect();
        let expected: Vec<&str> = common::config::keys::ALL
            .iter()
            .filter(|key| common::config::keys::read_by_role(key, role))
            .map(|key| key.env)
            .collect();
        assert_eq!(listed, expected, "tad {args:?} --help:\n{help}");
        assert_eq!(
            help.contains("--listen"),
            matches!(role, "serve" | "gateway"),
            "{help}"
        );
    }
    let jobs = tad_command()
        .args(["jobs", "--help"])
        .output()
        .expect("help");
    let jobs = String::from_utf8_lossy(&jobs.stdout).into_owned();
    assert!(jobs.contains("TAD_ARTIFACT_ADDR") && jobs.contains("TAD_RESOURCE_ADDR"));
}
