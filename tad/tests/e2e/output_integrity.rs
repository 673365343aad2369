//! Every output line is kept, and every event stream ends with the run's terminal event: many
//! runs of fast, bursty, interleaved stdout/stderr output (long lines, a last line without a
//! newline) on four hosts of a real `sshd`, each line checked to be in the log route and in the
//! SSE stream exactly once and in order; and 100 concurrent SSE streams on one run, repeated, each
//! ending with the run's final event, none repeating an event, a resumed one with no gap.
//! On PostgreSQL + Redis (the Redis event-bus fan-out) when `TEST_DATABASE_URL` /
//! `TEST_REDIS_URL` are set.

use crate::support;
use crate::support::events::{Frame, read_events, read_first_events, read_task_log};
use crate::support::fixtures::app_with_cluster;
use crate::support::fixtures::{env, post_all, product_line, upload_component};

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use serde_json::json;
use support::{
    Api, EmbeddedPlatform, assert_success,
    sshd::{KEY_USER, LISTEN_ADDRESSES, TestSshd},
};

const ADMIN_PASSWORD: &str = "integrity-admin-password";

/// The output patterns the method prints, one per instance (so they run side by side).
const PATTERNS: [&str; 5] = ["tight", "burst", "interleaved", "long", "steady"];

/// The method's entrypoint: prints the pattern named in `params.json`. Command lines start with
/// `O:` (stdout) or `E:` (stderr) and name the pattern; both streams end without a newline.
const RUN_SH: &str = r#"case "$(cat params.json)" in
  *'"tight"'*) p=tight
    for i in $(seq 1 600); do
      echo "O:$p:$i"
      if [ $((i % 3)) -eq 0 ]; then echo "E:$p:$((i / 3))" >&2; fi
    done ;;
  *'"burst"'*) p=burst
    for b in 1 2 3 4 5 6 7 8; do
      for i in $(seq 1 50); do echo "O:$p:$b.$i"; done
      echo "E:$p:$b" >&2
      sleep 0.03
    done ;;
  *'"interleaved"'*) p=interleaved
    for i in $(seq 1 300); do echo "O:$p:$i"; echo "E:$p:$i" >&2; done ;;
  *'"long"'*) p=long
    for i in $(seq 1 24); do
      printf "O:$p:$i:%0$((i * 500))d\n" 0
      echo "E:$p:$i" >&2
    done ;;
  *'"steady"'*) p=steady
    for i in $(seq 1 40); do
      echo "O:$p:$i"
      if [ $((i % 5)) -eq 0 ]; then echo "E:$p:$((i / 5))" >&2; fi
      sleep 0.01
    done ;;
  *) echo "no pattern in params.json" >&2; exit 2 ;;
esac
printf 'O:%s:end' "$p"
printf 'E:%s:end' "$p" >&2
"#;

/// The stdout and stderr lines `RUN_SH` prints for `pattern`, in order.
fn expected_lines(pattern: &str) -> (Vec<String>, Vec<String>) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    match pattern {
        "tight" => {
            for i in 1..=600 {
                out.push(format!("O:tight:{i}"));
                if i % 3 == 0 {
                    err.push(format!("E:tight:{}", i / 3));
                }
            }
        }
        "burst" => {
            for b in 1..=8 {
                for i in 1..=50 {
                    out.push(format!("O:burst:{b}.{i}"));
                }
                err.push(format!("E:burst:{b}"));
            }
        }
        "interleaved" => {
            for i in 1..=300 {
                out.push(format!("O:interleaved:{i}"));
                err.push(format!("E:interleaved:{i}"));
            }
        }
        "long" => {
            for i in 1..=24 {
                out.push(format!("O:long:{i}:{}", "0".repeat(i * 500)));
                err.push(format!("E:long:{i}"));
            }
        }
        "steady" => {
            for i in 1..=40 {
                out.push(format!("O:steady:{i}"));
                if i % 5 == 0 {
                    err.push(format!("E:steady:{}", i / 5));
                }
            }
        }
        other => panic!("unknown pattern {other}"),
    }
    out.push(format!("O:{pattern}:end"));
    err.push(format!("E:{pattern}:end"));
    (out, err)
}

/// The command's lines of one stream (`O:` or `E:`) in a host's log, in order.
fn lines_of(log: &str, prefix: &str) -> Vec<String> {
    log.lines()
        .filter(|line| line.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// Checks that every line of `pattern` is in `log` exactly once, in order per stream.
fn check_log(log: &str, pattern: &str, what: &str) {
    let (out, err) = expected_lines(pattern);
    for (prefix, expected) in [("O:", out), ("E:", err)] {
        let found = lines_of(log, prefix);
        if found != expected {
            let missing: Vec<&String> = expected.iter().filter(|l| !found.contains(l)).collect();
            let extra: Vec<&String> = found.iter().filter(|l| !expected.contains(l)).collect();
            panic!(
                "{what}: the {prefix} lines differ ({} found, {} expected); missing {:?}; \
                 unexpected {:?}",
                found.len(),
                expected.len(),
                missing.iter().take(10).collect::<Vec<_>>(),
                extra
                    .iter()
                    .take(5)
                    .map(|line| line.chars().take(120).collect::<String>())
                    .collect::<Vec<_>>(),
            );
        }
    }
}

/// Checks a whole stream: numbered without repeats, ending with the run's final event.
fn check_stream(frames: &[Frame], what: &str) {
    assert!(
        frames.windows(2).all(|pair| pair[1].0 > pair[0].0),
        "{what}: events out of order or repeated: {:?}",
        frames.iter().map(|frame| frame.0).collect::<Vec<_>>()
    );
    let last = frames.last().unwrap_or_else(|| panic!("{what}: no event"));
    let status = last.2["status"].as_str().unwrap_or_default();
    assert!(
        last.1 == "run" && !matches!(status, "running" | "pending" | ""),
        "{what}: the stream ended before the run's final event; its last: {last:?}"
    );
}

/// The log text of each host task as the SSE stream carried it, checking that its chunks follow
/// each other without gap or overlap.
fn stream_logs(frames: &[Frame]) -> BTreeMap<String, String> {
    let mut logs: BTreeMap<String, String> = BTreeMap::new();
    for (id, _, data) in frames.iter().filter(|frame| frame.1 == "log") {
        let task = data["host_task"].as_str().expect("host task").to_owned();
        let text = data["text"].as_str().expect("text");
        let log = logs.entry(task).or_default();
        assert_eq!(
            data["offset"].as_u64(),
            Some(log.len() as u64),
            "log event {id} starts where the previous one ended"
        );
        log.push_str(text);
    }
    logs
}

/// Makes the catalog: one application, cluster (all four loopback hosts), template and instance
/// per pattern, every instance `ready`. Answers (pattern, instance id).
async fn configure(admin: &Api, sshd: &TestSshd) -> Vec<(&'static str, String)> {
    post_all(admin, &[product_line("pl", "pl"), env("env", "env")]).await;
    let mut hosts = Vec::new();
    for ip in LISTEN_ADDRESSES {
        hosts.push(
            admin
                .post_id(
                    "/api/resource/hosts/aos_create",
                    // By key: the password of the test user is machine-wide, and other test
                    // processes set their own.
                    &json!({"host_IP": ip, "host_name": format!("h-{ip}"), "ssh_user": KEY_USER,
                    "ssh_private_key": sshd.private_key_pem, "ssh_port": sshd.port.to_string(),
                    "productLine_id": "pl", "env_id": "env"}),
                )
                .await,
        );
    }
    let manifest = "component: {id: flood, name: flood, remark: prints a lot}\nmethod: {id: flood1, name: print, remark: prints a pattern}\nentrypoint: run.sh\nparams:\n  - key: pattern\n    require: true\n";
    upload_component(admin, manifest, RUN_SH.as_bytes().to_vec()).await;
    let pattern_node = admin
        .get_ok("/api/app/jobinstance/flood1/config/desc")
        .await[0]["id"]
        .as_str()
        .expect("node id")
        .to_owned();
    let mut instances = Vec::new();
    for pattern in PATTERNS {
        let app = format!("app-{pattern}");
        let cluster = app_with_cluster(
            admin,
            (&app, "pl"),
            (&format!("c-{pattern}"), "env"),
            &hosts,
        )
        .await;
        let template = admin
            .post_id(
                "/api/app/jobtemplate/create",
                &json!({"name": format!("t-{pattern}"), "application_id": app}),
            )
            .await;
        admin.post_ok(&format!("/api/app/jobtemplate/{template}/graded"),
                &json!({"method": [{"component_id": "flood", "method_id": "flood1", "sequence": 0}]})).await;
        let instance = admin
            .post_id(
                "/api/app/jobinstance/create",
                &json!({"name": format!("i-{pattern}"), "env_id": "env", "application_id": app,
                    "job_template_id": template}),
            )
            .await;
        admin
            .post_ok(
                &format!("/api/app/jobinstance/{instance}/flood1/0/relation/alldata"),
                &json!({"cluster": {"cluster_id": cluster},
                    "config": {"config_value": {pattern_node.clone(): pattern}}}),
            )
            .await;
        let (_, body) = admin
            .get(&format!("/api/app/jobinstance/{instance}/details"))
            .await;
        assert_eq!(assert_success(&body)["status"], "ready", "{body}");
        instances.push((pattern, instance));
    }
    instances
}

async fn start_platform(root: &std::path::Path) -> EmbeddedPlatform {
    EmbeddedPlatform::start(
        ADMIN_PASSWORD,
        &[
            (
                "TAD_EXECUTION_WORK_DIR",
                root.join("work").to_str().expect("path"),
            ),
            ("TAD_SSH_TIMEOUT_SECS", "20"),
        ],
    )
    .await
}

fn temp_root(prefix: &str) -> PathBuf {
    let root = PathBuf::from("/tmp").join(format!("{prefix}-{}", common::ids::new_id()));
    std::fs::create_dir_all(&root).expect("root");
    std::process::Command::new("chmod")
        .arg("1777")
        .arg(&root)
        .status()
        .expect("chmod");
    root
}

/// The admin's client, without idle connections kept (many test tasks share it, and a kept
/// connection the server has just closed fails the next request).
fn client_of(admin: &Api) -> Api {
    Api {
        base: admin.base.clone(),
        http: common::https::client_builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(0)
            .build()
            .expect("http client"),
        token: admin.token.clone(),
    }
}

/// Starts 6.1 without waiting; answers the run id.
async fn launch(api: &Api, instance: &str, use_tad_host: bool) -> String {
    let (_, body) = api
        .post(
            &format!("/api/app/jobinstance/{instance}/executionall?wait=false"),
            &json!({"use_tad_host": use_tad_host}),
        )
        .await;
    assert_success(&body)["execution_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no execution id: {body}"))
        .to_owned()
}

/// One run of `pattern`: its live stream and every host's log checked line by line.
async fn run_and_check(api: &Api, instance: &str, pattern: &str, round: usize) {
    let run = launch(api, instance, false).await;
    let what = format!("run {run} ({pattern}, round {round})");
    let frames = read_events(api, &run, None).await;
    check_stream(&frames, &what);
    let tree = api.get_ok(&format!("/api/executions/{run}")).await;
    assert_eq!(tree["status"], "success", "{what}: {tree}");
    let from_stream = stream_logs(&frames);
    let hosts = tree["steps"][0]["hosts"].as_array().expect("hosts");
    assert_eq!(hosts.len(), LISTEN_ADDRESSES.len(), "{what}");
    for host in hosts {
        let task = host["id"].as_str().expect("task");
        let ip = host["host_ip"].as_str().expect("ip");
        let logged = read_task_log(api, &run, task).await;
        check_log(&logged, pattern, &format!("{what} on {ip}, log route"));
        let streamed = from_stream.get(task).map(String::as_str).unwrap_or("");
        check_log(streamed, pattern, &format!("{what} on {ip}, event stream"));
        assert_eq!(
            streamed, logged,
            "{what} on {ip}: stream and log route agree"
        );
    }
}

/// Runs per pattern (instances run side by side, each one run at a time); `INTEGRITY_ROUNDS`
/// overrides it.
fn rounds() -> usize {
    std::env::var("INTEGRITY_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(40)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_output_line_reaches_the_log_and_the_stream_once() {
    let Some((_sshd, root, platform, admin, instances)) = start_configured("tad-integrity").await
    else {
        return;
    };
    let started = std::time::Instant::now();
    let rounds = rounds();
    let mut workers = Vec::new();
    for (pattern, instance) in instances {
        let api = client_of(&admin);
        workers.push(tokio::spawn(async move {
            for round in 0..rounds {
                run_and_check(&api, &instance, pattern, round).await;
            }
        }));
    }
    for worker in workers {
        worker.await.expect("runs of one pattern");
    }
    eprintln!(
        "{} runs on {} hosts checked in {:?}",
        rounds * PATTERNS.len(),
        LISTEN_ADDRESSES.len(),
        started.elapsed()
    );
    platform.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}

/// The test sshd, a platform under a fresh temp root, admin and the catalog [`configure`] made;
/// `None` where no sshd can run here.
async fn start_configured(prefix: &str) -> Option<Configured> {
    let sshd = TestSshd::start()?;
    let root = temp_root(prefix);
    let platform = start_platform(&root).await;
    let admin = Api::new(platform.url())
        .login("admin", ADMIN_PASSWORD)
        .await;
    let instances = configure(&admin, &sshd).await;
    Some((sshd, root, platform, admin, instances))
}

/// What [`start_configured`] answers.
type Configured = (
    TestSshd,
    PathBuf,
    EmbeddedPlatform,
    Api,
    Vec<(&'static str, String)>,
);

/// Concurrent streams per round, and rounds.
const STREAMS: usize = 100;
const STREAM_ROUNDS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_concurrent_stream_ends_with_the_run_final_event() {
    let Some((_sshd, root, platform, admin, instances)) = start_configured("tad-streams").await
    else {
        return;
    };
    let (_, instance) = instances
        .iter()
        .find(|(pattern, _)| *pattern == "steady")
        .expect("the steady instance");
    for round in 0..STREAM_ROUNDS {
        let run = launch(&admin, instance, round % 2 == 1).await;
        let what = format!("round {round}, run {run}");
        let mut streams = Vec::new();
        for index in 0..STREAMS {
            let api = client_of(&admin);
            let run = run.clone();
            streams.push(tokio::spawn(async move {
                // Streams join while the run goes on, not all at its start.
                tokio::time::sleep(Duration::from_millis((index as u64 % 20) * 15)).await;
                read_events(&api, &run, None).await
            }));
        }
        // One more stream hangs up after its first events and resumes with Last-Event-ID.
        let resuming = {
            let api = client_of(&admin);
            let run = run.clone();
            tokio::spawn(async move {
                let first = read_first_events(&api, &run, 3).await;
                let last = first.last().expect("three events").0;
                let mut frames = first;
                frames.extend(read_events(&api, &run, Some(last)).await);
                frames
            })
        };
        let mut streamed = Vec::new();
        for (index, stream) in streams.into_iter().enumerate() {
            let frames = stream.await.expect("stream task");
            check_stream(&frames, &format!("{what}, stream {index}"));
            streamed.push(frames);
        }
        let resumed_live = resuming.await.expect("resuming stream");
        check_stream(&resumed_live, &format!("{what}, resumed live"));
        // The history read after the end is the same numbered list, from 1, without a gap.
        let history = read_events(&admin, &run, None).await;
        check_stream(&history, &format!("{what}, history"));
        let ids: Vec<u64> = history.iter().map(|frame| frame.0).collect();
        assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "{what}");
        let ids_of = |frames: &[Frame]| frames.iter().map(|frame| frame.0).collect::<Vec<_>>();
        for (index, frames) in streamed.iter().enumerate() {
            assert_eq!(
                ids_of(frames),
                ids,
                "{what}: stream {index} carries every event once"
            );
        }
        assert_eq!(
            ids_of(&resumed_live),
            ids,
            "{what}: the resumed stream has no gap"
        );
        // Resumed after any event: exactly the later ones, no gap, no repeat.
        for resume_after in [
            1,
            ids.len() as u64 / 3,
            ids.len() as u64 / 2,
            ids.len() as u64 - 1,
        ] {
            let resumed = read_events(&admin, &run, Some(resume_after)).await;
            check_stream(&resumed, &format!("{what}, resumed after {resume_after}"));
            assert_eq!(
                resumed.iter().map(|frame| frame.0).collect::<Vec<_>>(),
                ids.iter()
                    .copied()
                    .filter(|id| *id > resume_after)
                    .collect::<Vec<_>>(),
                "{what}: resumed after {resume_after}"
            );
        }
    }
    platform.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}
