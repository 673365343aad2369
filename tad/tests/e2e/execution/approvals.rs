//! Approvals over a real sshd (issue 20): on a protected environment 6.1 (and 6.2, rollback)
//! answers `approval_required` with a request and runs nothing; its requester may not approve it; another
//! user's approval runs exactly what the request froze (the hosts get what it showed); bindings
//! changed after the request make the approval void, naming what changed; an expired request is
//! refused; outside a deploy window an approval is refused or waits and starts when the freeze
//! ends, as the environment says; each step reaches the signed webhooks.

use super::*;

const APPROVER_PASSWORD: &str = "approver-password-1";

/// 6.1 on the one-step instance as `api`: the request it made (the answer must ask approval).
async fn ask(api: &Api, deployment: &Deployment) -> String {
    ask_by(api, deployment, "executionall").await
}

/// `route` (6.1, 6.2, rollback) of the one-step instance as `api`: the request it made.
async fn ask_by(api: &Api, deployment: &Deployment, route: &str) -> String {
    let answer = execute(
        api,
        &deployment.instance,
        route,
        json!({"use_tad_host": false}),
    )
    .await;
    assert_eq!(
        (
            answer["success"].clone(),
            answer["code"].clone(),
            answer["data"]["result"].clone(),
            answer["data"]["execution_id"].clone()
        ),
        (
            json!(false),
            json!("approval_required"),
            json!(false),
            json!("")
        ),
        "{answer}"
    );
    assert!(
        answer["info"]
            .as_str()
            .is_some_and(|info| info.contains("protected") && info.contains("approval")),
        "{answer}"
    );
    answer["data"]["request_id"]
        .as_str()
        .expect("request id")
        .to_owned()
}

async fn decide(api: &Api, request: &str, verb: &str, body: Value) -> Value {
    let (status, answer) = api
        .post(&format!("/api/approvals/{request}/{verb}"), &body)
        .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

async fn request_status(api: &Api, request: &str) -> Value {
    api.get_ok(&format!("/api/approvals/{request}")).await["request"].clone()
}

/// Every host's script-runs file (the script appends its arguments each run).
fn script_runs(deployment: &Deployment) -> Vec<String> {
    HOSTS
        .iter()
        .map(|(ip, _, _)| {
            std::fs::read_to_string(
                deployment
                    .root
                    .join("shop-one")
                    .join(ip)
                    .join("scripts/script-runs"),
            )
            .unwrap_or_default()
        })
        .collect()
}

async fn govern(admin: &Api, governance: Value) {
    admin
        .post_ok("/api/admin/envs/env1/governance", &governance)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protected_deploys_run_only_what_another_user_approved() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let (root, platform, admin) = start_platform(
        "tad-approve",
        &[
            ("TAD_WEBHOOK_SECRET", WEBHOOK_KEY),
            ("TAD_EXECUTION_LEASE_SECS", "3"),
        ],
    )
    .await;
    let (hook_url, posts) = webhook_receiver().await;
    admin
        .post_ok("/api/admin/webhooks", &json!({"url": hook_url}))
        .await;
    let deployment = configure(&admin, &sshd, &root).await;
    // Ana deploys and approves; Abe approves only.
    let ana = admin
        .login_new_user("ana", APPROVER_PASSWORD, &["operator", "approver"])
        .await;
    let abe = admin
        .login_new_user("abe", APPROVER_PASSWORD, &["approver"])
        .await;
    govern(&admin, json!({"protected": true})).await;

    // 6.1 asks; nothing runs; the request shows the plan it froze (secrets masked).
    let first = ask(&ana, &deployment).await;
    let history = format!("/api/app/jobinstance/{}/executions", deployment.instance);
    let (_, runs) = admin.get(&history).await;
    assert_eq!(runs["count"], 0, "{runs}");
    assert_eq!(script_runs(&deployment), vec![String::new(); 3]);
    let details = abe.get_ok(&format!("/api/approvals/{first}")).await;
    assert_eq!(details["request"]["status"], "pending");
    assert_eq!(details["request"]["requested_by"], "ana");
    let frozen_step = &details["plans"][0]["steps"][0];
    let frozen_hosts: Vec<&str> = frozen_step["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(frozen_hosts, ["127.0.0.2", "127.0.0.3", "127.0.0.4"]);
    // Next to the last successful run (none yet): every host gets the artifact.
    let changes = &details["plans"][0];
    assert_eq!(changes["compared_with"], Value::Null);
    let sent_to = super::plans::changed_hosts(&changes["changes"][0]);
    assert_eq!(sent_to, frozen_hosts);
    assert!(!details.to_string().contains(DB_PASSWORD), "{details}");

    // Four eyes: Ana may not approve her own request.
    let own = decide(&ana, &first, "approve", json!({})).await;
    assert_failure(&own, "self_approval");
    assert_eq!(request_status(&abe, &first).await["status"], "pending");

    // Abe approves: the run is the one frozen, over ssh on the three hosts.
    let approved = decide(&abe, &first, "approve", json!({"comment": "release 1"})).await;
    let request = &assert_success(&approved)["request"];
    assert_eq!(
        (request["status"].clone(), request["decided_by"].clone()),
        (json!("started"), json!("abe"))
    );
    let run = request["execution_id"]
        .as_str()
        .expect("execution id")
        .to_owned();
    let tree = wait_for_status(&admin, &run, "success", Duration::from_secs(60)).await;
    assert_eq!(tree["started_by"], "ana", "the requester started it");
    let ran_hosts: Vec<&str> = tree["steps"][0]["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .filter_map(|host| host["host_ip"].as_str())
        .collect();
    assert_eq!(ran_hosts, frozen_hosts);
    let expected: Vec<String> = HOSTS
        .iter()
        .map(|(ip, _, _)| format!("ok {ip}\n"))
        .collect();
    assert_eq!(script_runs(&deployment), expected);
    let config = frozen_step["configs"][0]["text"].as_str().expect("config");
    assert_eq!(
        read(&deployment.root.join("shop-one/127.0.0.2/conf/shop.conf")),
        config
    );

    // Bindings changed after the request: the approval is void and names the change.
    let second = ask(&ana, &deployment).await;
    super::retry::bind_scripts(&admin, &deployment, &|ip| format!("changed {ip}")).await;
    let void = decide(&abe, &second, "approve", json!({})).await;
    let message = assert_failure(&void, "approval_void");
    assert!(message.contains("scripts changed"), "{message}");
    assert_eq!(request_status(&abe, &second).await["status"], "void");
    assert_eq!(script_runs(&deployment), expected, "nothing ran");

    // Expired: refused, and it stays unrun.
    let third = ask(&ana, &deployment).await;
    let database = platform.database("jobs");
    let expire = format!(
        "UPDATE deployment_requests SET expires_at = '2001-01-01 00:00:00' WHERE id = '{third}'"
    );
    database
        .run(move |connection: &mut common::db::DbConnection| {
            use diesel::RunQueryDsl;
            Ok::<_, common::db::DbError>(diesel::sql_query(expire).execute(connection)?)
        })
        .await
        .expect("expire the request");
    // The sweeper marks it expired without anyone touching it; an approval is refused so.
    let deadline = Instant::now() + Duration::from_secs(20);
    while request_status(&abe, &third).await["status"] != "expired" {
        assert!(Instant::now() < deadline, "the sweeper never expired it");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let expired = decide(&abe, &third, "approve", json!({})).await;
    assert_failure(&expired, "approval_expired");

    // A closed window that refuses: the approval is refused naming the window, the request
    // stays pending.
    let hour = (chrono::Utc::now()
        .format("%H")
        .to_string()
        .parse::<u32>()
        .expect("hour")
        + 12)
        % 24;
    let window = format!("* {hour} * * *");
    govern(
        &admin,
        json!({"protected": true, "deploy_windows": [window], "outside_window": "refuse"}),
    )
    .await;
    let fourth = ask(&ana, &deployment).await;
    let refused = decide(&abe, &fourth, "approve", json!({})).await;
    let message = assert_failure(&refused, "deploy_window_closed");
    assert!(
        message.contains(&window) && message.contains("refuses"),
        "{message}"
    );
    assert_eq!(request_status(&abe, &fourth).await["status"], "pending");
    let rejected = decide(&abe, &fourth, "reject", json!({"comment": "next week"})).await;
    assert_eq!(assert_success(&rejected)["request"]["status"], "rejected");

    // A freeze that waits: approved now, started by the sweeper when the freeze ends.
    let thaw = chrono::Utc::now() + chrono::Duration::seconds(4);
    govern(
        &admin,
        json!({"protected": true, "frozen_until": thaw.to_rfc3339(), "outside_window": "wait"}),
    )
    .await;
    let fifth = ask(&ana, &deployment).await;
    // Compared with the first run: the same artifact is on every host already.
    let details = abe.get_ok(&format!("/api/approvals/{fifth}")).await;
    assert_eq!(details["plans"][0]["compared_with"], json!(run));
    assert!(
        details["plans"][0]["changes"][0]["artifacts"]
            .as_array()
            .expect("artifacts")
            .iter()
            .all(|artifact| artifact["changed_hosts"] == json!([])),
        "{details}"
    );
    let waiting = decide(&abe, &fifth, "approve", json!({})).await;
    let request = &assert_success(&waiting)["request"];
    assert_eq!(request["status"], "waiting", "{waiting}");
    assert!(request["not_before"].is_string(), "{waiting}");
    assert!(
        waiting["data"]["message"]
            .as_str()
            .is_some_and(|text| text.contains("frozen until") && text.contains("waits")),
        "{waiting}"
    );
    assert_eq!(script_runs(&deployment), expected, "nothing ran yet");
    let deadline = Instant::now() + Duration::from_secs(30);
    let started = loop {
        let request = request_status(&abe, &fifth).await;
        if request["status"] == "started" {
            break request["execution_id"]
                .as_str()
                .expect("execution id")
                .to_owned();
        }
        assert!(Instant::now() < deadline, "never started: {request}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(
        chrono::Utc::now() >= thaw,
        "started before the freeze ended"
    );
    wait_for_status(&admin, &started, "success", Duration::from_secs(60)).await;
    let changed: Vec<String> = HOSTS
        .iter()
        .map(|(ip, _, _)| format!("ok {ip}\nchanged {ip}\n"))
        .collect();
    assert_eq!(script_runs(&deployment), changed);

    // 6.2 and rollback (two runs succeeded now) ask too, each as its own kind of request.
    for (route, kind) in [("setp_execution", "next_step"), ("rollback", "rollback")] {
        let asked = ask_by(&ana, &deployment, route).await;
        assert_eq!(request_status(&abe, &asked).await["kind"], kind);
        let rejected = decide(&abe, &asked, "reject", json!({"comment": "not now"})).await;
        assert_eq!(assert_success(&rejected)["request"]["status"], "rejected");
    }
    assert_eq!(script_runs(&deployment), changed, "nothing ran");

    // Each step reached the signed webhooks.
    for (event, request) in [
        ("approval.requested", &first),
        ("approval.approved", &first),
        ("approval.rejected", &fourth),
        ("approval.approved", &fifth),
    ] {
        wait_for_post(&posts, event, |payload| {
            payload["event"] == event && payload["request_id"] == request.as_str()
        })
        .await;
    }
    for post in posts.lock().expect("posts").iter() {
        assert_eq!(
            post.signature,
            svc_jobs::execution::webhooks::signature(WEBHOOK_KEY.as_bytes(), &post.body),
            "signed with the configured key"
        );
    }
    drop(platform);
    drop(sshd);
    let _ = std::fs::remove_dir_all(&root);
}
