//! Retry reruns the failed hosts only; rollback restores the earlier snapshot.

use super::*;

/// Binds the script to every host of the one-step instance with `parameter(ip)`.
pub(super) async fn bind_scripts(
    admin: &Api,
    deployment: &Deployment,
    parameter: &dyn Fn(&str) -> String,
) {
    let scripts: Vec<Value> = HOSTS
        .iter()
        .map(|(ip, _, _)| {
            json!({"id": deployment.script_file_id,
                "dest": deployment.root.join("shop-one").join(ip).join("scripts").display().to_string(),
                "host_IP": [ip], "parameter": parameter(ip), "execute_type": "shell"})
        })
        .collect();
    admin
        .post_ok(
            &format!(
                "/api/app/jobinstance/{}/shop1/0/relation/script",
                deployment.instance
            ),
            &json!({"script_id": "", "scripts_data": scripts}),
        )
        .await;
}

/// Binds `file_id` as the artifact of every host of the one-step instance.
async fn bind_artifact(admin: &Api, deployment: &Deployment, file_id: &str) {
    let artifacts: Vec<Value> = HOSTS
        .iter()
        .map(|(ip, _, _)| {
            json!({"file_id": file_id,
                "dest": deployment.root.join("shop-one").join(ip).join("artifacts").display().to_string(),
                "host_IP": [ip]})
        })
        .collect();
    admin
        .post_ok(
            &format!(
                "/api/app/jobinstance/{}/shop1/0/relation/alldata",
                deployment.instance
            ),
            &json!({"artifacts": artifacts}),
        )
        .await;
}

fn pushed_md5(deployment: &Deployment, ip: &str) -> String {
    md5_hex(
        &std::fs::read(
            deployment
                .root
                .join("shop-one")
                .join(ip)
                .join("artifacts/shop.tar.gz"),
        )
        .expect("pushed artifact"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retry_reruns_failed_hosts_and_rollback_restores_the_earlier_snapshot() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let (root, platform, admin) = start_platform(
        "tad-retry",
        &[
            ("TAD_WEBHOOK_SECRET", WEBHOOK_KEY),
            (
                "TAD_WEBHOOK_URLS",
                "http://127.0.0.1:9/configured-but-closed",
            ),
        ],
    )
    .await;
    let (hook_url, posts) = webhook_receiver().await;
    let hook = admin
        .post_ok("/api/admin/webhooks", &json!({"url": hook_url}))
        .await;
    assert_eq!(
        support::pick(&hook, &["url", "source", "creator"]),
        json!([hook_url, "admin", "admin"])
    );
    let (_, body) = admin
        .post("/api/admin/webhooks", &json!({"url": "ftp://nope"}))
        .await;
    assert!(assert_failure(&body, "invalid_field").contains("url"));
    let (_, body) = admin
        .post("/api/admin/webhooks", &json!({"url": hook_url}))
        .await;
    assert!(assert_failure(&body, "invalid_field").contains("already a webhook"));
    let hooks = admin.get_ok("/api/admin/webhooks").await;
    assert_eq!(hooks.as_array().map(Vec::len), Some(2), "{hooks}");
    assert_eq!(hooks[0]["source"], "config");
    let deployment = configure(&admin, &sshd, &root).await;
    let instance = deployment.instance.clone();

    // Retry: host 127.0.0.3 fails while its flag file exists; the retry runs that host only.
    let flag = |ip: &str| root.join(format!("flag-{ip}")).display().to_string();
    bind_scripts(&admin, &deployment, &|ip| format!("failif {}", flag(ip))).await;
    std::fs::write(flag("127.0.0.3"), "x").expect("flag");
    let answer = execute(&admin, &instance, "executionall", json!({})).await;
    let data = assert_success(&answer);
    assert_eq!(data["result"], false, "{answer}");
    assert!(support::has_text(&data["msg"], "127.0.0.3"));
    let run = data["execution_id"].as_str().expect("id").to_owned();
    let (status, answer) = admin
        .post(&format!("/api/executions/{run}/retry"), &json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        assert_success(&answer)["result"],
        false,
        "the flag is still there: {answer}"
    );
    std::fs::remove_file(flag("127.0.0.3")).expect("remove flag");
    let (_, answer) = admin
        .post(&format!("/api/executions/{run}/retry"), &json!({}))
        .await;
    assert_resumed(&answer, &run);
    for (ip, _, _) in HOSTS {
        let runs = read(&root.join("shop-one").join(ip).join("scripts/script-runs"));
        let expected = if ip == "127.0.0.3" { 3 } else { 1 };
        assert_eq!(runs.lines().count(), expected, "{ip} ran {runs:?}");
        let entries = read(&step_dir(&deployment, "ssh", ip, &run, 0).join("entry-runs"));
        assert_eq!(
            entries.lines().count(),
            expected,
            "{ip} entrypoint ran {entries:?}"
        );
    }
    let (_, answer) = admin
        .post(&format!("/api/executions/{run}/retry"), &json!({}))
        .await;
    assert!(
        assert_failure(&answer, "execution_conflict").contains("success"),
        "{answer}"
    );
    let (_, answer) = admin.post("/api/executions/ghost/retry", &json!({})).await;
    assert_failure(&answer, "execution_not_found");

    // Rollback needs a successful run before the current one.
    let answer = execute(&admin, &instance, "rollback", json!({})).await;
    assert!(
        assert_failure(&answer, "execution_conflict").contains("no successful execution before"),
        "{answer}"
    );
    let first_md5 = md5_hex(&deployment.artifact);
    assert_eq!(pushed_md5(&deployment, "127.0.0.2"), first_md5);

    // A second version deployed, then rolled back: the first version's bytes are back.
    let second: Vec<u8> = tar_gz(&[("shop.bin", b"version two".repeat(50_000))]);
    let second_md5 = md5_hex(&second);
    let query = "app_id=app1&version=2.0.0&name=shop";
    let second_file = sync_package_field(&admin, query, "shop.tar.gz", &second, "file_id").await;
    bind_artifact(&admin, &deployment, &second_file).await;
    let answer = execute(&admin, &instance, "executionall", json!({})).await;
    assert_eq!(assert_success(&answer)["result"], true, "{answer}");
    for (ip, _, _) in HOSTS {
        assert_eq!(pushed_md5(&deployment, ip), second_md5);
    }
    // The template's rollback template runs its own method (the custom script) on that snapshot.
    let template = admin
        .get_ok(&format!("/api/app/jobinstance/{instance}/details"))
        .await["job_template_id"]
        .as_str()
        .expect("template")
        .to_owned();
    let rollback_template = admin.post_id("/api/app/jobtemplate/create",
            &json!({"name": "install-rollback", "application_id": "app1", "deploy_type": "rollback", "jobt_rollback_id": template})).await;
    admin
        .post_ok(
            &format!("/api/app/jobtemplate/{rollback_template}/graded"),
            &json!({"method": [{"component_id": "custom", "method_id": "cu1", "sequence": 0}]}),
        )
        .await;
    let answer = execute(&admin, &instance, "rollback", json!({})).await;
    let data = assert_success(&answer);
    assert_eq!(data["result"], true, "{answer}");
    let rollback_run = data["execution_id"].as_str().expect("id").to_owned();
    for (ip, _, _) in HOSTS {
        assert_eq!(
            pushed_md5(&deployment, ip),
            first_md5,
            "first version back on {ip}"
        );
    }
    let tree = admin
        .get_ok(&format!("/api/executions/{rollback_run}"))
        .await;
    assert_eq!(
        (tree["kind"].clone(), tree["steps"][0]["method_id"].clone()),
        (json!("rollback"), json!("cu1")),
        "{tree}"
    );
    assert!(
        !step_dir(&deployment, "ssh", "127.0.0.2", &rollback_run, 0)
            .join("package")
            .exists(),
        "the rollback template's method has no package to run"
    );

    // History: newest first, paginated, with the snapshot's artifact versions.
    let (status, page) = admin
        .get(&format!(
            "/api/app/jobinstance/{instance}/executions?page=1&page_size=2"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["count"], 3, "{page}");
    assert_eq!(page["page"], 1);
    let results = page["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(
        (results[0]["id"].clone(), results[0]["kind"].clone()),
        (json!(rollback_run), json!("rollback"))
    );
    assert_eq!(results[0]["artifacts"][0]["version"], "1.0.0");
    assert_eq!(results[1]["artifacts"][0]["version"], "2.0.0");
    assert_eq!(
        support::pick(&results[1], &["status", "started_by"]),
        json!(["success", "admin"])
    );
    assert!(
        results[0]["end_time"]
            .as_str()
            .is_some_and(|time| time.len() == 19)
    );
    let (_, page) = admin
        .get(&format!(
            "/api/app/jobinstance/{instance}/executions?page=2&page_size=2"
        ))
        .await;
    assert_eq!(page["results"][0]["id"], json!(run));
    assert_eq!(
        page["results"][0]["artifacts"][0]["file_id"],
        json!(deployment.artifact_file)
    );
    let (_, body) = admin.get("/api/app/jobinstance/ghost/executions").await;
    assert_failure(&body, "instance_not_found");

    // Webhooks: one signed post per finished run (5 of them), the first one retried after the
    // receiver answered 500.
    let finished_runs = 5;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let delivered = posts
            .lock()
            .expect("posts")
            .iter()
            .filter(|post| post.answered == 200)
            .count();
        if delivered >= finished_runs {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {delivered} webhooks delivered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts = posts.lock().expect("posts").clone();
    let delivered: Vec<&WebhookPost> = posts.iter().filter(|post| post.answered == 200).collect();
    assert_eq!(delivered.len(), finished_runs, "{posts:?}");
    let mut deliveries: Vec<&str> = delivered
        .iter()
        .map(|post| post.delivery.as_str())
        .collect();
    deliveries.sort_unstable();
    deliveries.dedup();
    assert_eq!(
        deliveries.len(),
        finished_runs,
        "one delivery per finished run"
    );
    assert_eq!(posts[0].answered, 500);
    assert!(
        delivered
            .iter()
            .any(|post| post.delivery == posts[0].delivery && post.body == posts[0].body),
        "the refused delivery came again"
    );
    let mut statuses = Vec::new();
    for post in &delivered {
        assert_eq!(post.event, "execution.finished");
        assert_eq!(
            post.signature,
            svc_jobs::execution::webhooks::signature(WEBHOOK_KEY.as_bytes(), &post.body),
            "signed with the configured key"
        );
        let payload: Value = serde_json::from_slice(&post.body).expect("json");
        assert_eq!(payload["instance_id"], json!(instance));
        assert!(
            payload["end_time"]
                .as_str()
                .is_some_and(|time| time.ends_with('Z'))
        );
        if payload["status"] == "failed" {
            assert_eq!(
                payload["failed_hosts"][0]["host_ip"], "127.0.0.3",
                "{payload}"
            );
        }
        statuses.push(payload["status"].as_str().unwrap_or_default().to_owned());
    }
    statuses.sort();
    assert_eq!(
        statuses,
        ["failed", "failed", "success", "success", "success"]
    );

    platform.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}
