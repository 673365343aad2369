//! The health check of a host in a rollout: run once the host's deploy succeeded (also when a
//! resume found an earlier attempt completed it) and before the host counts as done, tried
//! `retries` more times `interval_seconds` apart; every try goes to the host's log and the result
//! is a `check` event of the run. A failed check fails the host task. An `http` check asks the
//! host's URL from the engine; a `command` check uploads the reviewed script the run froze to the
//! task's work directory and runs it on the host (exit code 0 passes), its output in the log.

use std::time::Duration;

use serde_json::json;

use super::{HostOutcome, HostWork, join, refuse_path, script_command, stopped};
use crate::{
    domain::rollout::{CommandCheck, HealthCheck, HttpCheck},
    execution::{
        shell::{self, CommandLine},
        transport::{RunOutcome, Transport},
    },
};

/// The most of an answer's status line a log line shows.
const MAX_SAID: usize = 300;

/// How one try of a check is made.
enum Probe<'a> {
    Http {
        client: Result<reqwest::Client, String>,
        check: &'a HttpCheck,
    },
    /// The script uploaded, as the command line that runs it.
    Command {
        line: CommandLine,
        check: &'a CommandCheck,
        transport: &'a dyn Transport,
    },
}

impl HostWork<'_> {
    /// Checks the health of this task's host over `transport` (the work's connection, still
    /// open); answers the host task's outcome.
    pub(super) async fn check_health(
        &mut self,
        check: &HealthCheck,
        transport: Option<&dyn Transport>,
    ) -> HostOutcome {
        let host_ip = self.task.host_ip.clone();
        let (described, retries, interval, probe) = match check {
            HealthCheck::Http(check) => {
                let client = common::https::build(
                    common::https::client_builder()
                        .timeout(Duration::from_secs(check.timeout_seconds))
                        .redirect(reqwest::redirect::Policy::none())
                        .no_proxy(),
                    "health checks",
                )
                .map_err(|error| error.to_string());
                (
                    check.describe(&host_ip),
                    check.retries,
                    check.interval_seconds,
                    Probe::Http { client, check },
                )
            }
            HealthCheck::Command(check) => {
                let described = check.describe();
                let Some(transport) = transport else {
                    return HostOutcome::Failed(format!(
                        "health check {described}: no connection to host {host_ip}"
                    ));
                };
                let line = match self.upload_check_script(check, transport).await {
                    Ok(line) => line,
                    Err(outcome) => return outcome,
                };
                let probe = Probe::Command {
                    line,
                    check,
                    transport,
                };
                (described, check.retries, check.interval_seconds, probe)
            }
        };
        let tries = retries.saturating_add(1);
        let mut last = String::new();
        let mut passed = false;
        let mut stop = self.stop.clone();
        for attempt in 1..=tries {
            let answer = match &probe {
                Probe::Http { client, check } => match client {
                    Ok(client) => ask(client, check, &host_ip).await,
                    Err(error) => Err(error.clone()),
                },
                Probe::Command {
                    line,
                    check,
                    transport,
                } => match self.run_check_script(line, check, *transport).await {
                    Ok(answer) => answer,
                    Err(outcome) => return outcome,
                },
            };
            passed = answer.is_ok();
            last = match answer {
                Ok(said) | Err(said) => said,
            };
            self.log
                .line(format!(
                    "==> health check {described}: {last} (try {attempt} of {tries})"
                ))
                .await;
            if passed || attempt == tries {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(interval)) => {}
                _ = stopped(&mut stop) => return HostOutcome::Stopped,
            }
        }
        self.record_check(&described, passed, &last).await;
        if passed {
            HostOutcome::Success
        } else {
            HostOutcome::Failed(format!("health check {described} failed: {last}"))
        }
    }

    /// The `check` event of the run and its webhook.
    async fn record_check(&self, described: &str, passed: bool, last: &str) {
        let task = self.task;
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
        if let Err(error) = self
            .inner
            .events
            .record(&task.run_id, "check", event.clone(), |_| Ok(()))
            .await
        {
            tracing::warn!(host_task = %task.id, %error, "cannot record a health check");
        }
        let mut posted = event;
        posted["event"] = json!("execution.check");
        posted["execution_id"] = json!(task.run_id);
        self.inner.notifier.notify("execution.check", posted);
    }

    /// Uploads the script of a command check (as the run froze it: only a reviewed one runs) to
    /// `health/` in the task's work directory; answers the command line that runs it.
    async fn upload_check_script(
        &mut self,
        check: &CommandCheck,
        transport: &dyn Transport,
    ) -> Result<CommandLine, HostOutcome> {
        let described = check.describe();
        let script = match &check.script {
            Some(script) if script.able => script,
            Some(_) => {
                return Err(HostOutcome::Failed(format!(
                    "health check {described}: the script is not reviewed; it was not run"
                )));
            }
            None => {
                return Err(HostOutcome::Failed(format!(
                    "health check {described}: the run did not freeze its script; it was not run"
                )));
            }
        };
        refuse_path("health check script file name", &script.file_name)?;
        let arguments = shell::split_words(&check.parameter).map_err(|error| {
            HostOutcome::Failed(format!(
                "health check {described}: its parameter {error}; it was not run"
            ))
        })?;
        let dir = format!("{}/health", self.work_dir());
        let path = join(&dir, &script.file_name);
        self.log
            .line(format!("==> health check script → {path}"))
            .await;
        let content = self.download(&check.script_id).await?;
        self.upload(transport, &path, content).await?;
        Ok(script_command(
            &dir,
            &script.execute_type,
            &script.file_name,
            &arguments,
        ))
    }

    /// One try of a command check: `Ok` with how the script ended (`Ok` inside when it exited
    /// 0), or the task's outcome when a stop came meanwhile.
    async fn run_check_script(
        &mut self,
        line: &CommandLine,
        check: &CommandCheck,
        transport: &dyn Transport,
    ) -> Result<Result<String, String>, HostOutcome> {
        let key = format!("{}-health", self.key);
        let outcome = self
            .run_until_stopped(
                transport,
                line,
                &key,
                Duration::from_secs(check.timeout_seconds),
                "the health check script",
            )
            .await?;
        Ok(match outcome {
            Ok(RunOutcome::Exited(0)) => Ok("exited with code 0".to_owned()),
            Ok(RunOutcome::Exited(code)) => Err(format!("exited with code {code}")),
            Ok(RunOutcome::TimedOut) => Err(format!(
                "still ran after {} s: killed",
                check.timeout_seconds
            )),
            Ok(RunOutcome::Signalled(signal)) => Err(format!("was killed by signal {signal}")),
            Err(error) => Err(error.to_string().chars().take(MAX_SAID).collect()),
        })
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
