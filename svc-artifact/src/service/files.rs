//! Stored files: metadata and streaming downloads, whole or by byte range.

use bytes::Bytes;
use futures::stream::BoxStream;

use super::{Actor, ArtifactError, ArtifactResult, ArtifactService, RecordKind, require_reader};
use crate::db::models::{
    artifacts,
    files::{self, FileRow},
};

impl ArtifactService {
    /// One stored file.
    pub async fn file(&self, actor: &Actor, id: &str) -> ArtifactResult<FileRow> {
        require_reader(actor)?;
        let owned = id.to_owned();
        self.database
            .run(move |connection| files::find(connection, &owned).map_err(ArtifactError::from))
            .await?
            .ok_or_else(|| ArtifactError::not_found(RecordKind::File, id))
    }

    /// One stored file with the artifact version it belongs to (none for scripts and methods).
    pub async fn file_origin(
        &self,
        actor: &Actor,
        id: &str,
    ) -> ArtifactResult<(
        FileRow,
        Option<(artifacts::VersionRow, artifacts::ArtifactRow)>,
    )> {
        let file = self.file(actor, id).await?;
        let version_id = file.version_id.clone();
        let origin = self
            .database
            .run(move |connection| {
                artifacts::version_with_artifact(connection, &version_id)
                    .map_err(ArtifactError::from)
            })
            .await?;
        Ok((file, origin))
    }

    /// A stored file and a stream of its bytes, whole or `[start, end)`.
    pub async fn download(
        &self,
        actor: &Actor,
        id: &str,
        range: Option<(u64, u64)>,
    ) -> ArtifactResult<(
        FileRow,
        BoxStream<'static, Result<Bytes, common::storage::StorageError>>,
    )> {
        let file = self.file(actor, id).await?;
        let size = u64::try_from(file.size).unwrap_or(0);
        let range = match range {
            Some((start, end)) => {
                let end = end.min(size);
                if start >= end {
                    return Err(ArtifactError::Range {
                        id: id.to_owned(),
                        start,
                        end,
                        size,
                    });
                }
                Some(start..end)
            }
            None => None,
        };
        if size == 0 {
            return Ok((file, Box::pin(futures::stream::empty())));
        }
        let stream = self.storage.read(&file.object_key, range).await?;
        Ok((file, stream))
    }
}
