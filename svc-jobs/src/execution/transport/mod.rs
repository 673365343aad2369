//! The executor's transport port: how a host task reaches its target. Two adapters: SSH (russh,
//! the host's user and secret, host key pinned) and local (`use_tad_host`: the TAD host itself,
//! as the service's user). Both run every command in its own process group on the target so
//! that a stop or a timeout kills everything it started.

pub mod local;
mod process_group;
pub mod ssh;

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use tokio::sync::mpsc;

pub use local::LocalTransport;
pub use ssh::SshTransport;

/// Bytes to upload, read as they come (e.g. streamed from svc-artifact).
pub type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// Which stream a piece of output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    Stdout,
    Stderr,
}

/// A piece of a command's output, as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputChunk {
    pub kind: OutputKind,
    pub bytes: Bytes,
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// It exited with this code.
    Exited(i32),
    /// It was killed by a signal (e.g. by [`Transport::kill`]); the signal's name.
    Signalled(String),
    /// It did not end within the timeout; its process group was killed.
    TimedOut,
}

/// What went wrong reaching or using the target (not a command's own failure).
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("ssh connection to {target} failed: {message}")]
    Connect { target: String, message: String },
    #[error("ssh login to {target} refused for user {user:?}")]
    Authentication { target: String, user: String },
    #[error(
        "ssh host key of {target} changed: pinned {pinned}, presented {presented}; refusing to connect"
    )]
    HostKeyMismatch {
        target: String,
        pinned: String,
        presented: String,
    },
    #[error("ssh connection to {target} timed out after {seconds} s")]
    ConnectTimeout { target: String, seconds: u64 },
    #[error("upload to {path} on {target} failed: {message}")]
    Upload {
        target: String,
        path: String,
        message: String,
    },
    #[error("running a command on {target} failed: {message}")]
    Command { target: String, message: String },
}

/// One target host, reached for the length of one host task.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Where commands run, for log lines (`tadssh@127.0.0.2:2222`, `local`).
    fn describe(&self) -> String;

    /// Writes `content` to `path` on the target (parent directories created, the file replaced),
    /// answering the number of bytes written.
    async fn upload(&self, path: &str, content: ByteStream) -> Result<u64, TransportError>;

    /// Runs `command` with `bash -c` in a new process group (session) on the target, sending its
    /// stdout and stderr to `output` as they arrive. `key` names the process group so that
    /// [`Transport::kill`] can find it (unique per host task; `[a-z0-9-]` only). After `timeout`
    /// the process group is killed and the outcome is [`RunOutcome::TimedOut`].
    async fn run(
        &self,
        command: &str,
        key: &str,
        timeout: Duration,
        output: mpsc::Sender<OutputChunk>,
    ) -> Result<RunOutcome, TransportError>;

    /// Kills (SIGKILL) the whole process group started by [`Transport::run`] under `key`, if it
    /// still runs; the pending `run` then answers [`RunOutcome::Signalled`].
    async fn kill(&self, key: &str) -> Result<(), TransportError>;

    /// Ends the connection (a no-op for the local adapter).
    async fn close(&self);
}

/// Quotes `text` for a POSIX shell (single quotes; embedded quotes escaped).
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `<path>.tad-part`: where an upload goes before it replaces `path`.
fn part_path(path: &str) -> String {
    format!("{path}.tad-part")
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn shell_quote_survives_quotes_and_spaces() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
