//! The executor's transport port: how a host task reaches its target. Two adapters: SSH (russh,
//! the host's user and secret, host key pinned) and local (`use_tad_host`: the TAD host itself,
//! as the service's user). Both run every command in its own process group on the target so
//! that a stop or a timeout kills everything it started.

pub mod local;
mod process_group;

pub(crate) use process_group::{FINAL_KEY_SUFFIX, final_mark_name};
pub mod ssh;

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::mpsc;

pub use local::LocalTransport;
pub use ssh::SshTransport;

/// Bytes to upload, read as they come (e.g. streamed from svc-artifact).
pub use crate::domain::ByteStream;

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

/// What [`Transport::kill`] found under a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaped {
    /// Nothing ran under the key.
    Nothing,
    /// A live process group, now killed and gone.
    Killed,
    /// A live process group, left running (only [`Transport::probe`] answers this).
    Running,
    /// No live group, but the final command under the key (see
    /// `process_group::FINAL_KEY_SUFFIX`) had ended on its own with this exit code.
    Finished(i32),
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
    /// answering the number of bytes written. The bytes go to a temporary file of a unique name
    /// in the same directory (see [`part_path`]), renamed over `path` once complete, so that
    /// several writers of one path (hosts sharing an NFS directory) each replace it whole.
    async fn upload(&self, path: &str, content: ByteStream) -> Result<u64, TransportError>;

    /// Like [`Transport::upload`] for a file holding secrets: the file is created with mode 0600
    /// from its first byte (never readable by others, not even while written) and missing parent
    /// directories with mode 0700.
    async fn upload_private(&self, path: &str, content: ByteStream) -> Result<u64, TransportError>;

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
    /// still runs, and waits a few seconds at most until it is gone; the pending `run` then
    /// answers [`RunOutcome::Signalled`]. Works for a key this transport never ran too (what an
    /// earlier attempt, from a replica since killed, left running). Answers what it found.
    async fn kill(&self, key: &str) -> Result<Reaped, TransportError>;

    /// Looks at what runs under `key` without touching it: [`Reaped::Running`] while its process
    /// group lives, else what [`Transport::kill`] would answer (the exit status mark of a final
    /// command that ended on its own, or nothing).
    async fn probe(&self, key: &str) -> Result<Reaped, TransportError>;

    /// Ends the connection (a no-op for the local adapter).
    async fn close(&self);
}

/// `<dir>/.<name>.tad-part.<random>`: where one upload of `path` goes before it is renamed over
/// `path`. Unique per attempt, so that two writers of one path never share it; in the same
/// directory, so that the rename is atomic; hidden, so that a directory listing shows only
/// complete files.
pub fn part_path(path: &str) -> String {
    let (dir, name) = match path.rsplit_once('/') {
        Some((dir, name)) => (format!("{dir}/"), name),
        None => (String::new(), path),
    };
    let id = common::ids::new_id();
    // The random tail of a uuid v7 (the head is its time).
    let random = &id[id.len() - 16..];
    format!("{dir}{}{random}", part_prefix(name))
}

/// `.<name>.tad-part.`: how the temporary files of uploads of `name` begin.
pub fn part_prefix(name: &str) -> String {
    format!(".{name}.tad-part.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_paths_are_unique_hidden_siblings() {
        let first = part_path("/opt/app/shop.tar.gz");
        let second = part_path("/opt/app/shop.tar.gz");
        assert_ne!(first, second);
        for part in [&first, &second] {
            assert!(
                part.starts_with("/opt/app/.shop.tar.gz.tad-part.") && part.len() == 47,
                "{part}"
            );
        }
        assert!(part_path("a.txt").starts_with(".a.txt.tad-part."));
        assert!(part_path("/a.txt").starts_with("/.a.txt.tad-part."));
    }
}
