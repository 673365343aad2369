//! The SSH transport adapter (russh): one authenticated connection per target, the host key
//! pinned; every `run`, `upload` and `kill` opens its own session channel on it, so a kill goes
//! through while a run is pending (a large upload gets a short-lived connection of its own, see
//! [`OWN_CONNECTION_FROM`]). Commands run in their own process group on the target (see
//! [`super::process_group`]). Secrets never reach an error or a log line.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use common::ssh::{SessionError, SshAuth, SshSession, SshTarget};
use futures::StreamExt;
use russh::{Channel, ChannelMsg, ChannelReadHalf, ChannelWriteHalf, Sig, client};
use tokio::{sync::mpsc, time::Instant};

use super::{
    ByteStream, OutputChunk, OutputKind, Reaped, RunOutcome, Transport, TransportError, part_path,
    process_group::{self, Ending, KillMode, PendingRuns},
};
use crate::execution::shell::CommandLine;

/// At most this much of a helper command's stdout (its answer) and of its stderr (into an error
/// message) is kept.
const HELPER_OUTPUT_LIMIT: usize = 2048;

/// Uploads whose first piece is at least this large go over a connection of their own, closed
/// when the file is written. russh encrypts every message queued on a connection (up to about a
/// dozen 32 KiB packets) into one write buffer before it writes to the socket, and that buffer
/// keeps its size (about 512 KiB) until the connection closes; the host's main connection stays
/// open for the commands after the upload (md5 check, scripts), so at hundreds of hosts those
/// buffers were most of the process's memory. A connection per large upload bounds them by the
/// uploads in flight; small files (params, configs, scripts) keep using the main connection.
/// (Sending smaller pieces keeps the buffer small too, but made a 200-host step 1.5 times slower
/// with 16 KiB pieces and 2.4 times with 8 KiB: sshd then spends its time per packet.)
const OWN_CONNECTION_FROM: usize = 64 * 1024;

/// One SSH connection to a target host.
pub struct SshTransport {
    session: SshSession,
    target: SshTarget,
    /// Kept for the connections of large uploads, which must present the same host key.
    auth: SshAuth,
    fingerprint: String,
    runs: PendingRuns,
    /// Bounds connecting, opening a channel and the helper commands (kill, rename).
    timeout: Duration,
}

/// What one wait on a run's channel brought.
enum Event {
    Message(Option<ChannelMsg>),
    /// The run's timeout passed.
    Deadline,
    /// The output grace after the command ended passed.
    GraceOver,
}

impl SshTransport {
    /// Connects to `target` and logs in with `auth` within `timeout`, refusing any host key but
    /// `pinned_fingerprint` (`SHA256:...`) when one is given. Answers the transport and the
    /// fingerprint the server presented (to pin on first use).
    pub async fn connect(
        target: SshTarget,
        auth: SshAuth,
        pinned_fingerprint: Option<&str>,
        timeout: Duration,
    ) -> Result<(SshTransport, String), TransportError> {
        let described = describe(&target);
        let (session, fingerprint) = common::ssh::open_session(
            &target,
            &auth,
            pinned_fingerprint,
            timeout,
        )
        .await
        .map_err(|error| match error {
            SessionError::AuthenticationFailed => TransportError::Authentication {
                target: described.clone(),
                user: target.user.clone(),
            },
            SessionError::HostKeyMismatch { pinned, presented } => {
                tracing::warn!(host = %described, %pinned, %presented, "ssh host key changed");
                TransportError::HostKeyMismatch {
                    target: described.clone(),
                    pinned,
                    presented,
                }
            }
            SessionError::Unreachable(message) => TransportError::Connect {
                target: described.clone(),
                message,
            },
            SessionError::TimedOut => TransportError::ConnectTimeout {
                target: described.clone(),
                seconds: timeout.as_secs_f64().ceil() as u64,
            },
        })?;
        tracing::debug!(host = %described, %fingerprint, "ssh transport connected");
        let transport = SshTransport {
            session,
            target,
            auth,
            fingerprint: fingerprint.clone(),
            runs: PendingRuns::default(),
            timeout,
        };
        Ok((transport, fingerprint))
    }

    fn command_error(&self, message: String) -> TransportError {
        TransportError::Command {
            target: self.describe(),
            message,
        }
    }

    async fn open_channel(&self) -> Result<Channel<client::Msg>, String> {
        self.open_channel_on(&self.session).await
    }

    async fn open_channel_on(&self, session: &SshSession) -> Result<Channel<client::Msg>, String> {
        match tokio::time::timeout(self.timeout, session.channel_open_session()).await {
            Err(_) => Err(format!(
                "opening an ssh channel timed out after {} s",
                self.timeout.as_secs()
            )),
            Ok(Err(error)) => Err(format!("opening an ssh channel failed: {error}")),
            Ok(Ok(channel)) => Ok(channel),
        }
    }

    /// Runs a helper `command` with no input within the transport's timeout; fails unless it
    /// exits with 0.
    /// Runs a short command of TAD's own on the target and answers what it printed on stdout
    /// (the first few KiB).
    async fn run_helper(&self, command: &str) -> Result<Vec<u8>, String> {
        let (mut reader, writer) = self.open_channel().await?.split();
        writer
            .exec(true, command)
            .await
            .map_err(|error| format!("starting the command failed: {error}"))?;
        let _ = writer.eof().await;
        let mut end = HelperEnd::default();
        let finished = tokio::time::timeout(self.timeout, end.wait(&mut reader))
            .await
            .map_err(|_| format!("no answer within {} s", self.timeout.as_secs()))?;
        let _ = writer.close().await;
        finished
    }

    async fn kill_group(&self, key: &str, mode: KillMode) -> Result<Reaped, TransportError> {
        let line = process_group::command_line(&process_group::kill_invocation(key, mode));
        let stdout = self.run_helper(&line).await.map_err(|message| {
            self.command_error(format!(
                "killing the command under key {key} failed: {message}"
            ))
        })?;
        let reaped = process_group::reaped(&stdout);
        tracing::debug!(host = %self.describe(), key, ?reaped, "remote process group killed");
        Ok(reaped)
    }

    /// Streams `content` into `cat > <part>`, over a connection of its own when the content is
    /// large (see [`OWN_CONNECTION_FROM`]); answers the number of bytes sent.
    async fn send_part(
        &self,
        path: &str,
        part: &str,
        mut content: ByteStream,
        access: Access,
    ) -> Result<u64, String> {
        let first = match content.next().await {
            Some(first) => first.map_err(|error| format!("reading the content failed: {error}"))?,
            None => Bytes::new(),
        };
        let large = first.len() >= OWN_CONNECTION_FROM;
        let content = futures::stream::once(async move { Ok(first) })
            .chain(content)
            .boxed();
        if !large {
            return self
                .send_part_on(&self.session, path, part, content, access)
                .await;
        }
        let (session, _) = common::ssh::open_session(
            &self.target,
            &self.auth,
            Some(&self.fingerprint),
            self.timeout,
        )
        .await
        .map_err(|error| format!("opening the upload connection failed: {error}"))?;
        let sent = self
            .send_part_on(&session, path, part, content, access)
            .await;
        common::ssh::disconnect(&session).await;
        sent
    }

    async fn send_part_on(
        &self,
        session: &SshSession,
        path: &str,
        part: &str,
        content: ByteStream,
        access: Access,
    ) -> Result<u64, String> {
        // `set -C`: the part file must be new (never an existing file or a link to one).
        let mut command = match access {
            Access::Default => CommandLine::new("set -C &&"),
            Access::Private => CommandLine::new("set -C && umask 077 &&"),
        };
        if let Some(parent) = std::path::Path::new(path)
            .parent()
            .and_then(|parent| parent.to_str())
            .filter(|parent| !parent.is_empty())
        {
            command = command.text("mkdir -p --").word(parent).text("&&");
        }
        let command = command.text("cat >").word(part);
        let (mut reader, writer) = self.open_channel_on(session).await?.split();
        writer
            .exec(true, command.as_str())
            .await
            .map_err(|error| format!("starting the upload failed: {error}"))?;
        // The command may end before it read everything (mkdir or cat failed, the disk is
        // full): then no window opens again and sending would wait for ever, so the channel's
        // end is watched while sending.
        let mut end = HelperEnd::default();
        let sent = tokio::select! {
            sent = send_all(&writer, content) => sent,
            ended = end.wait(&mut reader) => {
                let _ = writer.close().await;
                return Err(match ended {
                    Ok(_) => "the target ended the upload before it got every byte".to_owned(),
                    Err(remote) => format!("the target refused the upload: {remote}"),
                });
            }
        };
        if let Err(message) = sent {
            // The command may have failed first; its own words say more.
            let remote = tokio::time::timeout(Duration::from_secs(1), end.wait(&mut reader)).await;
            let _ = writer.close().await;
            return Err(match remote {
                Ok(Err(remote)) => format!("{message}; the target said: {remote}"),
                _ => message,
            });
        }
        writer
            .eof()
            .await
            .map_err(|error| format!("ending the upload failed: {error}"))?;
        let finished = end.wait(&mut reader).await;
        let _ = writer.close().await;
        finished.and(sent)
    }
    /// Uploads `content` to a part file of a unique name beside `path` (see [`part_path`]),
    /// then checks its size and renames it over `path` (atomic: same directory).
    async fn upload_as(
        &self,
        path: &str,
        content: ByteStream,
        access: Access,
    ) -> Result<u64, TransportError> {
        let upload_error = |message: String| TransportError::Upload {
            target: self.describe(),
            path: path.to_owned(),
            message,
        };
        let part = part_path(path);
        let sent = match self.send_part(path, &part, content, access).await {
            Ok(sent) => sent,
            Err(message) => {
                let remove = CommandLine::new("rm -f --").word(&part);
                let _ = self.run_helper(remove.as_str()).await;
                return Err(upload_error(message));
            }
        };
        let replace = CommandLine::new("test \"$(wc -c <")
            .word(&part)
            .text(")\" -eq")
            .word(sent.to_string())
            .text("&& mv -f --")
            .word(&part)
            .word(path)
            .text("|| { rm -f --")
            .word(&part)
            .text("; exit 1; }");
        self.run_helper(replace.as_str()).await.map_err(|message| {
            upload_error(format!(
                "checking the size ({sent} bytes) and replacing the file failed: {message}"
            ))
        })?;
        tracing::debug!(host = %self.describe(), path, bytes = sent, ?access, "file uploaded");
        Ok(sent)
    }
}

/// Who may read an uploaded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// As the remote user's umask says.
    Default,
    /// The owner only: the file 0600, missing parent directories 0700 (`umask 077`).
    Private,
}

fn describe(target: &SshTarget) -> String {
    format!("{}@{}:{}", target.user, target.host, target.port)
}

async fn send_all(
    channel: &ChannelWriteHalf<client::Msg>,
    mut content: ByteStream,
) -> Result<u64, String> {
    let mut sent = 0_u64;
    while let Some(chunk) = content.next().await {
        let chunk = chunk.map_err(|error| format!("reading the content failed: {error}"))?;
        let length = chunk.len() as u64;
        channel
            .data_bytes(chunk)
            .await
            .map_err(|error| format!("sending the content failed: {error}"))?;
        sent += length;
    }
    Ok(sent)
}

/// What the channel of a helper command (or upload) said so far: kept across waits, so that a
/// wait cut short (see [`SshTransport::send_part_on`]) loses nothing.
#[derive(Default)]
struct HelperEnd {
    status: Option<u32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl HelperEnd {
    /// Waits for the end of the command; fails with its stderr unless it exits with 0.
    /// Cancel-safe: every message read is noted before the next wait.
    async fn wait(&mut self, reader: &mut ChannelReadHalf) -> Result<Vec<u8>, String> {
        while let Some(message) = reader.wait().await {
            match message {
                ChannelMsg::Data { data } => {
                    let room = HELPER_OUTPUT_LIMIT.saturating_sub(self.stdout.len());
                    self.stdout.extend_from_slice(&data[..data.len().min(room)]);
                }
                ChannelMsg::ExtendedData { data, ext: 1 } => {
                    let room = HELPER_OUTPUT_LIMIT.saturating_sub(self.stderr.len());
                    self.stderr.extend_from_slice(&data[..data.len().min(room)]);
                }
                ChannelMsg::ExitStatus { exit_status } => self.status = Some(exit_status),
                ChannelMsg::ExitSignal { signal_name, .. } => {
                    return Err(format!("killed by signal {}", sig_name(&signal_name)));
                }
                ChannelMsg::Failure if self.status.is_none() => {
                    return Err("the server refused to run the command".to_owned());
                }
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        let stderr = String::from_utf8_lossy(&self.stderr).trim().to_owned();
        match self.status {
            Some(0) => Ok(std::mem::take(&mut self.stdout)),
            Some(code) => Err(format!("exit status {code}: {stderr}")),
            None => Err(format!("ended without an exit status: {stderr}")),
        }
    }
}

fn sig_name(signal: &Sig) -> String {
    let name = match signal {
        Sig::ABRT => "ABRT",
        Sig::ALRM => "ALRM",
        Sig::FPE => "FPE",
        Sig::HUP => "HUP",
        Sig::ILL => "ILL",
        Sig::INT => "INT",
        Sig::KILL => "KILL",
        Sig::PIPE => "PIPE",
        Sig::QUIT => "QUIT",
        Sig::SEGV => "SEGV",
        Sig::TERM => "TERM",
        Sig::USR1 => "USR1",
        Sig::Custom(name) => name,
    };
    name.to_owned()
}

#[async_trait]
impl Transport for SshTransport {
    fn describe(&self) -> String {
        describe(&self.target)
    }

    async fn upload(&self, path: &str, content: ByteStream) -> Result<u64, TransportError> {
        self.upload_as(path, content, Access::Default).await
    }

    async fn upload_private(&self, path: &str, content: ByteStream) -> Result<u64, TransportError> {
        self.upload_as(path, content, Access::Private).await
    }

    async fn run(
        &self,
        command: &str,
        key: &str,
        timeout: Duration,
        output: mpsc::Sender<OutputChunk>,
    ) -> Result<RunOutcome, TransportError> {
        process_group::check_key(key).map_err(|message| self.command_error(message))?;
        let run = self
            .runs
            .begin(key)
            .map_err(|message| self.command_error(message))?;
        let deadline = Instant::now() + timeout;
        let line = process_group::command_line(&process_group::run_invocation(key, command));
        let mut channel = self
            .open_channel()
            .await
            .map_err(|message| self.command_error(message))?;
        channel
            .exec(true, line)
            .await
            .map_err(|error| self.command_error(format!("starting the command failed: {error}")))?;
        let _ = channel.eof().await;
        tracing::debug!(host = %self.describe(), key, "remote command started");
        let mut ending = None;
        let mut grace_until = None;
        loop {
            let event = tokio::select! {
                message = channel.wait() => Event::Message(message),
                () = tokio::time::sleep_until(deadline), if grace_until.is_none() => Event::Deadline,
                () = tokio::time::sleep_until(grace_until.unwrap_or(deadline)), if grace_until.is_some() => Event::GraceOver,
            };
            let message = match event {
                Event::Message(message) => message,
                Event::GraceOver => break,
                Event::Deadline => {
                    self.runs.mark_killed(key);
                    self.kill_group(key, KillMode::Mark).await?;
                    let _ = channel.close().await;
                    tracing::info!(host = %self.describe(), key, seconds = timeout.as_secs(), "remote command timed out");
                    return Ok(RunOutcome::TimedOut);
                }
            };
            match message {
                Some(ChannelMsg::Data { data }) => {
                    let chunk = OutputChunk {
                        kind: OutputKind::Stdout,
                        bytes: data,
                    };
                    let _ = output.send(chunk).await;
                }
                Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                    let chunk = OutputChunk {
                        kind: OutputKind::Stderr,
                        bytes: data,
                    };
                    let _ = output.send(chunk).await;
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => {
                    ending = Some(Ending::Exited(exit_status as i32));
                    grace_until = Some(Instant::now() + process_group::OUTPUT_GRACE);
                }
                Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                    ending = Some(Ending::Signalled(sig_name(&signal_name)));
                    grace_until = Some(Instant::now() + process_group::OUTPUT_GRACE);
                }
                Some(ChannelMsg::Failure) if ending.is_none() => {
                    return Err(self.command_error(
                        "the server refused to run the command (too many sessions?)".to_owned(),
                    ));
                }
                Some(ChannelMsg::Close) | None => break,
                Some(_) => {}
            }
        }
        let _ = channel.close().await;
        process_group::outcome(ending.unwrap_or(Ending::Lost), run.killed()).ok_or_else(|| {
            self.command_error(
                "the command ended without an exit status (connection lost?)".to_owned(),
            )
        })
    }

    async fn kill(&self, key: &str) -> Result<Reaped, TransportError> {
        process_group::check_key(key).map_err(|message| self.command_error(message))?;
        self.kill_group(key, self.runs.kill_mode(key)).await
    }

    async fn probe(&self, key: &str) -> Result<Reaped, TransportError> {
        process_group::check_key(key).map_err(|message| self.command_error(message))?;
        self.kill_group(key, KillMode::Probe).await
    }

    async fn close(&self) {
        common::ssh::disconnect(&self.session).await;
        tracing::debug!(host = %self.describe(), "ssh transport closed");
    }
}
