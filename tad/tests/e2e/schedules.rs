//! Scheduled deploys (issue 21) with two `tad jobs` replicas on one database (PostgreSQL in the
//! CI's second pass, else shared SQLite files): an every-minute schedule of a TAD-host instance
//! fires its occurrence exactly once (one run, started by `schedule:ID`, one `execution.start`
//! event by that actor), and a paused schedule fires nothing. With every replica down past an
//! occurrence, a replica started with `TAD_EXECUTION_SCHEDULE_FIRE_MISSED=false` skips it (no
//! run, the schedule says so) and moves on to the next occurrence.

use std::time::{Duration, Instant};

use chrono::Timelike;
use serde_json::{Value, json};

use crate::{
    console_browser::deployable_instance,
    support::{
        Api,
        fixtures::app_catalog,
        replicated::{Layout, ReplicatedPlatform},
    },
};

const ADMIN_PASSWORD: &str = "schedules-admin-password";

async fn schedule(admin: &Api, id: &str) -> Value {
    let page = admin.get("/api/schedules?page_size=100").await.1;
    page["results"]
        .as_array()
        .expect("schedules")
        .iter()
        .find(|schedule| schedule["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no schedule {id} in {page}"))
}

/// Waits (up to 90 s) until `done` says the schedule is through, and answers it.
async fn wait_for(admin: &Api, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let current = schedule(admin, id).await;
        if done(&current) {
            return current;
        }
        assert!(Instant::now() < deadline, "{what}: {current}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn runs_of(admin: &Api, instance: &str) -> Vec<Value> {
    let (_, page) = admin
        .get(&format!(
            "/api/app/jobinstance/{instance}/executions?page_size=100"
        ))
        .await;
    page["results"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_occurrence_fires_once_over_two_replicas_and_a_missed_one_can_be_skipped() {
    let mut cluster = ReplicatedPlatform::start(Layout {
        admin_password: ADMIN_PASSWORD,
        jobs_replicas: 2,
        gateways: 1,
        env: &[("TAD_EXECUTION_LEASE_SECS", "2")],
    });
    let admin = Api::new(&cluster.gateway_urls[0])
        .login("admin", ADMIN_PASSWORD)
        .await;
    app_catalog(&admin, ("pl1", "pl"), ("app1", "shop"), ("env1", "test")).await;
    let instance = deployable_instance(
        &admin,
        ("app1", 2),
        ("nightly", "echo scheduled deploy\n"),
        "shop-nightly",
    )
    .await;
    let created = admin
        .post_ok(
            "/api/schedules",
            &json!({"instance_id": instance, "cron": "* * * * *", "use_tad_host": true}),
        )
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let first_due = created["next_fire"].as_str().expect("next fire").to_owned();

    // The occurrence fires once: one run, by the schedule, recorded once in the trail.
    let fired = wait_for(&admin, &id, "the occurrence never fired", |schedule| {
        schedule["last_execution_id"].is_string()
    })
    .await;
    admin
        .post_ok(&format!("/api/schedules/{id}/pause"), &json!({}))
        .await;
    let run = fired["last_execution_id"].as_str().expect("run").to_owned();
    assert_ne!(fired["next_fire"].as_str(), Some(first_due.as_str()));
    let deadline = Instant::now() + Duration::from_secs(30);
    let tree = loop {
        let tree = admin.get_ok(&format!("/api/executions/{run}")).await;
        if tree["status"] != "running" {
            break tree;
        }
        assert!(Instant::now() < deadline, "the run never ended: {tree}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(tree["status"], "success", "{tree}");
    assert_eq!(tree["started_by"], format!("schedule:{id}"));
    // Another sweep of each replica has passed: still one run.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let runs = runs_of(&admin, &instance).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    let (_, trail) = admin
        .get(&format!(
            "/api/audit?actor=schedule:{id}&action=execution.start"
        ))
        .await;
    assert_eq!(trail["count"], 1, "{trail}");

    // Every replica down past the next occurrence; one started to skip missed ones.
    let resumed = admin
        .post_ok(&format!("/api/schedules/{id}/resume"), &json!({}))
        .await;
    assert!(resumed["next_fire"].is_string(), "{resumed}");
    let resumed_at = chrono::Utc::now();
    cluster.kill_jobs(0);
    cluster.kill_jobs(1);
    // The next occurrence is the next minute (every zone's minutes start with UTC's); wait past
    // it by more than two leases, so that it counts as missed.
    let next_minute = resumed_at
        .with_second(0)
        .and_then(|minute| minute.with_nanosecond(0))
        .expect("minute")
        + chrono::Duration::minutes(1);
    let late = next_minute + chrono::Duration::seconds(6);
    while chrono::Utc::now() < late {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    cluster.start_jobs(
        0,
        &[("TAD_EXECUTION_SCHEDULE_FIRE_MISSED", "false".to_owned())],
    );
    let skipped = wait_for(
        &admin,
        &id,
        "the missed occurrence was not dealt with",
        |schedule| {
            schedule["last_message"]
                .as_str()
                .is_some_and(|message| message.contains("missed"))
        },
    )
    .await;
    admin
        .post_ok(&format!("/api/schedules/{id}/pause"), &json!({}))
        .await;
    assert!(
        skipped["last_message"]
            .as_str()
            .is_some_and(|message| message.contains("skipped")),
        "{skipped}"
    );
    assert_eq!(runs_of(&admin, &instance).await.len(), 1, "nothing ran");
}

/// One instance has at most 20 schedules: the 21st is refused naming `instance_id` (nothing is
/// stored), and deleting one makes room again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_has_at_most_twenty_schedules() {
    let (_platform, admin) =
        crate::support::EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    app_catalog(&admin, ("pl1", "pl"), ("app1", "shop"), ("env1", "test")).await;
    let instance = deployable_instance(
        &admin,
        ("app1", 2),
        ("limited", "echo limited\n"),
        "shop-limited",
    )
    .await;
    let body = json!({"instance_id": instance, "cron": "0 3 * * *", "enabled": false});
    let mut ids = Vec::new();
    for _ in 0..20 {
        let created = admin.post_ok("/api/schedules", &body).await;
        ids.push(created["id"].as_str().expect("id").to_owned());
    }
    let (status, refused) = admin.post("/api/schedules", &body).await;
    assert_eq!(status, 200, "{refused}");
    let info = crate::support::assert_failure(&refused, "invalid_field");
    assert!(
        info.starts_with("instance_id ") && info.contains("20 schedules already"),
        "{info}"
    );
    let (_, listed) = admin.get("/api/schedules?page_size=100").await;
    assert_eq!(listed["count"], 20, "nothing stored: {listed}");
    let (status, answer) = admin.delete(&format!("/api/schedules/{}", ids[0])).await;
    assert_eq!(status, 200, "{answer}");
    admin.post_ok("/api/schedules", &body).await;
}
