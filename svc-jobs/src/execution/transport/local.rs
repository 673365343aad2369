//! The local transport adapter (`use_tad_host`): runs commands and writes files on the TAD host
//! itself, as the service's user, each command in its own process group (see
//! [`super::process_group`]).

use std::{
    os::unix::process::ExitStatusExt,
    path::{Path, PathBuf},
    process::Stdio,
};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWriteExt},
    sync::mpsc,
    task::JoinHandle,
    time::Instant,
};

use super::{
    ByteStream, OutputChunk, OutputKind, Reaped, RunOutcome, Transport, TransportError, part_path,
    process_group::{self, Ending, KillMode, PendingRuns},
};

const TARGET: &str = "local";

/// Runs on this machine as the current user.
#[derive(Default)]
pub struct LocalTransport {
    runs: PendingRuns,
}

impl LocalTransport {
    /// A transport to the TAD host itself.
    pub fn new() -> LocalTransport {
        LocalTransport::default()
    }

    async fn kill_group(&self, key: &str, mode: KillMode) -> Result<Reaped, TransportError> {
        let [program, arguments @ ..] = process_group::kill_invocation(key, mode);
        let killing = tokio::process::Command::new(program)
            .args(arguments)
            .stdin(Stdio::null())
            .output();
        let output = tokio::time::timeout(process_group::KILL_GRACE, killing)
            .await
            .map_err(|_| command_error(format!("killing the command under key {key} hung")))?
            .map_err(|error| command_error(format!("cannot start bash to kill {key}: {error}")))?;
        if !output.status.success() {
            return Err(command_error(format!(
                "killing the command under key {key} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let reaped = process_group::reaped(&output.stdout);
        tracing::debug!(key, ?reaped, "local process group killed");
        Ok(reaped)
    }
}

fn command_error(message: String) -> TransportError {
    TransportError::Command {
        target: TARGET.to_owned(),
        message,
    }
}

/// How the wait for the wrapper ended.
enum Waited {
    Ended(std::io::Result<std::process::ExitStatus>),
    TimedOut,
}

#[async_trait]
impl Transport for LocalTransport {
    fn describe(&self) -> String {
        TARGET.to_owned()
    }

    async fn upload(&self, path: &str, content: ByteStream) -> Result<u64, TransportError> {
        upload(path, content, Access::Default).await
    }

    async fn upload_private(&self, path: &str, content: ByteStream) -> Result<u64, TransportError> {
        upload(path, content, Access::Private).await
    }

    async fn run(
        &self,
        command: &str,
        key: &str,
        timeout: std::time::Duration,
        output: mpsc::Sender<OutputChunk>,
    ) -> Result<RunOutcome, TransportError> {
        process_group::check_key(key).map_err(command_error)?;
        let run = self.runs.begin(key).map_err(command_error)?;
        let deadline = Instant::now() + timeout;
        let [program, arguments @ ..] = process_group::run_invocation(key, command);
        let mut child = tokio::process::Command::new(program)
            .args(arguments)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| command_error(format!("cannot start bash: {error}")))?;
        tracing::debug!(key, "local command started");
        let forwarders = [
            forward(child.stdout.take(), OutputKind::Stdout, output.clone()),
            forward(child.stderr.take(), OutputKind::Stderr, output),
        ];
        let waited = tokio::select! {
            status = child.wait() => Waited::Ended(status),
            () = tokio::time::sleep_until(deadline) => Waited::TimedOut,
        };
        let status = match waited {
            Waited::Ended(status) => status
                .map_err(|error| command_error(format!("waiting for bash failed: {error}")))?,
            Waited::TimedOut => {
                self.runs.mark_killed(key);
                self.kill_group(key, KillMode::Mark).await?;
                let _ = tokio::time::timeout(process_group::KILL_GRACE, child.wait()).await;
                finish(forwarders).await;
                tracing::info!(key, seconds = timeout.as_secs(), "local command timed out");
                return Ok(RunOutcome::TimedOut);
            }
        };
        finish(forwarders).await;
        let ending = match (status.code(), status.signal()) {
            (Some(code), _) => Ending::Exited(code),
            (None, Some(signal)) => Ending::Signalled(process_group::signal_name(signal)),
            (None, None) => Ending::Lost,
        };
        process_group::outcome(ending, run.killed())
            .ok_or_else(|| command_error(format!("bash ended without a status: {status}")))
    }

    async fn kill(&self, key: &str) -> Result<Reaped, TransportError> {
        process_group::check_key(key).map_err(command_error)?;
        self.kill_group(key, self.runs.kill_mode(key)).await
    }

    async fn probe(&self, key: &str) -> Result<Reaped, TransportError> {
        process_group::check_key(key).map_err(command_error)?;
        self.kill_group(key, KillMode::Probe).await
    }

    async fn close(&self) {}
}

/// Sends what `pipe` yields to `output` until it closes (then drops what the receiver no longer
/// wants, still reading so that the writer is not blocked).
fn forward<Pipe>(
    pipe: Option<Pipe>,
    kind: OutputKind,
    output: mpsc::Sender<OutputChunk>,
) -> JoinHandle<()>
where
    Pipe: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let Some(mut pipe) = pipe else {
            return;
        };
        let mut buffer = vec![0_u8; 16 * 1024];
        loop {
            match pipe.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(length) => {
                    let bytes = Bytes::copy_from_slice(&buffer[..length]);
                    let _ = output.send(OutputChunk { kind, bytes }).await;
                }
            }
        }
    })
}

/// Lets the forwarders pass the last output; gives up after [`process_group::OUTPUT_GRACE`]
/// (a background process of the command may keep the pipes open).
async fn finish(forwarders: [JoinHandle<()>; 2]) {
    let aborts = forwarders.each_ref().map(JoinHandle::abort_handle);
    let joined = futures::future::join_all(forwarders);
    if tokio::time::timeout(process_group::OUTPUT_GRACE, joined)
        .await
        .is_err()
    {
        tracing::debug!("output still open after the command ended; no longer read");
        for abort in aborts {
            abort.abort();
        }
    }
}

/// Who may read a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// As the process's umask says (files 0666, directories 0777, less the umask).
    Default,
    /// The owner only: the file 0600, missing parent directories 0700.
    Private,
}

async fn upload(path: &str, content: ByteStream, access: Access) -> Result<u64, TransportError> {
    let written = write_file(Path::new(path), content, access)
        .await
        .map_err(|message| TransportError::Upload {
            target: TARGET.to_owned(),
            path: path.to_owned(),
            message,
        })?;
    tracing::debug!(path, bytes = written, ?access, "local file written");
    Ok(written)
}

async fn write_file(path: &Path, mut content: ByteStream, access: Access) -> Result<u64, String> {
    let (file_mode, dir_mode) = match access {
        Access::Default => (0o666, 0o777),
        Access::Private => (0o600, 0o700),
    };
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        tokio::fs::DirBuilder::new()
            .recursive(true)
            .mode(dir_mode)
            .create(parent)
            .await
            .map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
    }
    let part = PathBuf::from(part_path(&path.to_string_lossy()));
    let written = async {
        // A new file (never an existing one or a link), readable as `access` says from the start.
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(file_mode)
            .open(&part)
            .await
            .map_err(|error| format!("cannot create {}: {error}", part.display()))?;
        let mut written = 0_u64;
        while let Some(chunk) = content.next().await {
            let chunk = chunk.map_err(|error| format!("reading the content failed: {error}"))?;
            file.write_all(&chunk)
                .await
                .map_err(|error| format!("writing {} failed: {error}", part.display()))?;
            written += chunk.len() as u64;
        }
        file.sync_all()
            .await
            .map_err(|error| format!("writing {} failed: {error}", part.display()))?;
        Ok::<u64, String>(written)
    }
    .await;
    let renamed = match written {
        Ok(written) => tokio::fs::rename(&part, path)
            .await
            .map(|()| written)
            .map_err(|error| format!("cannot replace {}: {error}", path.display())),
        Err(message) => Err(message),
    };
    if renamed.is_err() {
        let _ = tokio::fs::remove_file(&part).await;
    }
    renamed
}
