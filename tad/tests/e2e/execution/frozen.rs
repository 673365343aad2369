//! A jobs replica frozen (`SIGSTOP`) past its lease while a step's last command runs, on
//! PostgreSQL + Redis (CI's second pass): another replica's sweep declares the run interrupted,
//! 6.1 resumes it there and waits for the frozen replica's command, which goes on on the host.
//! Woken (`SIGCONT`), the frozen replica gives the run up as if it had been killed: it neither
//! kills that command nor writes anything more about the run, so the step runs exactly once.

use super::*;

use support::replicated::{Layout, ReplicatedPlatform};

/// Writes `start`, sleeps `$1` seconds, writes `end`, each line with its process group's key,
/// into `./events` of its directory.
const SLOW_SCRIPT: &[u8] = b"#!/bin/bash\necho \"start ${TAD_RUN_KEY:-none}\" >> ./events\nsleep \"$1\"\necho \"end ${TAD_RUN_KEY:-none}\" >> ./events\n";

const HOST: &str = "127.0.0.2";

/// Sends `signal` (`STOP`, `CONT`) to the process `pid`.
fn signal(pid: u32, signal: &str) {
    let sent = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("kill");
    assert!(sent.success(), "kill -{signal} {pid}");
}

/// The lines the script wrote.
fn script_events(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("events"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_frozen_past_its_lease_leaves_its_last_command_to_the_resume() {
    if !support::split_env::postgres_and_redis_given() {
        return;
    }
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let root = PathBuf::from("/tmp").join(unique("tad-frozen"));
    shared_dir(&root);
    let work_dir = root.join("work").display().to_string();
    let mut platform = ReplicatedPlatform::start(Layout {
        admin_password: ADMIN_PASSWORD,
        jobs_replicas: 2,
        gateways: 1,
        env: &[
            ("TAD_EXECUTION_LEASE_SECS", "3"),
            ("TAD_EXECUTION_WORK_DIR", &work_dir),
        ],
    });
    // Replica 0 alone takes the run.
    platform.kill_jobs(1);
    let admin = Api::new(&platform.gateway_urls[0])
        .login("admin", ADMIN_PASSWORD)
        .await;
    let cluster = cluster_of_hosts(&admin, &sshd, "frozen", &[HOST]).await;
    let script = upload_reviewed_script(&admin, "slow", "slow.sh", SLOW_SCRIPT).await;
    let template =
        support::fixtures::template_with_methods(&admin, "frozen", "app1", &[("custom", "cu1")])
            .await;
    let instance = admin
        .post_id(
            "/api/app/jobinstance/create",
            &json!({"name": "frozen", "env_id": "env1", "application_id": "app1",
                "job_template_id": template}),
        )
        .await;
    let dir = root.join("step");
    shared_dir(&dir);
    admin
        .post_ok(
            &format!("/api/app/jobinstance/{instance}/cu1/0/relation/alldata"),
            &json!({"cluster": {"cluster_id": cluster}, "scripts": {"scripts_data": [
                {"id": script, "dest": dir.display().to_string(), "host_IP": [HOST],
                 "parameter": "12", "execute_type": "shell"}]}}),
        )
        .await;

    let run = start_run(&admin, &instance).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while script_events(&dir).is_empty() {
        assert!(Instant::now() < deadline, "the script never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Replica 0 freezes while the script sleeps; replica 1 comes up, and a gateway that reaches
    // it alone (calls to a frozen replica would hang) sees the run interrupted once the lease ran
    // out, and resumes it there.
    let frozen = platform.jobs[0].as_ref().expect("replica 0").child.id();
    signal(frozen, "STOP");
    platform.start_jobs(1, &[]);
    let second = platform.start_more(
        &["gateway", "--listen", "127.0.0.1:0"],
        &[(
            "TAD_JOBS_ADDR",
            format!("http://{}", platform.jobs_addrs[1]),
        )],
        "TAD gateway is listening on ",
    );
    let admin = admin.with_base(&second);
    wait_for_status(&admin, &run, "interrupted", Duration::from_secs(20)).await;
    let answer = execute(&admin, &instance, "executionall?wait=false", json!({})).await;
    assert_eq!(
        execution_id(&answer),
        run,
        "6.1 resumes the interrupted run"
    );
    assert_eq!(
        script_events(&dir).len(),
        1,
        "the script still sleeps when the run is resumed"
    );

    // Woken while the resume waits for its command, the frozen replica gives the run up: the
    // command ends on its own and counts; the step does not run again.
    signal(frozen, "CONT");
    wait_for_status(&admin, &run, "success", Duration::from_secs(60)).await;
    let lines = script_events(&dir);
    assert_eq!(lines.len(), 2, "the script ran once, to its end: {lines:?}");
    assert!(
        lines[0].starts_with("start tad-") && lines[1].starts_with("end tad-"),
        "{lines:?}"
    );
    let logs = all_logs(&admin, &run).await;
    let log = &logs.first().expect("a host log").1;
    assert!(
        log.contains("still runs its last command here after its service stopped: waiting"),
        "the resume waited for the command: {log}"
    );
    assert!(
        log.contains("completed this step here with code 0"),
        "the resume counted the command: {log}"
    );
    // Nothing the frozen replica did after its lease ran out is in the run's record: its host
    // task went from running to success, never stopped or failed.
    for (_, _, data) in read_events(&admin, &run, None).await {
        if data["scope"] == "host" {
            assert!(
                ["running", "success", "interrupted", "pending"]
                    .contains(&data["status"].as_str().unwrap_or_default()),
                "{data}"
            );
        }
    }
    let tree = admin.get_ok(&format!("/api/executions/{run}")).await;
    assert_eq!(tree["status"], "success", "{tree}");
    assert_eq!(tree["steps"][0]["hosts"][0]["status"], "success", "{tree}");
    assert!(
        platform.jobs[0]
            .as_mut()
            .expect("replica 0")
            .child
            .try_wait()
            .expect("try_wait")
            .is_none(),
        "the woken replica runs on"
    );
    drop(platform);
    let _ = std::fs::remove_dir_all(&root);
}
