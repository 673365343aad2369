//! One step on one host, as SPEC §5 lists it: (1) push the step's artifacts (streamed from
//! svc-artifact) and check their md5 on the host, (2) write the rendered app configs, (3) unpack
//! the method package in the run's work directory, write `params.json` and run the entrypoint,
//! (4) run the bound scripts. A non-zero exit, a timeout or a transport failure fails the host
//! task; a stop kills what runs on the host and ends it `stopped`.

use std::time::Duration;

use common::{
    ssh::{SshAuth, SshTarget},
    time::now_utc,
};
use serde_json::json;
use tokio::sync::{mpsc, watch};

use super::{
    Inner,
    content::StepContent,
    events::{HostLog, Masker},
    plan::StepPlan,
    transport::{
        ByteStream, LocalTransport, OutputKind, RunOutcome, SshTransport, Transport, shell_quote,
    },
};
use crate::{
    db::models::runs::{self, HostTaskRow, RunRow, state},
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
    masker: Masker,
    stop: watch::Receiver<bool>,
    token: &str,
    content: &StepContent,
) -> HostOutcome {
    if *stop.borrow() {
        return HostOutcome::Skipped;
    }
    if let Err(error) = host_status(inner, task, state::RUNNING, None, None).await {
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
        key: format!("tad-{}", task.id),
        exit_code: None,
    };
    let outcome = work.run(connection).await;
    // A stopped host's last exit code is that of a command before the killed one: none is shown.
    let exit_code = match outcome {
        HostOutcome::Stopped => None,
        _ => work.exit_code,
    };
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
    if let Err(error) = host_status(inner, task, status, exit_code, message).await {
        tracing::error!(host_task = %task.id, %error, "cannot record the end of a host task");
    }
    outcome
}

async fn host_status(
    inner: &Inner,
    task: &HostTaskRow,
    status: &str,
    exit_code: Option<i32>,
    message: Option<String>,
) -> crate::service::JobsResult<()> {
    let task_id = task.id.clone();
    let owned_status = status.to_owned();
    let owned_message = message.clone();
    inner
        .events
        .record(
            &task.run_id,
            "host",
            json!({
                "scope": "host",
                "host_task": task.id,
                "host_ip": task.host_ip,
                "sequence": task.sequence,
                "status": status,
                "exit_code": exit_code,
                "message": message,
            }),
            move |connection| {
                runs::set_host_task_status(
                    connection,
                    &task_id,
                    &owned_status,
                    exit_code,
                    owned_message.as_deref(),
                    now_utc(),
                )?;
                Ok(())
            },
        )
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
    exit_code: Option<i32>,
}

impl HostWork<'_> {
    async fn run(&mut self, connection: Option<&HostConnection>) -> HostOutcome {
        let transport = match self.connect(connection).await {
            Ok(transport) => transport,
            Err(outcome) => return outcome,
        };
        let outcome = match self.steps(transport.as_ref()).await {
            Ok(()) => HostOutcome::Success,
            Err(outcome) => outcome,
        };
        transport.close().await;
        outcome
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
        self.command(
            transport,
            "prepare the work directory",
            &format!(
                "mkdir -p -m 1777 {} 2>/dev/null; mkdir -p {}",
                shell_quote(base),
                shell_quote(&work)
            ),
        )
        .await?;
        for artifact in plan
            .artifacts
            .iter()
            .filter(|artifact| StepPlan::applies(&artifact.host_ips, &host_ip))
        {
            let path = join(&artifact.dest, &artifact.file_name);
            let version = artifact.version.as_deref().unwrap_or("-");
            self.log
                .line(format!(
                    "==> artifact {} (version {version}) → {path}",
                    artifact.file_name
                ))
                .await;
            let content = self.download(&artifact.file_id).await?;
            self.upload(transport, &path, content).await?;
            self.check_md5(transport, &path, &artifact.md5).await?;
        }
        for config in plan
            .configs
            .iter()
            .filter(|config| StepPlan::applies(&config.host_ips, &host_ip))
        {
            let path = join(&config.dest, &config.target_name);
            self.log.line(format!("==> app config → {path}")).await;
            self.upload(transport, &path, text_stream(config.text.clone()))
                .await?;
        }
        let params = serde_json::to_string_pretty(&plan.params).unwrap_or_else(|_| "{}".into());
        match &plan.package {
            Some(package) => {
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
                    &format!(
                        "rm -rf {dir} && mkdir -p {dir} && tar xzf {archive} -C {dir}",
                        dir = shell_quote(&unpacked),
                        archive = shell_quote(&archive)
                    ),
                )
                .await?;
                let params_path = format!("{unpacked}/params.json");
                self.upload(transport, &params_path, text_stream(params))
                    .await?;
                let interpreter = interpreter_of(&package.entrypoint);
                self.command(
                    transport,
                    &format!("entrypoint {}", package.entrypoint),
                    &format!(
                        "cd {dir} && TAD_PARAMS_FILE={params} TAD_RUN_ID={run} TAD_STEP={step} {interpreter} {entry}",
                        dir = shell_quote(&unpacked),
                        params = shell_quote(&params_path),
                        run = self.run.id,
                        step = plan.sequence,
                        entry = shell_quote(&package.entrypoint)
                    ),
                )
                .await?;
            }
            None => {
                self.upload(
                    transport,
                    &format!("{work}/params.json"),
                    text_stream(params),
                )
                .await?;
            }
        }
        for script in plan
            .scripts
            .iter()
            .filter(|script| StepPlan::applies(&script.host_ips, &host_ip))
        {
            let dest = if script.dest.trim().is_empty() {
                format!("{work}/scripts")
            } else {
                script.dest.clone()
            };
            let path = join(&dest, &script.file_name);
            self.log
                .line(format!(
                    "==> script {} ({}) → {path}",
                    script.script_name, script.file_name
                ))
                .await;
            let content = self.download(&script.file_id).await?;
            self.upload(transport, &path, content).await?;
            let interpreter = if script.execute_type == "python" {
                "python3"
            } else {
                "bash"
            };
            self.command(
                transport,
                &format!("script {}", script.file_name),
                &format!(
                    "cd {dir} && {interpreter} {file} {parameter}",
                    dir = shell_quote(&dest),
                    file = shell_quote(&script.file_name),
                    parameter = script.parameter
                ),
            )
            .await?;
        }
        Ok(())
    }

    async fn download(&self, file_id: &str) -> Result<ByteStream, Early> {
        self.content.stream(file_id).await.map_err(|error| {
            HostOutcome::Failed(format!(
                "cannot read file {file_id} from svc-artifact: {error}"
            ))
        })
    }

    async fn upload(
        &mut self,
        transport: &dyn Transport,
        path: &str,
        content: ByteStream,
    ) -> Result<(), Early> {
        let mut stop = self.stop.clone();
        let _turn = tokio::select! {
            turn = self.content.upload_turn() => turn,
            _ = stopped(&mut stop) => return Err(HostOutcome::Stopped),
        };
        tokio::select! {
            written = transport.upload(path, content) => match written {
                Ok(bytes) => {
                    self.log.line(format!("    wrote {bytes} bytes to {path}")).await;
                    Ok(())
                }
                Err(error) => Err(HostOutcome::Failed(error.to_string())),
            },
            _ = stopped(&mut stop) => Err(HostOutcome::Stopped),
        }
    }

    async fn check_md5(
        &mut self,
        transport: &dyn Transport,
        path: &str,
        expected: &str,
    ) -> Result<(), Early> {
        let (sender, mut receiver) = mpsc::channel(64);
        let outcome = transport
            .run(
                &format!("md5sum {}", shell_quote(path)),
                &self.key,
                Duration::from_secs(self.inner.options.host_timeout_secs),
                sender,
            )
            .await;
        let mut stdout = Vec::new();
        while let Ok(chunk) = receiver.try_recv() {
            if chunk.kind == OutputKind::Stdout {
                stdout.extend_from_slice(&chunk.bytes);
            }
        }
        let found = String::from_utf8_lossy(&stdout)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_lowercase();
        match outcome {
            Ok(RunOutcome::Exited(0)) if found == expected.to_lowercase() => {
                self.log.line(format!("    md5 {found} verified")).await;
                Ok(())
            }
            Ok(RunOutcome::Exited(0)) => Err(HostOutcome::Failed(format!(
                "md5 of {path} on the host is {found}, expected {expected}"
            ))),
            Ok(other) => Err(HostOutcome::Failed(format!(
                "cannot compute the md5 of {path} on the host: {other:?}"
            ))),
            Err(error) => Err(HostOutcome::Failed(error.to_string())),
        }
    }

    /// Runs a command with the step's timeout; its output goes to the host task's log.
    async fn command(
        &mut self,
        transport: &dyn Transport,
        what: &str,
        command: &str,
    ) -> Result<(), Early> {
        self.log.line(format!("==> {what}")).await;
        let timeout_secs = match self.plan.timeout_secs {
            0 => self.inner.options.host_timeout_secs,
            secs => secs,
        };
        let running = transport.run(
            command,
            &self.key,
            Duration::from_secs(timeout_secs),
            self.log.sender(),
        );
        tokio::pin!(running);
        let mut stop = self.stop.clone();
        let outcome = tokio::select! {
            outcome = &mut running => outcome,
            _ = stopped(&mut stop) => {
                self.log.line(format!("==> stop requested: killing {what}")).await;
                if let Err(error) = transport.kill(&self.key).await {
                    self.log.line(format!("    kill failed: {error}")).await;
                }
                let _ = tokio::time::timeout(Duration::from_secs(10), &mut running).await;
                return Err(HostOutcome::Stopped);
            }
        };
        match outcome {
            Ok(RunOutcome::Exited(0)) => {
                self.exit_code = Some(0);
                Ok(())
            }
            Ok(RunOutcome::Exited(code)) => {
                self.exit_code = Some(code);
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
    fn entrypoints_pick_their_interpreter() {
        assert_eq!(interpreter_of("deploy.py"), "python3");
        assert_eq!(interpreter_of("deploy.sh"), "bash");
    }
}
