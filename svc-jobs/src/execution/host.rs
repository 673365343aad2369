//! One step on one host, as SPEC §5 lists it: (1) push the step's artifacts (streamed from
//! svc-artifact) and check their md5 on the host, (2) write the rendered app configs, (3) unpack
//! the method package in the run's work directory, write `params.json` and run the entrypoint,
//! (4) run the bound scripts. A non-zero exit, a timeout or a transport failure fails the host
//! task; a stop kills what runs on the host and ends it `stopped`.
//!
//! Every value on a command line goes through [`CommandLine`] (quoted words); a script's
//! `parameter` reaches it as argv words ([`shell::split_words`]). `params.json` is written 0600
//! in a 0700 directory and removed when the host's work ends, however it ends.

use std::time::Duration;

use common::{
    ssh::{SshAuth, SshTarget},
    time::now_utc,
};
use serde_json::json;
use tokio::sync::{mpsc, watch};

mod attempts;
mod health;
mod transfer;

use super::{
    Inner,
    content::StepContent,
    crash_point,
    events::{HostLog, Masker},
    plan::StepPlan,
    shell::{self, CommandLine},
    transport::{
        ByteStream, FINAL_KEY_SUFFIX, LocalTransport, RunOutcome, SshTransport, Transport,
        TransportError, part_prefix,
    },
};
use crate::{
    db::models::runs::{self, ArtifactCounts, HostTaskRow, RunRow, state},
    resource::HostConnection,
};

/// How one host task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostOutcome {
    Success,
    Failed(String),
    Stopped,
    /// Never started (the step stopped first).
    Skipped,
}

/// Resolves when a stop is asked (never, if the stop signal is gone).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|stopped| *stopped).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Works one host task and records how it ended.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_host_task(
    inner: &Inner,
    run: &RunRow,
    plan: &StepPlan,
    task: &HostTaskRow,
    connection: Option<&HostConnection>,
    earlier_attempts: Vec<String>,
    masker: Masker,
    stop: watch::Receiver<bool>,
    token: &str,
    content: &StepContent,
) -> HostOutcome {
    if *stop.borrow() {
        return HostOutcome::Skipped;
    }
    if let Err(error) = host_status(inner, task, HostEnd::running()).await {
        return HostOutcome::Failed(format!("cannot record the host task: {error}"));
    }
    let log = HostLog::start(
        inner.events.clone(),
        run.id.clone(),
        task.id.clone(),
        masker.clone(),
    );
    let mut work = HostWork {
        inner,
        run,
        plan,
        task,
        log: &log,
        stop,
        token,
        content,
        key: task.run_key(),
        earlier_attempts,
        failed_exit_code: None,
        secret_files: Vec::new(),
        final_ran: false,
        artifacts: ArtifactCounts::default(),
    };
    let (outcome, transport) = work.run(connection).await;
    let health = plan
        .rollout
        .as_ref()
        .and_then(|rollout| rollout.health.as_ref());
    let outcome = match (outcome, health) {
        (HostOutcome::Success, Some(check)) => work.check_health(check, transport.as_deref()).await,
        (outcome, _) => outcome,
    };
    // Once this outcome is recorded, no resume needs the exit status marks of this attempt's
    // final command or of the earlier attempts' any more.
    let mut marked = std::mem::take(&mut work.earlier_attempts);
    if work.final_ran {
        marked.push(work.key.clone());
    }
    let exit_code = exit_code_of(&outcome, work.failed_exit_code);
    let artifacts = work.artifacts;
    let (status, message) = match &outcome {
        HostOutcome::Success => (state::SUCCESS, None),
        HostOutcome::Failed(reason) => (state::FAILED, Some(masker.mask(reason))),
        HostOutcome::Stopped => (state::STOPPED, Some("stopped by request".to_owned())),
        HostOutcome::Skipped => (state::SKIPPED, None),
    };
    log.line(match &message {
        Some(message) => format!("==> {status}: {message}"),
        None => format!("==> {status}"),
    })
    .await;
    log.finish().await;
    let ended = HostEnd {
        status,
        exit_code,
        message,
        artifacts,
    };
    if let Err(error) = host_status(inner, task, ended).await {
        tracing::error!(host_task = %task.id, %error, "cannot record the end of a host task");
        // Not recorded: a resume still counts what the marks say.
        marked.clear();
    }
    if let Some(transport) = transport {
        attempts::close(inner, task, marked, transport).await;
    }
    outcome
}

/// The exit code a host task shows: 0 for a success; for a failure, the non-zero code of the
/// command that failed it, or none when something else failed it (an upload, an md5 check, a
/// timeout, a lost connection); none for a stop (the killed command has no code of its own).
fn exit_code_of(outcome: &HostOutcome, failed_exit_code: Option<i32>) -> Option<i32> {
    match outcome {
        HostOutcome::Success => Some(0),
        HostOutcome::Failed(_) => failed_exit_code.filter(|code| *code != 0),
        HostOutcome::Stopped | HostOutcome::Skipped => None,
    }
}

/// A host task's new status (running, or how it ended).
struct HostEnd {
    status: &'static str,
    exit_code: Option<i32>,
    message: Option<String>,
    artifacts: ArtifactCounts,
}

impl HostEnd {
    fn running() -> HostEnd {
        HostEnd {
            status: state::RUNNING,
            exit_code: None,
            message: None,
            artifacts: ArtifactCounts::default(),
        }
    }
}

async fn host_status(
    inner: &Inner,
    task: &HostTaskRow,
    ended: HostEnd,
) -> crate::domain::JobsResult<()> {
    let HostEnd {
        status,
        exit_code,
        message,
        artifacts,
    } = ended;
    let task_id = task.id.clone();
    let run_id = task.run_id.clone();
    let owner = inner.replica.clone();
    let owned_message = message.clone();
    let mut event = json!({
        "scope": "host",
        "host_task": task.id,
        "host_ip": task.host_ip,
        "sequence": task.sequence,
        "status": status,
        "exit_code": exit_code,
        "message": message,
    });
    if status != state::RUNNING {
        event["artifacts_sent"] = json!(artifacts.sent);
        event["artifacts_skipped"] = json!(artifacts.skipped);
    }
    inner
        .events
        .record(&task.run_id, "host", event, move |connection| {
            super::ensure_held(connection, &run_id, &owner)?;
            runs::set_host_task_status(
                connection,
                &task_id,
                status,
                exit_code,
                owned_message.as_deref(),
                now_utc(),
                artifacts,
            )?;
            Ok(())
        })
        .await
}

/// Why a piece of host work ended early.
type Early = HostOutcome;

struct HostWork<'a> {
    inner: &'a Inner,
    run: &'a RunRow,
    plan: &'a StepPlan,
    task: &'a HostTaskRow,
    log: &'a HostLog,
    stop: watch::Receiver<bool>,
    token: &'a str,
    content: &'a StepContent,
    /// Names this task's process group on the host.
    key: String,
    /// The keys of earlier attempts of this step on this host that may still run there (their
    /// replica was killed): killed before this attempt starts.
    earlier_attempts: Vec<String>,
    /// The exit code of the command that failed the task, when one did.
    failed_exit_code: Option<i32>,
    /// Files holding secrets written (or being written) on the host: removed when the work ends.
    secret_files: Vec<String>,
    /// Whether the final command ran (its exit status mark is on the host).
    final_ran: bool,
    /// The artifacts sent, and those the host held already.
    artifacts: ArtifactCounts,
}

impl HostWork<'_> {
    /// Does the work; answers how it ended and the transport, still open (closed by
    /// [`attempts::close`] once the outcome is recorded).
    async fn run(
        &mut self,
        connection: Option<&HostConnection>,
    ) -> (HostOutcome, Option<Box<dyn Transport>>) {
        let transport = match self.connect(connection).await {
            Ok(transport) => transport,
            Err(outcome) => return (outcome, None),
        };
        if !self.earlier_attempts.is_empty() {
            crash_point::reached(crash_point::BEFORE_REAP);
        }
        let outcome = match self.reap_earlier_attempts(transport.as_ref()).await {
            Ok(Some(finished)) => {
                crash_point::reached(crash_point::AFTER_REAP);
                self.finished_before(&finished).await
            }
            Ok(None) => match self.steps(transport.as_ref()).await {
                Ok(()) => HostOutcome::Success,
                Err(outcome) => outcome,
            },
            Err(outcome) => outcome,
        };
        self.remove_secret_files(transport.as_ref()).await;
        (outcome, Some(transport))
    }

    /// Removes the secret-bearing files of this task (and the part files of their uploads, in
    /// case an upload was cut short) from the host; runs whatever ended the work, a stop too.
    async fn remove_secret_files(&mut self, transport: &dyn Transport) {
        if self.secret_files.is_empty() {
            return;
        }
        let mut command = CommandLine::new("rm -f --");
        for path in &self.secret_files {
            let (dir, name) = path.rsplit_once('/').unwrap_or((".", path.as_str()));
            command = command
                .word(path)
                .files_starting_with(format!("{dir}/{}", part_prefix(name)));
        }
        let (sender, mut receiver) = mpsc::channel(16);
        let key = format!("{}-cleanup", self.key);
        let removed = transport
            .run(command.as_str(), &key, self.inner.ssh_timeout, sender)
            .await;
        let mut said = Vec::new();
        while let Ok(chunk) = receiver.try_recv() {
            said.extend_from_slice(&chunk.bytes);
        }
        let files = self.secret_files.join(", ");
        match removed {
            Ok(RunOutcome::Exited(0)) => {
                self.log.line(format!("==> removed {files}")).await;
                self.secret_files.clear();
            }
            Ok(other) => {
                let said = String::from_utf8_lossy(&said);
                let excerpt: String = said.trim().chars().take(200).collect();
                tracing::warn!(host_task = %self.task.id, outcome = ?other, "cannot remove secret files from the host");
                self.log
                    .line(format!("==> cannot remove {files}: {other:?} {excerpt}"))
                    .await;
            }
            Err(error) => {
                tracing::warn!(host_task = %self.task.id, %error, "cannot remove secret files from the host");
                self.log
                    .line(format!("==> cannot remove {files}: {error}"))
                    .await;
            }
        }
    }

    async fn connect(
        &mut self,
        connection: Option<&HostConnection>,
    ) -> Result<Box<dyn Transport>, Early> {
        if self.run.use_tad_host {
            self.log
                .line(format!(
                    "==> host {} runs on the TAD host itself (use_tad_host)",
                    self.task.host_ip
                ))
                .await;
            return Ok(Box::new(LocalTransport::new()));
        }
        let Some(connection) = connection else {
            return Err(HostOutcome::Failed(format!(
                "host {} is no longer bound to cluster {}",
                self.task.host_ip, self.plan.cluster_id
            )));
        };
        let auth = match (&connection.private_key, &connection.password) {
            (Some(key), _) => SshAuth::PrivateKey(key.clone()),
            (None, Some(password)) => SshAuth::Password(password.clone()),
            (None, None) => {
                return Err(HostOutcome::Failed(format!(
                    "host {} has neither an SSH password nor a private key",
                    connection.host_ip
                )));
            }
        };
        let target = SshTarget {
            host: connection.host_ip.clone(),
            port: connection.ssh_port,
            user: connection.ssh_user.clone(),
        };
        self.log
            .line(format!(
                "==> connecting to {}@{}:{}",
                target.user, target.host, target.port
            ))
            .await;
        let connected = SshTransport::connect(
            target,
            auth,
            connection.pinned_fingerprint.as_deref(),
            self.inner.ssh_timeout,
        )
        .await;
        let (transport, fingerprint) = match connected {
            Ok(connected) => connected,
            Err(error) => {
                self.log.line(format!("==> {error}")).await;
                return Err(HostOutcome::Failed(error.to_string()));
            }
        };
        if connection.pinned_fingerprint.is_none() {
            match self
                .inner
                .resource
                .pin_host_key(self.token, &connection.host_id, &fingerprint)
                .await
            {
                Ok(pinned) if pinned == fingerprint => {
                    self.log
                        .line(format!("==> host key {fingerprint} pinned on first use"))
                        .await;
                }
                Ok(pinned) => {
                    transport.close().await;
                    return Err(HostOutcome::Failed(format!(
                        "ssh host key of {} changed: pinned {pinned}, presented {fingerprint}; refusing to connect",
                        connection.host_ip
                    )));
                }
                Err(error) => {
                    transport.close().await;
                    return Err(HostOutcome::Failed(format!(
                        "cannot pin the host key of {}: {error}",
                        connection.host_ip
                    )));
                }
            }
        }
        Ok(Box::new(transport))
    }

    /// The work directory of this run and step on the host.
    fn work_dir(&self) -> String {
        let user = if self.run.use_tad_host {
            "local"
        } else {
            "ssh"
        };
        format!(
            "{}/{}-{}/{}/{}",
            self.inner.options.work_dir, user, self.task.host_ip, self.run.id, self.plan.sequence
        )
    }

    async fn steps(&mut self, transport: &dyn Transport) -> Result<(), Early> {
        let plan = self.plan;
        let host_ip = self.task.host_ip.clone();
        let work = self.work_dir();
        let base = &self.inner.options.work_dir;
        // The shared base is world-writable and sticky (several users share it).
        self.command(
            transport,
            "prepare the work directory",
            false,
            &shell::prepare_work_dir(base, &work),
        )
        .await?;
        for artifact in plan
            .artifacts
            .iter()
            .filter(|artifact| StepPlan::applies(&artifact.host_ips, &host_ip))
        {
            refuse_path("artifacts.dest", &artifact.dest)?;
            refuse_path("artifact file name", &artifact.file_name)?;
            let path = join(&artifact.dest, &artifact.file_name);
            let version = artifact.version.as_deref().unwrap_or("-");
            self.log
                .line(format!(
                    "==> artifact {} (version {version}) → {path}",
                    artifact.file_name
                ))
                .await;
            // Equal files are not sent: a redeploy of unchanged artifacts sends no bytes.
            if self
                .md5_on_host(transport, &path)
                .await?
                .is_some_and(|found| found.eq_ignore_ascii_case(&artifact.md5))
            {
                self.log
                    .line(format!(
                        "    skipped: {path} on the host has md5 {} already, not sent",
                        artifact.md5.to_lowercase()
                    ))
                    .await;
                self.artifacts.skipped += 1;
                continue;
            }
            let content = self.download(&artifact.file_id).await?;
            self.upload(transport, &path, content).await?;
            self.check_md5(transport, &path, &artifact.md5).await?;
            self.artifacts.sent += 1;
        }
        for config in plan
            .configs
            .iter()
            .filter(|config| StepPlan::applies(&config.host_ips, &host_ip))
        {
            refuse_path("groups.dest", &config.dest)?;
            refuse_path("groups.targetname", &config.target_name)?;
            let path = join(&config.dest, &config.target_name);
            self.log.line(format!("==> app config → {path}")).await;
            self.upload(transport, &path, text_stream(config.text.clone()))
                .await?;
        }
        let params = serde_json::to_string_pretty(&plan.params).unwrap_or_else(|_| "{}".into());
        let scripts: Vec<_> = plan
            .scripts
            .iter()
            .filter(|script| StepPlan::applies(&script.host_ips, &host_ip))
            .collect();
        match &plan.package {
            Some(package) => {
                refuse_relative_path("entrypoint", &package.entrypoint)?;
                let archive = format!("{work}/package.tar.gz");
                let unpacked = format!("{work}/package");
                self.log
                    .line(format!(
                        "==> method package of {} → {unpacked}",
                        plan.method_name
                    ))
                    .await;
                let content = self.download(&package.file_id).await?;
                self.upload(transport, &archive, content).await?;
                self.check_md5(transport, &archive, &package.md5).await?;
                self.command(
                    transport,
                    "unpack the method package",
                    false,
                    &CommandLine::new("rm -rf --")
                        .word(&unpacked)
                        .text("&& (umask 077 && mkdir -p --")
                        .word(&unpacked)
                        .text(") && tar xzf")
                        .word(&archive)
                        .text("-C")
                        .word(&unpacked)
                        .text("&& chmod 700 --")
                        .word(&unpacked),
                )
                .await?;
                let params_path = format!("{unpacked}/params.json");
                self.write_secret_file(transport, &params_path, params)
                    .await?;
                let interpreter = interpreter_of(&package.entrypoint);
                self.command(
                    transport,
                    &format!("entrypoint {}", package.entrypoint),
                    scripts.is_empty(),
                    &CommandLine::new("cd --")
                        .word(&unpacked)
                        .text("&&")
                        .assign("TAD_PARAMS_FILE", &params_path)
                        .assign("TAD_RUN_ID", &self.run.id)
                        .assign("TAD_STEP", plan.sequence.to_string())
                        .word(interpreter)
                        .text("--")
                        .word(&package.entrypoint),
                )
                .await?;
            }
            None => {
                self.write_secret_file(transport, &format!("{work}/params.json"), params)
                    .await?;
            }
        }
        for (index, script) in scripts.iter().enumerate() {
            let dest = if script.dest.trim().is_empty() {
                format!("{work}/scripts")
            } else {
                script.dest.clone()
            };
            refuse_path("scripts_data.dest", &dest)?;
            refuse_path("script file name", &script.file_name)?;
            // Bindings refuse such a parameter; one saved before that check fails here.
            let arguments = shell::split_words(&script.parameter).map_err(|error| {
                HostOutcome::Failed(format!(
                    "the parameter of script {} {error}; it was not run",
                    script.file_name
                ))
            })?;
            let path = join(&dest, &script.file_name);
            self.log
                .line(format!(
                    "==> script {} ({}) → {path}, {} argument(s)",
                    script.script_name,
                    script.file_name,
                    arguments.len()
                ))
                .await;
            let content = self.download(&script.file_id).await?;
            self.upload(transport, &path, content).await?;
            self.command(
                transport,
                &format!("script {}", script.file_name),
                index + 1 == scripts.len(),
                &script_command(&dest, &script.execute_type, &script.file_name, &arguments),
            )
            .await?;
        }
        Ok(())
    }

    /// Returns at once while this replica may act on the run; else never (this replica is
    /// giving the run up: its work is dropped in a moment, as a kill would end it). Called before
    /// anything starts on the host, so that a replica woken from a freeze past its lease starts
    /// nothing there that could meet the work of the replica resuming the run.
    async fn while_held(&self) {
        if !self.inner.may_act_on(&self.run.id) {
            tracing::warn!(host_task = %self.task.id, "the run's lease can no longer be counted on: starting nothing more on the host");
            std::future::pending::<()>().await;
        }
    }

    /// Runs `command` under `key` on the host for at most `timeout`, its output to the task's
    /// log, once this replica may act on the run (see [`HostWork::while_held`]); a stop asked
    /// meanwhile kills it (`what` names it in the log) and answers [`HostOutcome::Stopped`].
    async fn run_until_stopped(
        &self,
        transport: &dyn Transport,
        command: &CommandLine,
        key: &str,
        timeout: Duration,
        what: &str,
    ) -> Result<Result<RunOutcome, TransportError>, Early> {
        self.while_held().await;
        let running = transport.run(command.as_str(), key, timeout, self.log.sender());
        tokio::pin!(running);
        let mut stop = self.stop.clone();
        tokio::select! {
            outcome = &mut running => Ok(outcome),
            _ = stopped(&mut stop) => {
                self.log.line(format!("==> stop requested: killing {what}")).await;
                if let Err(error) = transport.kill(key).await {
                    self.log.line(format!("    kill failed: {error}")).await;
                }
                let _ = tokio::time::timeout(Duration::from_secs(10), &mut running).await;
                Err(HostOutcome::Stopped)
            }
        }
    }

    /// How long one command of the step may run on a host, in seconds.
    fn timeout_secs(&self) -> u64 {
        match self.plan.timeout_secs {
            0 => self.inner.options.host_timeout_secs,
            secs => secs,
        }
    }

    /// Runs a command with the step's timeout; its output goes to the host task's log.
    /// Runs `command` under this attempt's key; the `last` command of the work runs under the
    /// final key, whose exit status stays on the host until the cleanup (see
    /// [`FINAL_KEY_SUFFIX`]), so that a resume after the service's death knows it ended.
    async fn command(
        &mut self,
        transport: &dyn Transport,
        what: &str,
        last: bool,
        command: &CommandLine,
    ) -> Result<(), Early> {
        self.log.line(format!("==> {what}")).await;
        self.final_ran |= last;
        let key = if last {
            format!("{}{FINAL_KEY_SUFFIX}", self.key)
        } else {
            self.key.clone()
        };
        let timeout_secs = self.timeout_secs();
        let outcome = self
            .run_until_stopped(
                transport,
                command,
                &key,
                Duration::from_secs(timeout_secs),
                what,
            )
            .await?;
        match outcome {
            Ok(RunOutcome::Exited(0)) => Ok(()),
            Ok(RunOutcome::Exited(code)) => {
                self.failed_exit_code = Some(code);
                Err(HostOutcome::Failed(format!(
                    "{what} exited with code {code}"
                )))
            }
            Ok(RunOutcome::TimedOut) => Err(HostOutcome::Failed(format!(
                "{what} timed out after {timeout_secs} s"
            ))),
            Ok(RunOutcome::Signalled(signal)) if *self.stop.borrow() => {
                let _ = signal;
                Err(HostOutcome::Stopped)
            }
            Ok(RunOutcome::Signalled(signal)) => Err(HostOutcome::Failed(format!(
                "{what} was killed by signal {signal}"
            ))),
            Err(error) => Err(HostOutcome::Failed(error.to_string())),
        }
    }
}

/// Fails the host when `value` cannot be a path on the target (see [`shell::check_path`]).
fn refuse_path(field: &str, value: &str) -> Result<(), Early> {
    shell::check_path(field, value).map_err(HostOutcome::Failed)
}

/// Fails the host when `value` is not a path inside its package (see
/// [`shell::check_relative_path`]).
fn refuse_relative_path(field: &str, value: &str) -> Result<(), Early> {
    shell::check_relative_path(field, value).map_err(HostOutcome::Failed)
}

/// `dir/name` without doubled slashes.
fn join(dir: &str, name: &str) -> String {
    format!(
        "{}/{}",
        dir.trim_end_matches('/'),
        name.trim_start_matches('/')
    )
}

fn text_stream(text: String) -> ByteStream {
    use futures::StreamExt;
    futures::stream::once(async move { Ok(bytes::Bytes::from(text)) }).boxed()
}

/// The command line that runs script `file_name` in `dir` with `arguments` (as argv words),
/// by `python3` for an `execute_type` of `python`, else by `bash`.
fn script_command(
    dir: &str,
    execute_type: &str,
    file_name: &str,
    arguments: &[String],
) -> CommandLine {
    let interpreter = if execute_type == "python" {
        "python3"
    } else {
        "bash"
    };
    CommandLine::new("cd --")
        .word(dir)
        .text("&&")
        .word(interpreter)
        .text("--")
        .word(file_name)
        .words(arguments)
}

/// `python3` for `.py` entrypoints, else `bash`.
fn interpreter_of(entrypoint: &str) -> &'static str {
    if entrypoint.ends_with(".py") {
        "python3"
    } else {
        "bash"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_without_doubled_slashes() {
        assert_eq!(join("/opt/app/", "a.jar"), "/opt/app/a.jar");
        assert_eq!(join("/opt/app", "a.jar"), "/opt/app/a.jar");
    }

    #[test]
    fn a_failed_host_never_shows_exit_code_zero() {
        let failed = HostOutcome::Failed("upload failed".into());
        assert_eq!(exit_code_of(&failed, None), None);
        assert_eq!(exit_code_of(&failed, Some(0)), None);
        assert_eq!(exit_code_of(&failed, Some(3)), Some(3));
        assert_eq!(exit_code_of(&HostOutcome::Success, None), Some(0));
        assert_eq!(exit_code_of(&HostOutcome::Stopped, Some(3)), None);
    }

    #[test]
    fn entrypoints_pick_their_interpreter() {
        assert_eq!(interpreter_of("deploy.py"), "python3");
        assert_eq!(interpreter_of("deploy.sh"), "bash");
    }
}
