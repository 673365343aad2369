//! Files between the engine and a host: downloads from svc-artifact, uploads (one at a time per
//! step content, stoppable; secret files private and remembered for removal), and the md5 of a
//! file on the host (to verify a push, and to skip pushing a file the host already holds).

use std::time::Duration;

use tokio::sync::mpsc;

use super::{Early, HostOutcome, HostWork, stopped, text_stream};
use crate::execution::{
    shell::CommandLine,
    transport::{ByteStream, OutputKind, RunOutcome, Transport},
};

impl HostWork<'_> {
    /// Writes a file holding secrets (0600, in a 0700 directory); it is removed when the work
    /// ends, even when this upload is cut short.
    pub(super) async fn write_secret_file(
        &mut self,
        transport: &dyn Transport,
        path: &str,
        text: String,
    ) -> Result<(), Early> {
        self.secret_files.push(path.to_owned());
        self.upload_as(transport, path, text_stream(text), true)
            .await
    }

    pub(super) async fn download(&self, file_id: &str) -> Result<ByteStream, Early> {
        self.content.stream(file_id).await.map_err(|error| {
            HostOutcome::Failed(format!(
                "cannot read file {file_id} from svc-artifact: {error}"
            ))
        })
    }

    pub(super) async fn upload(
        &mut self,
        transport: &dyn Transport,
        path: &str,
        content: ByteStream,
    ) -> Result<(), Early> {
        self.upload_as(transport, path, content, false).await
    }

    /// Uploads `content` to `path`, as a private (0600) file when `private`.
    async fn upload_as(
        &mut self,
        transport: &dyn Transport,
        path: &str,
        content: ByteStream,
        private: bool,
    ) -> Result<(), Early> {
        let mut stop = self.stop.clone();
        let _turn = tokio::select! {
            turn = self.content.upload_turn() => turn,
            _ = stopped(&mut stop) => return Err(HostOutcome::Stopped),
        };
        self.while_held().await;
        let writing = async {
            if private {
                transport.upload_private(path, content).await
            } else {
                transport.upload(path, content).await
            }
        };
        tokio::select! {
            written = writing => match written {
                Ok(bytes) => {
                    self.log.line(format!("    wrote {bytes} bytes to {path}")).await;
                    Ok(())
                }
                Err(error) => Err(HostOutcome::Failed(error.to_string())),
            },
            _ = stopped(&mut stop) => Err(HostOutcome::Stopped),
        }
    }

    /// The md5 of the file at `path` on the host; `None` when there is no readable file there
    /// (`md5sum` exits non-zero); a lost connection or a timeout fails the task.
    pub(super) async fn md5_on_host(
        &mut self,
        transport: &dyn Transport,
        path: &str,
    ) -> Result<Option<String>, Early> {
        let (sender, mut receiver) = mpsc::channel(64);
        let outcome = transport
            .run(
                CommandLine::new("md5sum --").word(path).as_str(),
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
            Ok(RunOutcome::Exited(0)) => Ok(Some(found)),
            Ok(RunOutcome::Exited(_)) => Ok(None),
            Ok(other) => Err(HostOutcome::Failed(format!(
                "cannot compute the md5 of {path} on the host: {other:?}"
            ))),
            Err(error) => Err(HostOutcome::Failed(error.to_string())),
        }
    }

    pub(super) async fn check_md5(
        &mut self,
        transport: &dyn Transport,
        path: &str,
        expected: &str,
    ) -> Result<(), Early> {
        match self.md5_on_host(transport, path).await? {
            Some(found) if found == expected.to_lowercase() => {
                self.log.line(format!("    md5 {found} verified")).await;
                Ok(())
            }
            Some(found) => Err(HostOutcome::Failed(format!(
                "md5 of {path} on the host is {found}, expected {expected}"
            ))),
            None => Err(HostOutcome::Failed(format!(
                "cannot compute the md5 of {path} on the host: md5sum failed"
            ))),
        }
    }
}
