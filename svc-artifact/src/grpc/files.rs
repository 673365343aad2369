//! Uploads and downloads of stored files: upload parts to upload items, bytes to chunks.

use std::pin::Pin;

use futures::{Stream, StreamExt, stream::BoxStream};
use proto::artifact::v1::{self as pb, upload_part::Part};
use tonic::{Status, Streaming};

use crate::service::{ArtifactError, UploadItem, records::FileRow};

use super::DownloadStream;

/// Bytes per download chunk.
const DOWNLOAD_CHUNK_BYTES: usize = 256 * 1024;

/// The bytes of a stored file, as the rules read them.
type FileBytes = BoxStream<'static, Result<bytes::Bytes, common::storage::StorageError>>;

/// The items of an upload, as the rules read them.
type ItemStream = Pin<Box<dyn Stream<Item = Result<UploadItem, ArtifactError>> + Send>>;

/// The parts of an upload after its kind, as upload items.
pub(super) fn upload_items(parts: Streaming<pb::UploadPart>) -> ItemStream {
    Box::pin(parts.filter_map(|part| async move {
        match part {
            Err(status) => Some(Err(ArtifactError::invalid(
                "upload",
                format!("stream broke: {}", status.message()),
            ))),
            Ok(pb::UploadPart { part: None }) => None,
            Ok(pb::UploadPart {
                part: Some(Part::Kind(_)),
            }) => Some(Err(ArtifactError::invalid(
                "upload",
                "names its kind twice",
            ))),
            Ok(pb::UploadPart {
                part: Some(Part::Field(field)),
            }) => Some(Ok(UploadItem::Field {
                name: field.name,
                value: field.value,
            })),
            Ok(pb::UploadPart {
                part: Some(Part::FileName(name)),
            }) => Some(Ok(UploadItem::FileStart { name })),
            Ok(pb::UploadPart {
                part: Some(Part::Data(data)),
            }) => Some(Ok(UploadItem::Data(data))),
        }
    }))
}

/// The kind an upload names in its first part (unspecified when it names none), and the parts
/// after it.
pub(super) async fn upload_kind(
    mut parts: Streaming<pb::UploadPart>,
) -> Result<(pb::UploadKind, Streaming<pb::UploadPart>), Status> {
    let kind = match parts.message().await? {
        Some(pb::UploadPart {
            part: Some(Part::Kind(kind)),
        }) => pb::UploadKind::try_from(kind).unwrap_or(pb::UploadKind::Unspecified),
        _ => pb::UploadKind::Unspecified,
    };
    Ok((kind, parts))
}

/// A stored file as a download: its row first, then its bytes in chunks of at most
/// [`DOWNLOAD_CHUNK_BYTES`].
pub(super) fn download_stream(file: FileRow, bytes: FileBytes) -> DownloadStream {
    let head = futures::stream::once(async move {
        Ok(pb::DownloadChunk {
            chunk: Some(pb::download_chunk::Chunk::Head(file.into())),
        })
    });
    let data = bytes.flat_map(|chunk| {
        let messages: Vec<Result<pb::DownloadChunk, Status>> = match chunk {
            Ok(bytes) => {
                let mut messages = Vec::new();
                let mut offset = 0;
                while offset < bytes.len() {
                    let end = (offset + DOWNLOAD_CHUNK_BYTES).min(bytes.len());
                    messages.push(Ok(pb::DownloadChunk {
                        chunk: Some(pb::download_chunk::Chunk::Data(bytes.slice(offset..end))),
                    }));
                    offset = end;
                }
                messages
            }
            Err(error) => vec![Err(Status::from(ArtifactError::from(error)))],
        };
        futures::stream::iter(messages)
    });
    Box::pin(head.chain(data))
}
