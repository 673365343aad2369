//! A gateway given every replica of the jobs service (`TAD_JOBS_ADDR` as a list) keeps answering
//! when one replica dies: three `tad jobs` on one database (PostgreSQL when `TEST_DATABASE_URL`
//! is set, else one SQLite file), one `tad gateway`; after a `kill -9` of one replica, not one
//! call through the gateway fails, writes included (a call that finds the dead replica never
//! reached it and goes to another). With every replica dead, the answer is 503 naming the jobs
//! service.

use crate::support;
use crate::support::fixtures::{application, post_all, product_line};

use serde_json::{Value, json};
use support::Api;
use support::replicated::{Layout, ReplicatedPlatform};

const ADMIN_PASSWORD: &str = "failover-admin-password";

fn start_cluster(replicas: usize) -> ReplicatedPlatform {
    ReplicatedPlatform::start(Layout {
        admin_password: ADMIN_PASSWORD,
        jobs_replicas: replicas,
        gateways: 1,
        env: &[],
    })
}

/// One round of calls through the gateway, each answered with success: reads and writes of the
/// jobs service (a template created, read back, listed).
async fn round(admin: &Api, round: usize) -> Vec<String> {
    let mut failures = Vec::new();
    let mut check = |what: String, status: u16, body: &Value| {
        if status != 200 || body["success"] != true {
            failures.push(format!("{what}: {status} {body}"));
        }
    };
    let (status, body) = admin
        .post(
            "/api/app/jobtemplate/create",
            &json!({"name": format!("template-{round}"), "application_id": "app1"}),
        )
        .await;
    check(format!("create template {round}"), status, &body);
    let template = body["data"]["id"].as_str().unwrap_or_default().to_owned();
    let (status, body) = admin
        .get(&format!("/api/app/jobtemplate/{template}/graded_content"))
        .await;
    check(format!("read template {round}"), status, &body);
    let (status, body) = admin
        .get("/api/app/jobtemplate/aos_json?application_id=app1")
        .await;
    if status != 200 || body["count"].as_u64().is_none() {
        failures.push(format!("list templates {round}: {status} {body}"));
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_one_of_three_jobs_replicas_fails_no_call() {
    let mut cluster = start_cluster(3);
    let anonymous = Api::new(&cluster.gateway_urls[0]);
    let (status, body) = anonymous.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    let admin = anonymous.login("admin", ADMIN_PASSWORD).await;
    post_all(
        &admin,
        &[
            product_line("pl1", "pl"),
            application("app1", "shop", "pl1"),
        ],
    )
    .await;
    // Every replica has served calls (the gateway holds connections to all three).
    for index in 0..6 {
        assert!(round(&admin, index).await.is_empty());
    }

    for victim in [1, 0] {
        cluster.kill_jobs(victim);
        let mut failures = Vec::new();
        for index in 0..20 {
            failures.extend(round(&admin, 100 * (victim + 1) + index).await);
        }
        // And concurrently, through every gateway worker.
        let calls: Vec<_> = (0..12)
            .map(|index| {
                let api = admin.with_base(&admin.base);
                tokio::spawn(async move { round(&api, 1000 * (victim + 1) + index).await })
            })
            .collect();
        for call in calls {
            failures.extend(call.await.expect("call"));
        }
        assert!(
            failures.is_empty(),
            "{} calls failed after replica {victim} was killed: {failures:#?}",
            failures.len()
        );
    }
    let (_, body) = admin
        .get("/api/app/jobtemplate/aos_json?application_id=app1&page_size=1")
        .await;
    assert_eq!(
        body["count"],
        json!(6 + 2 * (20 + 12)),
        "every create counted once"
    );

    // The last replica dies: 503 naming the jobs service, in the failure envelope.
    cluster.kill_jobs(2);
    let (status, body) = admin
        .post(
            "/api/app/jobtemplate/create",
            &json!({"name": "nowhere", "application_id": "app1"}),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body,
        json!({"info": "the jobs service is unavailable; try again shortly", "data": null,
            "success": false, "level": "error", "code": "service_unavailable"})
    );
    let (status, body) = admin.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["services"]["jobs"]
            .as_str()
            .is_some_and(|state| state.contains("the jobs service is unavailable")),
        "{body}"
    );
}
