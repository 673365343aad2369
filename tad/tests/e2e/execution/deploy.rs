//! Deployments over SSH and on the TAD host: 6.1 pushes, renders and runs, the run tree,
//! logs and SSE events, a failing host named, 6.2 step by step, a second 6.1 refused, 6.3 kill,
//! a changed host key, and no secret in any log, event or answer.

use super::*;
use crate::support::fixtures::post_script;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deployments_run_over_ssh_and_on_the_tad_host() {
    let Some(mut sshd) = TestSshd::start() else {
        return;
    };
    let (root, platform, admin) =
        start_platform("tad-exec", &[("TAD_SSH_TIMEOUT_SECS", "5")]).await;
    let deployment = configure(&admin, &sshd, &root).await;
    let instance = deployment.instance.clone();
    let mut answers = Vec::new();

    // 6.1 over SSH: every host gets the artifact, the rendered config, params.json, the script.
    let answer = execute(
        &admin,
        &instance,
        "executionall",
        json!({"use_tad_host": false}),
    )
    .await;
    let data = assert_success(&answer);
    assert_eq!(
        (data["result"].clone(), data["msg"].clone()),
        (json!(true), Value::Null),
        "{answer}"
    );
    let run = data["execution_id"]
        .as_str()
        .expect("execution id")
        .to_owned();
    answers.push(answer.to_string());
    let expected_md5 = md5_hex(&deployment.artifact);
    for (ip, user, _) in HOSTS {
        let dir = deployment.root.join("shop-one").join(ip);
        let pushed = std::fs::read(dir.join("artifacts/shop.tar.gz")).expect("artifact pushed");
        assert_eq!(md5_hex(&pushed), expected_md5, "artifact on {ip}");
        let owner = std::process::Command::new("stat")
            .args(["-c", "%U"])
            .arg(dir.join("artifacts/shop.tar.gz"))
            .output()
            .expect("stat");
        assert_eq!(
            String::from_utf8_lossy(&owner.stdout).trim(),
            user,
            "written over ssh as {user}"
        );
        assert_eq!(
            read(&dir.join("conf/shop.conf")).trim_end(),
            "listen=8080\nname=shop"
        );
        let step = step_dir(&deployment, "ssh", ip, &run, 0);
        // params.json (it holds the password) is removed when the step ends (see
        // execution_safety/params_json.rs for its mode while it exists).
        assert!(
            !step.join("package/params.json").exists(),
            "params.json left on {ip}"
        );
        assert_eq!(read(&step.join("entry-runs")), "ran\n");
        assert_eq!(read(&dir.join("scripts/script-runs")), format!("ok {ip}\n"));
    }
    let (_, body) = admin.get(&format!("/api/executions/{run}")).await;
    let tree = assert_success(&body);
    assert_eq!(tree["status"], "success");
    assert_eq!(tree["instance_id"], instance.as_str());
    assert_eq!(tree["started_by"], "admin");
    assert_eq!(tree["steps"][0]["status"], "success");
    assert_eq!(tree["steps"][0]["method_name"], "install");
    let hosts = tree["steps"][0]["hosts"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 3);
    for host in hosts {
        assert_eq!(
            (host["status"].clone(), host["exit_code"].clone()),
            (json!("success"), json!(0)),
            "{host}"
        );
        assert!(
            host["end_time"]
                .as_str()
                .is_some_and(|time| time.len() == 19)
        );
    }
    answers.push(body.to_string());
    let logs = all_logs(&admin, &run).await;
    // The log route answers from any byte offset: exactly the rest of the log, nothing at its end.
    let task = hosts[0]["id"].as_str().expect("task");
    let whole = logs
        .iter()
        .find(|(ip, _)| hosts[0]["host_ip"] == ip.as_str())
        .map(|(_, log)| log.clone())
        .expect("the host's log");
    let size = whole.len();
    assert!(size > 200, "a log of several chunks: {whole}");
    for offset in (0..size).step_by(37).chain([size - 1, size, size + 5]) {
        let chunk = admin
            .get_ok(&format!(
                "/api/executions/{run}/log?host_task={task}&offset={offset}"
            ))
            .await;
        let expected = whole.as_bytes().get(offset..).unwrap_or_default();
        assert_eq!(
            (
                chunk["text"].as_str().expect("text"),
                chunk["next_offset"].as_u64(),
                chunk["done"].as_bool()
            ),
            (
                String::from_utf8_lossy(expected).as_ref(),
                Some(size as u64),
                Some(true)
            ),
            "from offset {offset}"
        );
    }
    for (ip, log) in &logs {
        assert!(log.contains("entry on "), "{ip}: {log}");
        assert!(
            log.contains("\"greeting\": \"hello\""),
            "params.json read: {log}"
        );
        assert!(
            log.contains(&format!("script args: ok {ip}")),
            "{ip}: {log}"
        );
        assert!(
            log.contains("md5") && log.contains("verified"),
            "{ip}: {log}"
        );
        assert!(
            log.contains("\"db_password\":\"******\"") || log.contains("******"),
            "{ip}: {log}"
        );
    }
    let events = read_events(&admin, &run, None).await;
    assert!(
        events.windows(2).all(|pair| pair[1].0 == pair[0].0 + 1),
        "numbered in order"
    );
    assert_eq!(
        events.last().map(|event| event.2["status"].clone()),
        Some(json!("success"))
    );
    assert!(events.iter().any(|(_, kind, data)| {
        kind == "log"
            && data["text"]
                .as_str()
                .is_some_and(|text| text.contains("script args"))
    }));
    // Resuming after any event delivers exactly the later ones.
    let middle = events[events.len() / 2].0;
    let resumed = read_events(&admin, &run, Some(middle)).await;
    assert_eq!(
        resumed.iter().map(|event| event.0).collect::<Vec<_>>(),
        events
            .iter()
            .map(|event| event.0)
            .filter(|id| *id > middle)
            .collect::<Vec<_>>()
    );
    let mut everything_said: Vec<String> = logs.iter().map(|(_, log)| log.clone()).collect();
    everything_said.extend(events.iter().map(|event| event.2.to_string()));

    // The instance now shows the outcome.
    assert_eq!(
        admin
            .get_ok(&format!("/api/app/jobinstance/{instance}/details"))
            .await["status"],
        "success"
    );

    // One host of three fails: the step fails, and msg names the host and the step.
    let fail_binding = json!({"scripts_data": HOSTS.iter().map(|(ip, _, _)| json!({
        "id": deployment.script_file_id,
        "dest": deployment.root.join("shop-one").join(ip).join("scripts").display().to_string(),
        "host_IP": [ip],
        "parameter": if *ip == "127.0.0.3" { "fail now".to_owned() } else { format!("ok {ip}") },
        "execute_type": "shell"})).collect::<Vec<_>>()});
    admin
        .post_ok(
            &format!("/api/app/jobinstance/{instance}/shop1/0/relation/script"),
            &json!({"script_id": "", "scripts_data": fail_binding["scripts_data"]}),
        )
        .await;
    let answer = execute(&admin, &instance, "executionall", json!({})).await;
    let data = assert_success(&answer);
    assert_eq!(data["result"], false, "{answer}");
    let msg = data["msg"].as_str().expect("msg names the failure");
    assert!(msg.contains("127.0.0.3") && msg.contains("step 0"), "{msg}");
    assert!(msg.contains("exited with code 3"), "{msg}");
    let failed_run = data["execution_id"].as_str().expect("id").to_owned();
    assert_ne!(failed_run, run, "a finished run is not continued");
    let tree = admin.get_ok(&format!("/api/executions/{failed_run}")).await;
    assert_eq!(tree["status"], "failed");
    let statuses: Vec<(String, String)> = tree["steps"][0]["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .map(|host| {
            (
                host["host_ip"].as_str().unwrap_or_default().to_owned(),
                host["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&("127.0.0.3".to_owned(), "failed".to_owned())),
        "{statuses:?}"
    );
    assert_eq!(
        admin
            .get_ok(&format!("/api/app/jobinstance/{instance}/details"))
            .await["status"],
        "failed"
    );
    everything_said.extend(
        all_logs(&admin, &failed_run)
            .await
            .into_iter()
            .map(|(_, log)| log),
    );

    // 6.2 runs one step at a time.
    let two = deployment.two_steps.clone();
    let answer = execute(
        &admin,
        &two,
        "setp_execution",
        json!({"use_tad_host": false}),
    )
    .await;
    let data = assert_success(&answer);
    assert_eq!(data["result"], true, "{answer}");
    let stepped = data["execution_id"].as_str().expect("id").to_owned();
    let tree = admin.get_ok(&format!("/api/executions/{stepped}")).await;
    assert_eq!(
        two_step_statuses(&tree),
        (json!("success"), json!("pending")),
        "{tree}"
    );
    assert_eq!(
        step_statuses(&admin, &two).await,
        [json!("success"), json!("pending")],
        "5.10 shows each step's status in the current run"
    );
    assert!(
        !deployment.root.join("two-step2/script-runs").exists(),
        "step 1 did not run yet"
    );
    let answer = execute(&admin, &two, "setp_execution", json!({})).await;
    assert_resumed(&answer, &stepped);
    assert_eq!(
        read(&deployment.root.join("two-step2/script-runs")),
        "second\n"
    );
    let tree = wait_for_status(&admin, &stepped, "success", Duration::from_secs(5)).await;
    assert_eq!(tree["steps"][1]["status"], "success");
    assert_eq!(
        step_statuses(&admin, &two).await,
        [json!("success"), json!("success")]
    );
    assert_eq!(
        read(&step_dir(&deployment, "ssh", "127.0.0.2", &stepped, 0).join("entry-runs")),
        "ran\n",
        "step 0 ran once"
    );

    // A long run: a second 6.1 is refused naming it; 6.3 ends it within 5 s, leaving no process.
    let sleeper = "600.4242";
    let sleep_binding = json!({"script_id": "", "scripts_data": [{
        "id": deployment.script_file_id,
        "dest": deployment.root.join("sleep").display().to_string(),
        "host_IP": ["127.0.0.2"],
        "parameter": format!("sleep {sleeper}"),
        "execute_type": "shell"}]});
    admin
        .post_ok(
            &format!("/api/app/jobinstance/{instance}/shop1/0/relation/script"),
            &sleep_binding,
        )
        .await;
    let long_run = start_run(&admin, &instance).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let sleep_runs = deployment.root.join("sleep/script-runs");
    while !std::fs::read_to_string(&sleep_runs).is_ok_and(|runs| runs.contains("sleep"))
        || processes_matching(&format!("sleep {sleeper}")) == 0
    {
        assert!(Instant::now() < deadline, "the sleep never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A live stream dropped after 3 events and resumed with Last-Event-ID misses nothing and
    // repeats nothing.
    let first = read_first_events(&admin, &long_run, 3).await;
    let answer = execute(&admin, &instance, "executionall", json!({})).await;
    let refusal = assert_failure(&answer, "execution_running");
    assert!(refusal.contains(&long_run), "{refusal}");
    assert_eq!(answer["level"], "warning");
    let stop_started = Instant::now();
    let answer = execute(
        &admin,
        &instance,
        "stop_execution",
        json!({"use_tad_host": false}),
    )
    .await;
    let data = assert_success(&answer);
    assert_eq!(
        (data["result"].clone(), data["status"].clone()),
        (json!(true), json!("stopped")),
        "{answer}"
    );
    assert_stopped_in_time(stop_started, sleeper);
    let tree = admin.get_ok(&format!("/api/executions/{long_run}")).await;
    assert_eq!(tree["status"], "stopped");
    assert!(
        tree["steps"][0]["hosts"]
            .as_array()
            .expect("hosts")
            .iter()
            .any(|host| host["status"] == "stopped" && host["exit_code"].is_null()),
        "a stopped host shows no exit code: {tree}"
    );
    let answer = execute(&admin, &instance, "stop_execution", json!({})).await;
    assert_failure(&answer, "execution_not_running");
    let rest = read_events(&admin, &long_run, Some(first[2].0)).await;
    let full = read_events(&admin, &long_run, None).await;
    let joined: Vec<(u64, String, Value)> = first.into_iter().chain(rest).collect();
    assert_eq!(joined, full, "every event exactly once, in order");
    assert_eq!(
        full.last().map(|event| event.2["status"].clone()),
        Some(json!("stopped"))
    );

    // The same deployment on the TAD host itself.
    admin
        .post_ok(
            &format!("/api/app/jobinstance/{instance}/shop1/0/relation/script"),
            &json!({"script_id": "", "scripts_data": []}),
        )
        .await;
    // ... as a rolling deploy, one host at a time.
    admin
        .post_ok(
            &format!("/api/app/jobinstance/{instance}/shop1/0/relation/alldata"),
            &json!({"rolling": {"batch_size": 1, "pause_seconds": 0}}),
        )
        .await;
    let answer = execute(
        &admin,
        &instance,
        "executionall",
        json!({"use_tad_host": true}),
    )
    .await;
    let data = assert_success(&answer);
    assert_eq!(data["result"], true, "{answer}");
    let local_run = data["execution_id"].as_str().expect("id").to_owned();
    for (ip, _, _) in HOSTS {
        let step = step_dir(&deployment, "local", ip, &local_run, 0);
        assert_eq!(
            read(&step.join("entry-runs")),
            "ran\n",
            "ran locally for {ip}"
        );
        let pushed = std::fs::read(
            deployment
                .root
                .join("shop-one")
                .join(ip)
                .join("artifacts/shop.tar.gz"),
        )
        .expect("artifact");
        assert_eq!(md5_hex(&pushed), expected_md5);
    }
    let mut running: Vec<String> = Vec::new();
    let mut hosts_started = 0;
    // The run continued the stopped one: look at this attempt's events only.
    let events = read_events(&admin, &local_run, None).await;
    let attempt = events
        .iter()
        .rposition(|(_, kind, data)| kind == "run" && data["status"] == "running")
        .expect("the attempt's start");
    for (_, kind, data) in &events[attempt..] {
        if kind != "host" {
            continue;
        }
        let task = data["host_task"].as_str().expect("task").to_owned();
        if data["status"] == "running" {
            assert!(
                running.is_empty(),
                "batch of one: {running:?} still running when {task} started"
            );
            running.push(task);
            hosts_started += 1;
        } else {
            running.retain(|other| *other != task);
        }
    }
    assert_eq!(hosts_started, 3);
    let local_logs = all_logs(&admin, &local_run).await;
    assert!(
        local_logs
            .iter()
            .all(|(_, log)| log.contains("entry on root")),
        "{local_logs:?}"
    );
    everything_said.extend(local_logs.into_iter().map(|(_, log)| log));

    // A changed host key fails the host tasks, naming both fingerprints.
    let old_fingerprint = sshd.host_key_fingerprint();
    sshd.restart_with_new_host_key();
    let new_fingerprint = sshd.host_key_fingerprint();
    let answer = execute(&admin, &instance, "executionall", json!({})).await;
    let data = assert_success(&answer);
    assert_eq!(data["result"], false, "{answer}");
    let changed_run = data["execution_id"].as_str().expect("id").to_owned();
    let logs = all_logs(&admin, &changed_run).await;
    assert!(
        logs.iter()
            .any(|(_, log)| log.contains(&old_fingerprint) && log.contains(&new_fingerprint)),
        "{logs:?}"
    );
    everything_said.extend(logs.into_iter().map(|(_, log)| log));
    answers.push(answer.to_string());

    // A script nobody reviewed fails the step before anything runs on any host, naming it.
    let unreviewed = b"#!/bin/bash\necho should-not-run >> ./unreviewed-runs\n".to_vec();
    let (_, body) = post_script(&admin, "app1", "unreviewed", "unreviewed.sh", &unreviewed).await;
    let unreviewed_id = assert_success(&body)[0]["file_id"]
        .as_str()
        .expect("file")
        .to_owned();
    admin.post_ok(&format!("/api/app/jobinstance/{instance}/shop1/0/relation/script"),
            &json!({"script_id": "", "scripts_data": [{"id": unreviewed_id, "dest": deployment.root.join("sleep").display().to_string(), "host_IP": [], "parameter": "", "execute_type": "shell"}]})).await;
    let answer = execute(&admin, &instance, "executionall", json!({})).await;
    let data = assert_success(&answer);
    let msg = data["msg"].as_str().unwrap_or_default().to_owned();
    assert!(
        data["result"] == false && msg.contains("unreviewed") && msg.contains("disabled"),
        "{answer}"
    );
    let tree = admin
        .get_ok(&format!(
            "/api/executions/{}",
            data["execution_id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(
        tree["steps"][0]["hosts"],
        json!([]),
        "no host task started: {tree}"
    );
    assert!(!deployment.root.join("sleep/unreviewed-runs").exists());

    // No secret anywhere.
    for text in everything_said.iter().chain(answers.iter()) {
        assert!(!text.contains(DB_PASSWORD), "secret param leaked: {text}");
        assert!(
            !text.contains(&sshd.password),
            "ssh password leaked: {text}"
        );
        assert!(!text.contains("PRIVATE KEY"), "private key leaked: {text}");
    }
    let _ = (&deployment.cluster, &deployment.method_id);
    platform.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}
