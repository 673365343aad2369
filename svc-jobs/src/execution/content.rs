//! The files a step pushes, read once per step: the first host that needs a file downloads it
//! from svc-artifact into memory (files up to [`CACHE_LIMIT`]), every other host of the step
//! streams the same bytes. Larger files are streamed from svc-artifact for each host.

use std::{collections::HashMap, sync::Arc};

use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::{Mutex, OnceCell, Semaphore};

use super::transport::ByteStream;
use crate::{artifact::ArtifactDirectory, domain::JobsResult};

/// Largest file kept in memory for a step.
pub const CACHE_LIMIT: usize = 64 * 1024 * 1024;
/// Size of the pieces a cached file is sent in.
const PIECE: usize = 256 * 1024;

/// A file's bytes, or None when it was too large to keep.
type Cached = Option<Bytes>;

/// The files of one step.
#[derive(Clone)]
pub struct StepContent {
    artifact: ArtifactDirectory,
    token: String,
    files: Arc<Mutex<HashMap<String, Arc<OnceCell<Cached>>>>>,
    uploads: Arc<Semaphore>,
}

impl StepContent {
    /// The files of a step that sends at most `parallel_uploads` files at once (each SSH
    /// upload in flight holds about 0.7 MiB).
    pub fn new(artifact: ArtifactDirectory, token: String, parallel_uploads: usize) -> StepContent {
        StepContent {
            artifact,
            token,
            files: Arc::new(Mutex::new(HashMap::new())),
            uploads: Arc::new(Semaphore::new(parallel_uploads.max(1))),
        }
    }

    /// The bytes of a stored file.
    pub async fn stream(&self, file_id: &str) -> JobsResult<ByteStream> {
        let cell = {
            let mut files = self.files.lock().await;
            files.entry(file_id.to_owned()).or_default().clone()
        };
        let cached = cell
            .get_or_try_init(|| async { self.read_whole(file_id).await })
            .await?;
        match cached {
            Some(bytes) => Ok(pieces(bytes.clone())),
            None => self.artifact.download(&self.token, file_id).await,
        }
    }

    /// A turn to send a file; hold it for the length of the upload.
    pub async fn upload_turn(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.uploads.clone().acquire_owned().await.ok()
    }

    /// Reads a file into memory; None when it is larger than the limit.
    async fn read_whole(&self, file_id: &str) -> JobsResult<Cached> {
        self.artifact
            .read_whole(&self.token, file_id, CACHE_LIMIT as u64)
            .await
    }
}

/// The bytes as a stream of shared pieces (no copy).
fn pieces(bytes: Bytes) -> ByteStream {
    let count = bytes.len().div_ceil(PIECE);
    futures::stream::iter((0..count).map(move |index| {
        let start = index * PIECE;
        Ok(bytes.slice(start..(start + PIECE).min(bytes.len())))
    }))
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pieces_cover_the_bytes_in_order() {
        let bytes = Bytes::from((0..(PIECE * 2 + 10)).map(|i| i as u8).collect::<Vec<u8>>());
        let collected: Vec<Bytes> = pieces(bytes.clone())
            .map(|piece| piece.expect("piece"))
            .collect()
            .await;
        assert_eq!(collected.len(), 3);
        assert_eq!(collected.concat(), bytes.to_vec());
    }
}
