//! The `Idempotency-Key` header of 6.1: a repeated key answers the run the first request started
//! (while it runs and after it ended) without starting another; the same key with another body
//! is refused naming the header; concurrent identical requests with one key start one run; a
//! malformed key is refused naming the header. On 6.2, retry, rollback and 2.1 a repeated key
//! answers the execution without running its hosts again; keys of different routes do not meet.

use super::*;
use crate::support::fixtures::{create_joint_line, save_joint_graph};

/// POST 6.1 of `instance` with `key` (`wait=false` unless `wait`), answering the envelope.
async fn start_keyed(api: &Api, instance: &str, key: &str, body: Value, wait: bool) -> Value {
    let path = format!("/api/app/jobinstance/{instance}/executionall?wait={wait}");
    post_keyed(api, &path, key, body).await
}

/// POST `path` with the `Idempotency-Key` header `key`, answering the envelope.
async fn post_keyed(api: &Api, path: &str, key: &str, body: Value) -> Value {
    let response = api
        .http
        .post(format!("{}{path}", api.base))
        .header(
            "authorization",
            format!("Bearer {}", api.token.as_deref().expect("token")),
        )
        .header("content-type", "application/json")
        .header("Idempotency-Key", key)
        .body(body.to_string())
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.expect("JSON answer")
}

/// How many runs the instance has.
async fn run_count(api: &Api, instance: &str) -> u64 {
    let (status, page) = api
        .get(&format!(
            "/api/app/jobinstance/{instance}/executions?page=1&page_size=1"
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    page["count"].as_u64().expect("count")
}

/// How many times the step-1 script slept (once per run of that step).
fn sleeps(deployment: &Deployment) -> usize {
    std::fs::read_to_string(deployment.root.join("two-step2/script-runs"))
        .map(|runs| runs.matches("sleep").count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_repeated_idempotency_key_starts_one_run() {
    let Some((_sshd, root, platform, admin, deployment)) =
        start_deployed("tad-idempotency", &[]).await
    else {
        return;
    };
    let two = deployment.two_steps.clone();
    bind_two_steps_script(&admin, &deployment, "sleep 3").await;

    // The first request starts a run; repeated while it runs, it answers the same run.
    let first = start_keyed(&admin, &two, "deploy-2026-12-05-a", json!({}), false).await;
    let run = execution_id(&first);
    let again = start_keyed(&admin, &two, "deploy-2026-12-05-a", json!({}), false).await;
    assert_eq!(execution_id(&again), run, "{again}");
    assert_eq!(run_count(&admin, &two).await, 1);

    // The same key with another body is refused, naming the header; nothing starts.
    let other = start_keyed(
        &admin,
        &two,
        "deploy-2026-12-05-a",
        json!({"use_tad_host": true}),
        false,
    )
    .await;
    let info = assert_failure(&other, "idempotency_key_reused");
    assert!(info.contains("Idempotency-Key"), "{info}");
    assert_eq!(other["level"], "warning");

    // Malformed keys are refused naming the header.
    for bad in ["k".repeat(129), "two words".to_owned()] {
        let answer = start_keyed(&admin, &two, &bad, json!({}), false).await;
        let info = assert_failure(&answer, "invalid_field");
        assert!(info.starts_with("header Idempotency-Key "), "{info}");
    }

    // After the run ended, the key still answers it (holding like 6.1 does), and starts nothing.
    wait_for_status(&admin, &run, "success", Duration::from_secs(60)).await;
    let after = start_keyed(&admin, &two, "deploy-2026-12-05-a", json!({}), true).await;
    let data = assert_success(&after);
    assert_eq!(
        support::pick(&data, &["execution_id", "result", "status"]),
        json!([run, true, "success"]),
        "{after}"
    );
    assert_eq!(run_count(&admin, &two).await, 1, "no second run");
    assert_eq!(sleeps(&deployment), 1, "step 1 ran once");

    // Twelve identical requests at once with a new key: one new run, every answer names it.
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let api = admin.with_base(&admin.base);
            let two = two.clone();
            tokio::spawn(async move {
                start_keyed(&api, &two, "deploy-2026-12-05-b", json!({}), false).await
            })
        })
        .collect();
    let mut ids = Vec::new();
    for call in calls {
        ids.push(execution_id(&call.await.expect("call")));
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one run for one key: {ids:?}");
    assert_ne!(ids[0], run, "a new key starts a new run");
    wait_for_status(&admin, &ids[0], "success", Duration::from_secs(60)).await;
    assert_eq!(run_count(&admin, &two).await, 2);
    assert_eq!(
        sleeps(&deployment),
        2,
        "step 1 ran once more, not twelve times"
    );

    platform.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}

/// The lines the two-step instance's script wrote (one per run of step 1).
fn script_runs(deployment: &Deployment) -> String {
    std::fs::read_to_string(deployment.root.join("two-step2/script-runs")).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn repeated_keys_on_6_2_and_retry_run_nothing_again() {
    let Some((_sshd, root, platform, admin, deployment)) =
        start_deployed("tad-idempotency-routes", &[]).await
    else {
        return;
    };
    let two = deployment.two_steps.clone();
    bind_two_steps_script(&admin, &deployment, "fail").await;
    let next_step = format!("/api/app/jobinstance/{two}/setp_execution");

    // 6.2 runs step 0; the same key again answers that execution and runs nothing more.
    let first = post_keyed(&admin, &next_step, "next-1", json!({})).await;
    let run = execution_id(&first);
    assert_eq!(assert_success(&first)["result"], true, "{first}");
    let again = post_keyed(&admin, &next_step, "next-1", json!({})).await;
    assert_eq!(execution_id(&again), run, "{again}");
    assert_eq!(script_runs(&deployment), "", "step 1 did not run");

    // A new key runs step 1, which fails.
    let second = post_keyed(&admin, &next_step, "next-2", json!({})).await;
    assert_eq!(
        (
            execution_id(&second),
            assert_success(&second)["result"].clone()
        ),
        (run.clone(), json!(false)),
        "{second}"
    );
    assert_eq!(script_runs(&deployment), "fail\n");

    // Retry with a key runs the failed host again; the same key answers without a third run.
    let retry = format!("/api/executions/{run}/retry");
    let retried = post_keyed(&admin, &retry, "retry-1", json!({})).await;
    assert_eq!(execution_id(&retried), run, "{retried}");
    assert_eq!(script_runs(&deployment), "fail\nfail\n");
    let again = post_keyed(&admin, &retry, "retry-1", json!({})).await;
    assert_eq!(execution_id(&again), run, "{again}");
    assert_eq!(script_runs(&deployment), "fail\nfail\n", "not run again");

    // A key used on 6.2 is a new key on retry: it runs.
    let other_route = post_keyed(&admin, &retry, "next-1", json!({})).await;
    assert_eq!(execution_id(&other_route), run, "{other_route}");
    assert_eq!(script_runs(&deployment), "fail\nfail\nfail\n");

    platform.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn repeated_keys_on_rollback_and_2_1_run_nothing_again() {
    let Some((_sshd, root, platform, admin, deployment)) =
        start_deployed("tad-idempotency-rollback", &[]).await
    else {
        return;
    };
    let instance = deployment.instance.clone();
    let script_runs = || {
        std::fs::read_to_string(root.join("shop-one/127.0.0.2/scripts/script-runs"))
            .map(|runs| runs.lines().count())
            .unwrap_or(0)
    };
    for _ in 0..2 {
        let answer = execute(&admin, &instance, "executionall", json!({})).await;
        assert_eq!(assert_success(&answer)["result"], true, "{answer}");
    }
    assert_eq!((run_count(&admin, &instance).await, script_runs()), (2, 2));

    // Rollback with a key: one run; the same key answers it again and starts nothing.
    let rollback = format!("/api/app/jobinstance/{instance}/rollback");
    let first = post_keyed(&admin, &rollback, "rollback-1", json!({})).await;
    let rolled = execution_id(&first);
    assert_eq!(assert_success(&first)["result"], true, "{first}");
    let again = post_keyed(&admin, &rollback, "rollback-1", json!({})).await;
    assert_eq!(execution_id(&again), rolled, "{again}");
    assert_eq!((run_count(&admin, &instance).await, script_runs()), (3, 3));

    // 2.1 with a key: one joint run; the same key answers it again and runs no node again.
    let line = create_joint_line(&admin, "keyed", "pl1").await;
    save_joint_graph(
        &admin,
        &line,
        json!([
            {"jobi_id": instance, "sequence": 0, "parent": [], "top": 10, "left": 10}
        ]),
    )
    .await;
    let joint_line = format!("/api/app/jointline/{line}/execution");
    let first = post_keyed(&admin, &joint_line, "line-1", json!({})).await;
    let joint = execution_id(&first);
    assert_eq!(assert_success(&first)["result"], true, "{first}");
    let again = post_keyed(&admin, &joint_line, "line-1", json!({})).await;
    assert_eq!(execution_id(&again), joint, "{again}");
    assert_eq!((run_count(&admin, &instance).await, script_runs()), (4, 4));

    platform.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}
