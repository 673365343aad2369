//! The `Idempotency-Key` header of 6.1: a repeated key answers the run the first request started
//! (while it runs and after it ended) without starting another; the same key with another body
//! is refused naming the header; concurrent identical requests with one key start one run; a
//! malformed key is refused naming the header.

use super::*;

/// POST 6.1 of `instance` with `key` (`wait=false` unless `wait`), answering the envelope.
async fn start_keyed(api: &Api, instance: &str, key: &str, body: Value, wait: bool) -> Value {
    let response = api
        .http
        .post(format!(
            "{}/api/app/jobinstance/{instance}/executionall?wait={wait}",
            api.base
        ))
        .header(
            "authorization",
            format!("Bearer {}", api.token.as_deref().expect("token")),
        )
        .header("content-type", "application/json")
        .header("Idempotency-Key", key)
        .body(body.to_string())
        .send()
        .await
        .expect("POST 6.1");
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

fn execution_id(answer: &Value) -> String {
    assert_success(answer)["execution_id"]
        .as_str()
        .expect("execution id")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_repeated_idempotency_key_starts_one_run() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let (root, platform, admin) = start_platform("tad-idempotency", &[]).await;
    let deployment = configure(&admin, &sshd, &root).await;
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
        (
            data["execution_id"].clone(),
            data["result"].clone(),
            data["status"].clone()
        ),
        (json!(run), json!(true), json!("success")),
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
