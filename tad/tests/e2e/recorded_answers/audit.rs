//! The audit trail's routes (issue 20), played last: answers that do not depend on the times and
//! hashes of the events (those are checked in `audit_trail`): a filter that selects nothing (the
//! page, the CSV header and the console page), a viewer refused, a bad time and a page too deep
//! named.

use super::{Payload, Recorder, console::page};

pub async fn play(recorder: &mut Recorder) {
    recorder.get("admin", "/api/audit?actor=nobody").await;
    recorder
        .get("admin", "/api/audit/export.csv?actor=nobody")
        .await;
    recorder.get("viewer", "/api/audit").await;
    recorder.get("viewer", "/api/audit/export.csv").await;
    recorder.get("admin", "/api/audit?since=yesterday").await;
    recorder
        .get("admin", "/api/audit?page=1000&page_size=100")
        .await;
    recorder.get("anonymous", "/api/audit").await;
    for (role, path) in [
        ("admin", "/console/audit?actor=nobody"),
        ("admin", "/console/audit?since=yesterday"),
        ("viewer", "/console/audit"),
    ] {
        page(recorder, role, "GET", path, Payload::None).await;
    }
}
