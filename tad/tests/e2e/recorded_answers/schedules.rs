//! Scheduled deploys (issue 21): one created paused for the run instance (so it never fires while
//! the script plays: it is resumed and paused again at once), every bad field refused by name, a
//! viewer refused, the list, pause, resume, delete and an unknown id.

use serde_json::json;

use super::{Recorder, jobs::Configured};

pub async fn play(recorder: &mut Recorder, configured: &Configured) {
    let nightly = json!({"instance_id": configured.instance, "cron": "0 3 * * *", "timezone": "Asia/Shanghai", "enabled": false});
    let created = recorder
        .post("operator", "/api/schedules", nightly.clone())
        .await;
    let id = created.text_at("/data/id");
    for (role, body) in [
        (
            "operator",
            json!({"instance_id": configured.instance, "cron": "0 25 * * *"}),
        ),
        (
            "operator",
            json!({"instance_id": configured.instance, "cron": "0 3 * * *", "timezone": "Mars/Olympus"}),
        ),
        (
            "operator",
            json!({"instance_id": configured.instance, "jointline_id": configured.joint_line, "cron": "0 3 * * *"}),
        ),
        ("operator", json!({"cron": "0 3 * * *"})),
        (
            "operator",
            json!({"instance_id": "ghost", "cron": "0 3 * * *"}),
        ),
        (
            "operator",
            json!({"jointline_id": "ghost", "cron": "0 3 * * *"}),
        ),
        ("operator", json!({"instance_id": configured.instance})),
        (
            "operator",
            json!({"instance_id": configured.instance, "cron": "0 3 * * *", "when": "now"}),
        ),
        (
            "operator",
            json!({"instance_id": configured.instance, "cron": "0 3 30 2 *"}),
        ),
        ("viewer", nightly),
    ] {
        recorder.post(role, "/api/schedules", body).await;
    }
    recorder
        .get_each(
            "viewer",
            &[
                "/api/schedules",
                "/api/schedules?page=2&page_size=1",
                "/api/schedules?page=x",
            ],
        )
        .await;
    let path = |verb: &str| format!("/api/schedules/{id}/{verb}");
    for (role, verb) in [
        ("viewer", "pause"),
        ("operator", "pause"),
        ("operator", "resume"),
        ("operator", "pause"),
    ] {
        recorder.post(role, &path(verb), json!({})).await;
    }
    recorder
        .post("operator", "/api/schedules/ghost/pause", json!({}))
        .await;
    let one = format!("/api/schedules/{id}");
    recorder.delete("viewer", &one).await;
    recorder.delete("operator", &one).await;
    recorder.delete("operator", &one).await;
    recorder.get("viewer", "/api/schedules").await;
}
