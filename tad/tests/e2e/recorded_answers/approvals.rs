//! Approvals (issue 20) on the TAD host: the run instance's environment made protected, 6.1 then
//! answers `approval_required` with a request id; the request listed and read (its frozen plan);
//! approving it without the approver role refused, an admin's own request refused to that admin
//! (four eyes); an approver starts exactly the frozen run; a second request rejected (a comment
//! required); a decided request refused; a joint line run (2.1) asks too; bad filters and unknown
//! ids; the console's pages; the environment unprotected again.

use serde_json::json;

use super::{Payload, Recorder, jobs::Configured};

pub async fn play(recorder: &mut Recorder, configured: &Configured) {
    recorder.user("abe", "approver").await;
    let governance = "/api/admin/envs/env1/governance";
    recorder
        .post("admin", governance, json!({"protected": true}))
        .await;
    let deploy = format!("/api/app/jobinstance/{}/executionall", configured.instance);
    let asked = recorder
        .post("operator", &deploy, json!({"use_tad_host": true}))
        .await;
    let first = asked.text_at("/data/request_id");
    recorder
        .get_each(
            "viewer",
            &[
                "/api/approvals".to_owned(),
                "/api/approvals?status=pending".to_owned(),
                "/api/approvals?status=started&page=1&page_size=5".to_owned(),
                "/api/approvals?status=sideways".to_owned(),
                "/api/approvals?page=x".to_owned(),
                format!("/api/approvals/{first}"),
                "/api/approvals/ghost".to_owned(),
            ],
        )
        .await;
    let approve = format!("/api/approvals/{first}/approve");
    for role in ["operator", "viewer", "reviewer", "anonymous"] {
        recorder.post(role, &approve, json!({})).await;
    }
    recorder
        .post("approver", &approve, json!({"comment": "x".repeat(2001)}))
        .await;
    recorder
        .post(
            "approver",
            &approve,
            json!({"comment": "ok", "surprise": 1}),
        )
        .await;
    let approved = recorder
        .call("approver", "POST", &approve, Payload::None)
        .await;
    let run = approved.text_at("/data/request/execution_id");
    recorder
        .get("viewer", &format!("/api/executions/{run}/events"))
        .await;
    recorder
        .get_each(
            "viewer",
            &[
                format!("/api/executions/{run}"),
                format!("/api/approvals/{first}"),
            ],
        )
        .await;
    recorder.post("approver", &approve, json!({})).await;
    // The console's pages: the list, the started request (no controls), an unknown one.
    for path in [
        "/console/approvals".to_owned(),
        "/console/approvals?status=started".to_owned(),
        "/console/approvals?page=0".to_owned(),
        format!("/console/approvals/{first}"),
        "/console/approvals/ghost".to_owned(),
    ] {
        super::console::page(recorder, "approver", "GET", &path, Payload::None).await;
    }

    // An admin's own request: four eyes, so the admin may not approve it.
    let asked = recorder
        .post("admin", &deploy, json!({"use_tad_host": true}))
        .await;
    let second = asked.text_at("/data/request_id");
    let reject = format!("/api/approvals/{second}/reject");
    // Pending: the approver sees the controls, its requester a note.
    let second_page = format!("/console/approvals/{second}");
    for role in ["approver", "admin"] {
        super::console::page(recorder, role, "GET", &second_page, Payload::None).await;
    }
    recorder
        .post(
            "admin",
            &format!("/api/approvals/{second}/approve"),
            json!({}),
        )
        .await;
    for (role, body) in [
        ("approver", json!({})),
        ("approver", json!({"comment": "  "})),
        ("operator", json!({"comment": "mine"})),
        ("admin", json!({"comment": "my own"})),
        ("approver", json!({"comment": "not on a Friday"})),
        ("approver", json!({"comment": "again"})),
    ] {
        recorder.post(role, &reject, body).await;
    }
    recorder
        .post(
            "operator",
            &format!("/api/approvals/{second}/approve"),
            json!({}),
        )
        .await;
    recorder
        .post("admin", "/api/approvals/ghost/approve", json!({}))
        .await;
    recorder
        .post(
            "admin",
            "/api/approvals/ghost/reject",
            json!({"comment": "no"}),
        )
        .await;
    // 2.1 on a joint line whose instances are on the protected environment asks too: one
    // request freezing each instance's plans.
    let joint = format!("/api/app/jointline/{}/execution", configured.joint_line);
    let asked = recorder
        .post("operator", &joint, json!({"use_tad_host": true}))
        .await;
    let third = asked.text_at("/data/request_id");
    recorder
        .get("viewer", &format!("/api/approvals/{third}"))
        .await;
    recorder
        .post(
            "approver",
            &format!("/api/approvals/{third}/reject"),
            json!({"comment": "one at a time"}),
        )
        .await;
    recorder
        .get("viewer", "/api/approvals?status=rejected")
        .await;
    recorder
        .post("admin", governance, json!({"protected": false}))
        .await;
}
