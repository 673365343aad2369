//! Replicas of each service share runs through PostgreSQL and Redis.

use super::*;

/// `tad <role>` with the shared keys, PostgreSQL schema prefix and Redis of a replica test.
fn replica_command(
    role: &[&str],
    shared: &[(String, String)],
    data_dir: &Path,
) -> std::process::Command {
    let mut command = tad_command();
    command.args(role).arg("--data-dir").arg(data_dir);
    for (name, value) in shared {
        command.env(name, value);
    }
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_share_runs_through_postgres_and_redis() {
    let (Ok(postgres), Ok(redis)) = (
        std::env::var("TEST_DATABASE_URL"),
        std::env::var("TEST_REDIS_URL"),
    ) else {
        eprintln!("skipped: needs TEST_DATABASE_URL and TEST_REDIS_URL (the CI's second pass)");
        return;
    };
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let root = PathBuf::from("/tmp").join(unique("tad-replicas"));
    shared_dir(&root);
    let data_dir = tempfile::tempdir().expect("data dir");
    let schema = format!("replicas_{}", common::ids::new_id());
    let mut shared: Vec<(String, String)> = vec![
        (
            "TAD_JWT_SECRET".into(),
            format!("{}{}", common::ids::new_id(), common::ids::new_id()),
        ),
        (
            "TAD_CREDENTIAL_KEY".into(),
            format!("{}{}", common::ids::new_id(), common::ids::new_id()),
        ),
        ("TAD_REDIS_URL".into(), redis),
        ("TAD_REDIS_PREFIX".into(), format!("{schema}:")),
        ("TAD_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
        ("TAD_EXECUTION_LEASE_SECS".into(), "3".into()),
        (
            "TAD_EXECUTION_WORK_DIR".into(),
            root.join("work").display().to_string(),
        ),
        ("TAD_WEBHOOK_SECRET".into(), WEBHOOK_KEY.into()),
    ];
    shared.push((
        "TAD_APPINHOUSE_SECRET_KEY".into(),
        "replica-appinhouse-key".into(),
    ));
    for service in ["RESOURCE", "ARTIFACT", "JOBS", "APPINHOUSE"] {
        shared.push((format!("TAD_{service}_DATABASE_URL"), postgres.clone()));
        shared.push((
            format!("TAD_{service}_DATABASE_SCHEMA"),
            format!("{schema}_{}", service.to_lowercase()),
        ));
    }
    let spawn = |role: &[&str], extra: &[(&str, String)], ready: &str| {
        let mut command = replica_command(role, &shared, data_dir.path());
        for (name, value) in extra {
            command.env(name, value);
        }
        let mut process = TadProcess::spawn(command);
        let addr = process.wait_for_line(ready);
        (process, addr)
    };
    let (_resource, resource) = spawn(
        &["resource"],
        &[("TAD_RESOURCE_LISTEN", "127.0.0.1:0".into())],
        "TAD resource service is listening on ",
    );
    let (_artifact, artifact) = spawn(
        &["artifact"],
        &[
            ("TAD_ARTIFACT_LISTEN", "127.0.0.1:0".into()),
            ("TAD_RESOURCE_ADDR", format!("http://{resource}")),
        ],
        "TAD artifact service is listening on ",
    );
    let (_appinhouse, appinhouse) = spawn(
        &["appinhouse", "serve"],
        &[("TAD_APPINHOUSE_LISTEN", "127.0.0.1:0".into())],
        "TAD appinhouse service is listening on ",
    );
    let service_addrs = |jobs: &str| {
        vec![
            ("TAD_RESOURCE_ADDR", format!("http://{resource}")),
            ("TAD_ARTIFACT_ADDR", format!("http://{artifact}")),
            ("TAD_JOBS_ADDR", format!("http://{jobs}")),
            ("TAD_APPINHOUSE_ADDR", format!("http://{appinhouse}")),
            ("TAD_JOBS_LISTEN", "127.0.0.1:0".to_owned()),
        ]
    };
    let (jobs_one, jobs_one_addr) = spawn(
        &["jobs"],
        &service_addrs("unused:1"),
        "TAD jobs service is listening on ",
    );
    let (jobs_two, jobs_two_addr) = spawn(
        &["jobs"],
        &service_addrs("unused:1"),
        "TAD jobs service is listening on ",
    );
    let (_gateway_one, url_one) = spawn(
        &["gateway", "--listen", "127.0.0.1:0"],
        &service_addrs(&jobs_one_addr),
        "TAD gateway is listening on ",
    );
    let (_gateway_two, url_two) = spawn(
        &["gateway", "--listen", "127.0.0.1:0"],
        &service_addrs(&jobs_two_addr),
        "TAD gateway is listening on ",
    );
    let mut jobs = [Some(jobs_one), Some(jobs_two)];

    // Every gateway sees every service ready (gRPC health of each).
    for url in [&url_one, &url_two] {
        let (status, body) = Api::new(url).get("/readyz").await;
        assert_eq!(status, 200, "{body}");
    }
    let anonymous = Api::new(&url_one);
    let admin = anonymous.login("admin", ADMIN_PASSWORD).await;
    let deployment = configure(&admin, &sshd, &root).await;
    let two = deployment.two_steps.clone();
    let sleeper = "20.9191";
    bind_two_steps_script(&admin, &deployment, &format!("sleep {sleeper}")).await;

    // 50 concurrent 6.1 across both gateways start exactly one run.
    let gateways = [admin.with_base(&url_one), admin.with_base(&url_two)];
    let mut calls = Vec::new();
    for index in 0..50 {
        let api = gateways[index % 2].with_base(&gateways[index % 2].base);
        let two = two.clone();
        calls.push(tokio::spawn(async move {
            let answer = execute(&api, &two, "executionall?wait=false", json!({})).await;
            (index % 2, answer)
        }));
    }
    let mut started = Vec::new();
    for call in calls {
        let (gateway, answer) = call.await.expect("call");
        if answer["success"] == true {
            started.push((
                gateway,
                answer["data"]["execution_id"]
                    .as_str()
                    .expect("id")
                    .to_owned(),
            ));
        } else {
            assert_eq!(answer["code"], "execution_running", "{answer}");
        }
    }
    assert_eq!(started.len(), 1, "exactly one run: {started:?}");
    let (owner, run) = started.remove(0);
    let survivor = 1 - owner;
    let runs_file = root.join("two-step2/script-runs");
    let wait_for_sleep = |expected: usize| {
        let runs_file = runs_file.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            while std::fs::read_to_string(&runs_file)
                .map(|runs| runs.matches("sleep").count())
                .unwrap_or(0)
                < expected
                || processes_matching(&format!("sleep {sleeper}")) == 0
            {
                assert!(Instant::now() < deadline, "step 1 never started");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };

    // Visible and stoppable through the other gateway (its replica asks the owner through the
    // database).
    wait_for_sleep(1).await;
    let (_, body) = gateways[survivor]
        .get(&format!("/api/executions/{run}"))
        .await;
    assert_eq!(assert_success(&body)["status"], "running");
    let stop_started = Instant::now();
    let answer = execute(&gateways[survivor], &two, "stop_execution", json!({})).await;
    let data = assert_success(&answer);
    assert_eq!(
        (data["status"].clone(), data["execution_id"].clone()),
        (json!("stopped"), json!(run)),
        "{answer}"
    );
    assert_stopped_in_time(stop_started, sleeper);

    // Again through the owner's gateway; the other gateway streams it live; the owner dies.
    let answer = execute(&gateways[owner], &two, "executionall?wait=false", json!({})).await;
    assert_eq!(assert_success(&answer)["execution_id"], json!(run));
    wait_for_sleep(2).await;
    let watcher = gateways[survivor].with_base(&gateways[survivor].base);
    let watched_run = run.clone();
    let live = tokio::spawn(async move { read_events(&watcher, &watched_run, None).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut dead = jobs[owner].take().expect("owner");
    dead.child.kill().expect("kill -9");
    dead.child.wait().expect("reaped");
    let killed_at = Instant::now();
    let api = &gateways[survivor];
    let tree = wait_for_status(api, &run, "interrupted", Duration::from_secs(10)).await;
    assert!(
        killed_at.elapsed() < Duration::from_secs(3 + 3),
        "interrupted by the other replica within a lease and a sweep: {:?}",
        killed_at.elapsed()
    );
    assert_eq!(tree["steps"][1]["status"], "interrupted");
    let live = tokio::time::timeout(Duration::from_secs(20), live)
        .await
        .expect("the stream ended")
        .expect("task");
    let full = read_events(api, &run, None).await;
    assert_eq!(
        live, full,
        "the live stream through the other gateway is complete"
    );
    assert_eq!(
        full.last().map(|event| event.2["status"].clone()),
        Some(json!("interrupted"))
    );
    let _ = std::process::Command::new("pkill")
        .args(["-f", &format!("sleep {sleeper}")])
        .status();

    // 6.1 through the surviving replica resumes the run there.
    bind_two_steps_script(api, &deployment, "ok resumed").await;
    let answer = execute(api, &two, "executionall", json!({})).await;
    assert_resumed(&answer, &run);
    assert_eq!(
        read(&step_dir(&deployment, "ssh", "127.0.0.2", &run, 0).join("entry-runs")),
        "ran\n",
        "step 0 ran once"
    );

    drop(jobs);
    for service in ["resource", "artifact", "jobs", "appinhouse"] {
        common::db::testing::drop_postgres_schema(&postgres, &format!("{schema}_{service}"));
    }
    let _ = std::fs::remove_dir_all(&root);
}
