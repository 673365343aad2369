//! A health-gated progressive rollout (issue 21) over a real sshd on six hosts: version 1 is
//! deployed in three batches (every health check passes); version 2's batch 2 hosts answer
//! their health URL with 500, so batch 3 never starts, the run rolls back every host it touched
//! (batches 1 and 2) to version 1's snapshot and ends `rolled_back` naming the hosts and the
//! check; `kill -9` during the rollback, and the restarted service completes it by itself. The
//! events tell it in order; the files on the hosts show it (md5); bad rollouts are refused by
//! field.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use support::sshd::MORE_ADDRESSES;

use super::*;

/// The six "hosts" (all this machine, each its own loopback address).
const ROLLOUT_HOSTS: [&str; 6] = [
    "127.0.0.2",
    "127.0.0.3",
    "127.0.0.4",
    MORE_ADDRESSES[0],
    MORE_ADDRESSES[1],
    MORE_ADDRESSES[2],
];

/// A health endpoint on every host's address at one port: 200, except for `failing` hosts
/// while `broken` is set (500).
struct HealthServer {
    port: u16,
    broken: Arc<AtomicBool>,
    failing: Arc<std::sync::Mutex<Vec<String>>>,
}

impl HealthServer {
    async fn start() -> HealthServer {
        let broken = Arc::new(AtomicBool::new(false));
        let failing = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        'port: for _ in 0..20 {
            let first = tokio::net::TcpListener::bind("127.0.0.2:0")
                .await
                .expect("bind");
            let port = first.local_addr().expect("addr").port();
            let mut listeners = vec![first];
            for ip in &ROLLOUT_HOSTS[1..] {
                match tokio::net::TcpListener::bind((*ip, port)).await {
                    Ok(listener) => listeners.push(listener),
                    Err(_) => continue 'port,
                }
            }
            for listener in listeners {
                let (broken, failing) = (broken.clone(), failing.clone());
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    while let Ok((mut stream, _)) = listener.accept().await {
                        let ip = stream.local_addr().expect("addr").ip().to_string();
                        let sick = broken.load(Ordering::SeqCst)
                            && failing.lock().expect("failing").contains(&ip);
                        tokio::spawn(async move {
                            let mut buffer = [0_u8; 2048];
                            let _ = stream.read(&mut buffer).await;
                            let status = if sick {
                                "500 Internal Server Error"
                            } else {
                                "200 OK"
                            };
                            let answer = format!(
                                "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                            );
                            let _ = stream.write_all(answer.as_bytes()).await;
                        });
                    }
                });
            }
            return HealthServer {
                port,
                broken,
                failing,
            };
        }
        panic!("no port free on every host address");
    }
}

/// The artifact file on host `ip`.
fn artifact_on(root: &Path, ip: &str) -> PathBuf {
    root.join("hosts").join(ip).join("app/app.tar.gz")
}

/// The md5 of each host's artifact file (`None` where there is none).
fn md5s_on_hosts(root: &Path) -> Vec<Option<String>> {
    ROLLOUT_HOSTS
        .iter()
        .map(|ip| {
            std::fs::read(artifact_on(root, ip))
                .ok()
                .map(|bytes| md5_hex(&bytes))
        })
        .collect()
}

/// One step (the custom method) pushing `file` to every host and running the reviewed script
/// with `parameter`, with `rollout`.
fn step_bindings(
    root: &Path,
    cluster: &str,
    file: &str,
    script: &str,
    parameter: &str,
    rollout: Value,
) -> Value {
    let per_host = |make: &dyn Fn(&str, String) -> Value| -> Vec<Value> {
        ROLLOUT_HOSTS
            .iter()
            .map(|ip| make(ip, root.join("hosts").join(ip).display().to_string()))
            .collect()
    };
    json!({
        "cluster": {"cluster_id": cluster},
        "artifacts": per_host(&|ip, dir| json!({"file_id": file, "dest": format!("{dir}/app"), "host_IP": [ip]})),
        "scripts": {"scripts_data": per_host(&|ip, dir| json!({"id": script, "dest": format!("{dir}/scripts"), "host_IP": [ip], "parameter": parameter, "execute_type": "shell"}))},
        "rollout": rollout,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rollout_whose_second_batch_fails_its_health_check_rolls_back_even_across_a_crash() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    // Its first run takes three batches of 4 s and health checks: a 6 s lease, so a loaded CI
    // machine that starves the process for two seconds does not make it give the run up.
    let crashable = CrashablePlatform::with_lease("tad-rollout", 6);
    let root = crashable.root.clone();
    let (process, url) = crashable.serve();
    let admin = Api::new(&url).login("admin", ADMIN_PASSWORD).await;
    for ip in ROLLOUT_HOSTS {
        shared_dir(&root.join("hosts").join(ip));
    }
    let health = HealthServer::start().await;
    let (hook_url, posts) = webhook_receiver().await;
    admin
        .post_ok("/api/admin/webhooks", &json!({"url": hook_url}))
        .await;

    let cluster = cluster_of_hosts(&admin, &sshd, "rollout-c", &ROLLOUT_HOSTS).await;

    // Two versions of the artifact; a reviewed script that sleeps $1 seconds and records its runs.
    let versions: Vec<Vec<u8>> = ["one", "two"]
        .iter()
        .map(|tag| {
            tar_gz(&[(
                "app.bin",
                format!("version {tag}\n").repeat(50_000).into_bytes(),
            )])
        })
        .collect();
    let mut files = Vec::new();
    for (index, bytes) in versions.iter().enumerate() {
        let query = format!("app_id=app1&version={}.0.0&name=app", index + 1);
        files.push(sync_package_field(&admin, &query, "app.tar.gz", bytes, "file_id").await);
    }
    let script = b"#!/bin/bash\necho \"run $*\" >> ./script-runs\nsleep \"$1\"\n".to_vec();
    let script_id = upload_reviewed_script(&admin, "deploy", "deploy.sh", &script).await;
    let template = admin
        .post_id(
            "/api/app/jobtemplate/create",
            &json!({"name": "rolling", "application_id": "app1"}),
        )
        .await;
    admin
        .post_ok(
            &format!("/api/app/jobtemplate/{template}/graded"),
            &json!({"method": [{"component_id": "custom", "method_id": "cu1", "sequence": 0}]}),
        )
        .await;
    let instance = admin
        .post_id(
            "/api/app/jobinstance/create",
            &json!({"name": "rolling-one", "env_id": "env1", "application_id": "app1", "job_template_id": template}),
        )
        .await;
    let alldata = format!("/api/app/jobinstance/{instance}/cu1/0/relation/alldata");
    let rollout = json!({"batches": [2, 4, 6], "health": {"http": {"url": format!("http://{{host}}:{}/health", health.port), "retries": 1, "interval_seconds": 1, "timeout_seconds": 2}}, "max_failed_hosts": 0, "on_failure": "rollback"});

    // Refused by field, nothing saved.
    for (bad, field) in [
        (json!({"batches": [2, 1]}), "rollout.batches[1]"),
        (
            json!({"health": {"http": {"url": "http://169.254.169.254/latest"}}}),
            "rollout.health.http.url",
        ),
        (json!({"on_failure": "pray"}), "rollout.on_failure"),
    ] {
        let (status, answer) = admin
            .post(
                &alldata,
                &step_bindings(&root, &cluster, &files[0], &script_id, "0", bad),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        let info = assert_failure(&answer, "invalid_field");
        assert!(info.contains(field), "{info}");
    }

    // Version 1 in three batches, every check passing (its script sleeps 4 s: so will the
    // rollback to its snapshot, which gives the kill below a moment to land in).
    admin
        .post_ok(
            &alldata,
            &step_bindings(&root, &cluster, &files[0], &script_id, "4", rollout.clone()),
        )
        .await;
    let plan = plan_over_ssh(&admin, &instance).await;
    let batches: Vec<Vec<String>> =
        serde_json::from_value(plan["steps"][0]["batches"].clone()).expect("batches");
    assert_eq!(
        batches.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![2, 2, 2],
        "{plan}"
    );
    let planned = &plan["steps"][0]["rollout"];
    assert_eq!(
        (
            planned["on_failure"].clone(),
            planned["max_failed_hosts"].clone(),
            planned["health"]["http"]["expect_status"].clone()
        ),
        (json!("rollback"), json!(0), json!(200)),
        "the plan shows the rollout: {plan}"
    );
    let first = deploy_over_ssh(&admin, &instance, "executionall").await;
    let tree = wait_for_status(&admin, &first, "success", Duration::from_secs(90)).await;
    let (v1, v2) = (md5_hex(&versions[0]), md5_hex(&versions[1]));
    assert_eq!(md5s_on_hosts(&root), vec![Some(v1.clone()); 6], "{tree}");
    let frames = read_events(&admin, &first, None).await;
    let passed = frames
        .iter()
        .filter(|(_, _, data)| data["scope"] == "check" && data["status"] == "passed")
        .count();
    assert_eq!(passed, 6, "every host was checked");
    let untouched: Vec<(u64, i64)> = batches[2].iter().map(|ip| stamp(&root, ip)).collect();

    // Version 2 (its script does not sleep): batch 2's hosts answer their health URL with 500.
    *health.failing.lock().expect("failing") = batches[1].clone();
    health.broken.store(true, Ordering::SeqCst);
    admin
        .post_ok(
            &alldata,
            &step_bindings(&root, &cluster, &files[1], &script_id, "0", rollout.clone()),
        )
        .await;
    let second = deploy_over_ssh(&admin, &instance, "executionall?wait=false").await;

    // The rollback begins (batch 1's and 2's hosts hold version 2 now); kill -9 while its
    // script sleeps, then start again: the service completes the rollback by itself.
    let deadline = Instant::now() + Duration::from_secs(60);
    let runs_of = |ip: &str| {
        std::fs::read_to_string(root.join("hosts").join(ip).join("scripts/script-runs"))
            .unwrap_or_default()
    };
    while runs_of(&batches[0][0]).lines().count() < 3 {
        assert!(Instant::now() < deadline, "the rollback never began");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let tree = admin.get_ok(&format!("/api/executions/{second}")).await;
    assert_eq!(tree["status"], "running", "{tree}");
    let mut process = process;
    process.child.kill().expect("kill -9");
    process.child.wait().expect("reaped");
    let (restarted, url) = crashable.serve();
    let admin = admin.with_base(&url);
    let tree = wait_for_status(&admin, &second, "rolled_back", Duration::from_secs(90)).await;

    // The run names the hosts and the failed check; the tree shows the rollout's step failed,
    // batch 3's hosts never started, and the rollback step done.
    let message = tree["message"].as_str().expect("message").to_owned();
    for host in batches[0].iter().chain(&batches[1]) {
        assert!(message.contains(host.as_str()), "{message}");
    }
    let check = format!(
        "health check GET http://{}:{}/health expecting 200",
        batches[1][0], health.port
    );
    assert!(
        message.contains(&check) && message.contains("answered 500"),
        "{message}"
    );
    assert!(
        message.contains("batch 2 of 3") && message.contains("batch 3 did not start"),
        "{message}"
    );
    let steps = tree["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 2, "{tree}");
    assert_eq!(
        (steps[0]["status"].clone(), steps[1]["status"].clone()),
        (json!("failed"), json!("success")),
        "{tree}"
    );
    for host in steps[0]["hosts"].as_array().expect("hosts") {
        let ip = host["host_ip"].as_str().expect("ip");
        let expected = if batches[2].iter().any(|untouched| untouched == ip) {
            "skipped"
        } else if batches[1].iter().any(|sick| sick == ip) {
            "failed"
        } else {
            "success"
        };
        assert_eq!(host["status"], expected, "{ip}: {tree}");
    }
    let rolled: Vec<&str> = steps[1]["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .map(|host| host["host_ip"].as_str().expect("ip"))
        .collect();
    let mut touched: Vec<&str> = batches[0]
        .iter()
        .chain(&batches[1])
        .map(String::as_str)
        .collect();
    touched.sort();
    let mut rolled_sorted = rolled.clone();
    rolled_sorted.sort();
    assert_eq!(rolled_sorted, touched, "only the touched hosts roll back");

    // On the hosts: every file is version 1 again; batch 3's never changed; each touched
    // host ran the script three times (v1, v2, the rollback once though the kill hit it),
    // batch 3's once.
    assert_eq!(md5s_on_hosts(&root), vec![Some(v1.clone()); 6]);
    assert_ne!(v1, v2);
    let now: Vec<(u64, i64)> = batches[2].iter().map(|ip| stamp(&root, ip)).collect();
    assert_eq!(now, untouched, "batch 3's files were never written");
    let logs = all_logs(&admin, &second).await;
    for ip in ROLLOUT_HOSTS {
        let expected = if batches[2].iter().any(|untouched| untouched == ip) {
            "run 4\n"
        } else {
            "run 4\nrun 0\nrun 4\n"
        };
        assert_eq!(runs_of(ip), expected, "{ip}: {logs:#?}");
    }

    // The events, in order: batches 1 and 2, their checks, the step's failure, the rollback,
    // the crash and the resume, the end.
    let frames = read_events(&admin, &second, None).await;
    let story: Vec<String> = frames
        .iter()
        .filter_map(|(_, _, data)| match data["scope"].as_str()? {
            "batch" => Some(format!(
                "batch {} {}",
                data["batch"],
                data["status"].as_str()?
            )),
            "check" => Some(format!("check {}", data["status"].as_str()?)),
            "step" => Some(format!(
                "step {} {}",
                data["sequence"],
                data["status"].as_str()?
            )),
            "rollback" => Some(format!("rollback {}", data["status"].as_str()?)),
            "run" => Some(format!("run {}", data["status"].as_str()?)),
            _ => None,
        })
        .collect();
    let position = |wanted: &str| {
        story
            .iter()
            .position(|line| line == wanted)
            .unwrap_or_else(|| panic!("no {wanted:?} in {story:?}"))
    };
    let order = [
        "batch 1 running",
        "batch 1 success",
        "batch 2 running",
        "check failed",
        "batch 2 failed",
        "step 0 failed",
        "rollback running",
        "step 30000 running",
        "run interrupted",
        "step 30000 success",
        "run rolled_back",
    ];
    let positions: Vec<usize> = order.iter().map(|wanted| position(wanted)).collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "{order:?} in order: {story:?}"
    );
    println!("rollout: {message}\nrollout events: {story:?}");
    assert!(
        !story.iter().any(|line| line.starts_with("batch 3")),
        "{story:?}"
    );
    assert_eq!(
        story.iter().filter(|line| *line == "check passed").count(),
        2,
        "{story:?}"
    );

    // Webhooks: the batches and the run's end.
    wait_for_post(&posts, "batch 2 failed", |body| {
        body["event"] == "execution.batch"
            && body["execution_id"] == second.as_str()
            && body["batch"] == 2
            && body["status"] == "failed"
    })
    .await;
    wait_for_post(&posts, "a failed check", |body| {
        body["event"] == "execution.check"
            && body["execution_id"] == second.as_str()
            && body["status"] == "failed"
            && body["host_ip"] == batches[1][0].as_str()
    })
    .await;
    wait_for_post(&posts, "the rolled back run", |body| {
        body["event"] == "execution.finished"
            && body["execution_id"] == second.as_str()
            && body["status"] == "rolled_back"
    })
    .await;

    // The audit trail: the rollback and its resume, by the system.
    for action in ["execution.auto_rollback", "execution.resume"] {
        let (_, trail) = admin
            .get(&format!("/api/audit?action={action}&actor=system"))
            .await;
        assert_eq!(trail["count"], 1, "{action}: {trail}");
        assert_eq!(trail["results"][0]["object_id"], second.as_str(), "{trail}");
    }

    // The instance can deploy again: with the health fixed, version 2 goes out to every host.
    health.broken.store(false, Ordering::SeqCst);
    let third = deploy_over_ssh(&admin, &instance, "executionall").await;
    assert_ne!(
        third, second,
        "a new run, not a resume of the rolled back one"
    );
    wait_for_status(&admin, &third, "success", Duration::from_secs(90)).await;
    assert_eq!(md5s_on_hosts(&root), vec![Some(v2); 6]);

    restarted.terminate();
    crashable.clean_up();
}

/// (inode, modification time in ns) of host `ip`'s artifact file.
fn stamp(root: &Path, ip: &str) -> (u64, i64) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(artifact_on(root, ip)).expect("artifact");
    (meta.ino(), meta.mtime() * 1_000_000_000 + meta.mtime_nsec())
}
