//! The health check of a host in a rollout: run once the host's deploy succeeded and before the
//! host counts as done, tried `retries` more times `interval_seconds` apart; every try goes to the
//! host's log and the result is a `check` event of the run. A failed check fails the host task.

use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;

use super::{HostOutcome, stopped};
use crate::execution::{Inner, events::HostLog};
use crate::{
    db::models::runs::HostTaskRow,
    domain::rollout::{HealthCheck, HttpCheck},
};

/// The most of an answer's status line a log line shows.
const MAX_SAID: usize = 300;

/// Checks the health of `task`'s host; answers the host task's outcome.
pub(crate) async fn check_host(
    inner: &Inner,
    task: &HostTaskRow,
    check: &HealthCheck,
    log: &HostLog,
    mut stop: watch::Receiver<bool>,
) -> HostOutcome {
    let HealthCheck::Http(http) = check;
    let described = http.describe(&task.host_ip);
    let tries = http.retries.saturating_add(1);
    let mut last = String::new();
    let mut passed = false;
    let client = common::https::build(
        common::https::client_builder()
            .timeout(Duration::from_secs(http.timeout_seconds))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy(),
        "health checks",
    );
    for attempt in 1..=tries {
        let answer = match &client {
            Ok(client) => ask(client, http, &task.host_ip).await,
            Err(error) => Err(error.to_string()),
        };
        passed = answer.is_ok();
        last = match answer {
            Ok(said) | Err(said) => said,
        };
        log.line(format!(
            "==> health check {described}: {last} (try {attempt} of {tries})"
        ))
        .await;
        if passed || attempt == tries {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(http.interval_seconds)) => {}
            _ = stopped(&mut stop) => return HostOutcome::Stopped,
        }
    }
    let status = if passed { "passed" } else { "failed" };
    let event = json!({
        "scope": "check",
        "sequence": task.sequence,
        "host_task": task.id,
        "host_ip": task.host_ip,
        "check": described,
        "status": status,
        "detail": last,
    });
    if let Err(error) = inner
        .events
        .record(&task.run_id, "check", event.clone(), |_| Ok(()))
        .await
    {
        tracing::warn!(host_task = %task.id, %error, "cannot record a health check");
    }
    let mut posted = event;
    posted["event"] = json!("execution.check");
    posted["execution_id"] = json!(task.run_id);
    inner.notifier.notify("execution.check", posted);
    if passed {
        HostOutcome::Success
    } else {
        HostOutcome::Failed(format!("health check {described} failed: {last}"))
    }
}

/// One try with `client` (built once per host's check: it follows no redirect, so the check
/// reaches the host and nothing else): `Ok` with what the host answered when it is the expected
/// status, else `Err` with what went wrong.
async fn ask(client: &reqwest::Client, http: &HttpCheck, host: &str) -> Result<String, String> {
    match client.get(http.url_for(host)).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let said = format!("answered {status}");
            if status == http.expect_status {
                Ok(said)
            } else {
                Err(said)
            }
        }
        Err(error) => {
            let said = if error.is_timeout() {
                format!("no answer within {} s", http.timeout_seconds)
            } else {
                format!("cannot be reached: {error}")
            };
            Err(said.chars().take(MAX_SAID).collect())
        }
    }
}
