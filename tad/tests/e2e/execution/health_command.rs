//! A rollout's health check by command (issue 21) over a real sshd on two hosts: the reviewed
//! script the run froze is uploaded to each host after its deploy and run there (exit code 0
//! passes; its output is in the host's log); a host whose script fails fails its check, which
//! stops the rollout. A check script that is not reviewed blocks the plan and fails the run
//! before any host; a free command line, or a parameter that cannot be split, is refused by field.

use super::*;

const CHECK_HOSTS: [&str; 2] = ["127.0.0.2", "127.0.0.3"];

/// Says which address it was reached on; fails (code 3) where `$1/sick-<address>` exists.
const HEALTH_SCRIPT: &[u8] = b"#!/bin/bash\nread -r _ _ server _ <<< \"$SSH_CONNECTION\"\necho \"health of $server\"\nif [ -e \"$1/sick-$server\" ]; then echo \"$server is sick\"; exit 3; fi\n";

const DEPLOY_SCRIPT: &[u8] = b"#!/bin/bash\necho deployed >> ./deploy-runs\n";

/// The lines the deploy script wrote on host `ip`.
fn deploys_on(root: &Path, ip: &str) -> usize {
    std::fs::read_to_string(root.join("hosts").join(ip).join("deploy-runs"))
        .map(|text| text.lines().count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_health_check_by_command_runs_the_reviewed_script_on_each_host() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let crashable = CrashablePlatform::new("tad-health-command");
    let root = crashable.root.clone();
    let (process, url) = crashable.serve();
    let admin = Api::new(&url).login("admin", ADMIN_PASSWORD).await;
    let markers = root.join("markers");
    shared_dir(&markers);
    for ip in CHECK_HOSTS {
        shared_dir(&root.join("hosts").join(ip));
    }
    let cluster = cluster_of_hosts(&admin, &sshd, "checked", &CHECK_HOSTS).await;
    let deploy = upload_reviewed_script(&admin, "deploy", "deploy.sh", DEPLOY_SCRIPT).await;
    let check = upload_approved_script(&admin, "health", "health.sh", HEALTH_SCRIPT).await;
    let draft =
        upload_script(&admin, "app1", "draft", "draft.sh", HEALTH_SCRIPT).await[0]["file_id"]
            .as_str()
            .expect("file id")
            .to_owned();
    let template =
        support::fixtures::template_with_methods(&admin, "checked", "app1", &[("custom", "cu1")])
            .await;
    let instance = admin
        .post_id(
            "/api/app/jobinstance/create",
            &json!({"name": "checked", "env_id": "env1", "application_id": "app1",
                "job_template_id": template}),
        )
        .await;
    let alldata = format!("/api/app/jobinstance/{instance}/cu1/0/relation/alldata");
    let bindings = |rollout: Value| {
        let scripts: Vec<Value> = CHECK_HOSTS
            .iter()
            .map(|ip| {
                json!({"id": deploy, "dest": root.join("hosts").join(ip).display().to_string(),
                    "host_IP": [ip], "parameter": "", "execute_type": "shell"})
            })
            .collect();
        json!({"cluster": {"cluster_id": cluster}, "scripts": {"scripts_data": scripts},
            "rollout": rollout})
    };
    let rollout_checking = |script: &str| {
        json!({"batches": [1, 2], "max_failed_hosts": 0, "on_failure": "stop",
            "health": {"command": {"script_id": script, "parameter": markers.display().to_string(),
                "retries": 1, "interval_seconds": 1, "timeout_seconds": 20}}})
    };

    // Refused by field, nothing saved: a free command line, a parameter that cannot be split, a
    // script that is not in the library.
    for (bad, field) in [
        (
            json!({"health": {"command": {"line": "curl -s localhost"}}}),
            "rollout.health.command.line",
        ),
        (
            json!({"health": {"command": {"script_id": check, "parameter": "'unclosed"}}}),
            "rollout.health.command.parameter",
        ),
    ] {
        let (status, answer) = admin.post(&alldata, &bindings(bad)).await;
        assert_eq!(status, 200, "{answer}");
        let info = assert_failure(&answer, "invalid_field");
        assert!(info.contains(field), "{info}");
    }
    let (_, answer) = admin
        .post(&alldata, &bindings(rollout_checking("no-such-script")))
        .await;
    assert_eq!(answer["success"], false, "{answer}");

    // 127.0.0.3 is sick: batch 1 (127.0.0.2) passes its check; batch 2's host deploys, fails its
    // check twice (one retry), and the rollout stops there.
    std::fs::write(markers.join("sick-127.0.0.3"), "").expect("marker");
    admin
        .post_ok(&alldata, &bindings(rollout_checking(&check)))
        .await;
    let plan = plan_over_ssh(&admin, &instance).await;
    let frozen = &plan["steps"][0]["rollout"]["health"]["command"]["script"];
    assert_eq!(
        (
            frozen["script_name"].clone(),
            frozen["file_name"].clone(),
            frozen["able"].clone()
        ),
        (json!("health"), json!("health.sh"), json!(true)),
        "the plan shows the check's script as the run freezes it: {plan}"
    );
    let run = deploy_over_ssh(&admin, &instance, "executionall").await;
    let tree = wait_for_status(&admin, &run, "failed", Duration::from_secs(60)).await;
    let hosts = tree["steps"][0]["hosts"].as_array().expect("hosts").clone();
    let status_of = |ip: &str| {
        hosts
            .iter()
            .find(|host| host["host_ip"] == ip)
            .map(|host| (host["status"].clone(), host["message"].clone()))
            .expect("host task")
    };
    assert_eq!(status_of("127.0.0.2").0, "success", "{tree}");
    let (status, message) = status_of("127.0.0.3");
    assert_eq!(status, "failed", "{tree}");
    let message = message.as_str().unwrap_or_default();
    assert!(
        message.contains("health check script health (health.sh)")
            && message.contains("exited with code 3"),
        "{message}"
    );
    assert_eq!(
        (
            deploys_on(&root, "127.0.0.2"),
            deploys_on(&root, "127.0.0.3")
        ),
        (1, 1),
        "each host deployed once, then was checked"
    );
    let logs = all_logs(&admin, &run).await;
    let log_of = |ip: &str| {
        logs.iter()
            .find(|(host, _)| host == ip)
            .map(|(_, text)| text.clone())
            .expect("log")
    };
    let healthy = log_of("127.0.0.2");
    assert!(
        healthy.contains("health of 127.0.0.2")
            && healthy.contains("exited with code 0 (try 1 of 2)"),
        "the script's output and its outcome are in the log: {healthy}"
    );
    let sick = log_of("127.0.0.3");
    assert!(
        sick.contains("127.0.0.3 is sick") && sick.contains("exited with code 3 (try 2 of 2)"),
        "{sick}"
    );
    let checks: Vec<(String, String)> = read_events(&admin, &run, None)
        .await
        .into_iter()
        .filter(|(_, _, data)| data["scope"] == "check")
        .map(|(_, _, data)| {
            (
                data["host_ip"].as_str().unwrap_or_default().to_owned(),
                data["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        checks,
        [
            ("127.0.0.2".to_owned(), "passed".to_owned()),
            ("127.0.0.3".to_owned(), "failed".to_owned())
        ]
    );

    // A check script nobody reviewed: the plan names it as a blocker, and a run fails before any
    // host (nothing deployed again).
    admin
        .post_ok(&alldata, &bindings(rollout_checking(&draft)))
        .await;
    let plan = plan_over_ssh(&admin, &instance).await;
    let blockers = plan["blockers"].to_string();
    assert!(
        blockers.contains("unreviewed_script") && blockers.contains("health check script draft"),
        "{plan}"
    );
    let refused = deploy_over_ssh(&admin, &instance, "executionall").await;
    let tree = wait_for_status(&admin, &refused, "failed", Duration::from_secs(30)).await;
    let message = tree["message"].to_string();
    assert!(
        message.contains("health check script draft (draft.sh) is disabled"),
        "{tree}"
    );
    assert_eq!(
        (
            deploys_on(&root, "127.0.0.2"),
            deploys_on(&root, "127.0.0.3")
        ),
        (1, 1),
        "nothing ran"
    );
    process.terminate();
    crashable.clean_up();
}
