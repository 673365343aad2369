//! Stored files: uploads, downloads, their rows and origins: proto ⇄ rules.

use super::{
    Actor, ArtifactError, ArtifactGrpc, DOWNLOAD_CHUNK_BYTES, DownloadStream, ErrorReason, Part,
    Pin, Status, Stream, StreamExt, Streaming, UploadItem, UploadKind, UploadOutcome,
    file_to_proto, pb,
};

fn outcome_to_proto(kind: pb::UploadKind, outcome: UploadOutcome) -> pb::UploadResponse {
    pb::UploadResponse {
        kind: kind as i32,
        files: outcome.files.into_iter().map(file_to_proto).collect(),
        version_id: outcome.version_id,
        unpacked: outcome.unpacked.into_iter().map(file_to_proto).collect(),
        templates: outcome.templates.into_iter().map(file_to_proto).collect(),
    }
}

type ItemStream = Pin<Box<dyn Stream<Item = Result<UploadItem, ArtifactError>> + Send>>;

fn upload_items(parts: Streaming<pb::UploadPart>) -> ItemStream {
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

impl ArtifactGrpc {
    pub(super) async fn upload(
        &self,
        actor: Actor,
        mut parts: Streaming<pb::UploadPart>,
    ) -> Result<pb::UploadResponse, Status> {
        let kind = match parts.message().await? {
            Some(pb::UploadPart {
                part: Some(Part::Kind(kind)),
            }) => pb::UploadKind::try_from(kind).unwrap_or(pb::UploadKind::Unspecified),
            _ => pb::UploadKind::Unspecified,
        };
        let items = upload_items(parts);
        let stored_as = match kind {
            pb::UploadKind::PackageSync => UploadKind::PackageSync,
            pb::UploadKind::Script => UploadKind::Script,
            pb::UploadKind::Configure => UploadKind::Configure,
            pb::UploadKind::Component => UploadKind::Component,
            pb::UploadKind::Unspecified => {
                return Err(ErrorReason::InvalidField
                    .status("an upload must start with its kind".to_owned()));
            }
        };
        let outcome = self.service.upload(&actor, stored_as, items).await?;
        Ok(outcome_to_proto(kind, outcome))
    }

    pub(super) async fn download(
        &self,
        actor: Actor,
        body: pb::DownloadRequest,
    ) -> Result<DownloadStream, Status> {
        let range = body.has_range.then_some((body.start, body.end));
        let (file, bytes) = self.service.download(&actor, &body.id, range).await?;
        let head = futures::stream::once(async move {
            Ok(pb::DownloadChunk {
                chunk: Some(pb::download_chunk::Chunk::Head(file_to_proto(file))),
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
        Ok(Box::pin(head.chain(data)))
    }

    pub(super) async fn get_file(
        &self,
        actor: Actor,
        body: pb::FileRequest,
    ) -> Result<pb::StoredFile, Status> {
        let row = self.service.file(&actor, &body.id).await?;
        Ok(file_to_proto(row))
    }

    pub(super) async fn file_origin(
        &self,
        actor: Actor,
        body: pb::FileRequest,
    ) -> Result<pb::FileOriginResponse, Status> {
        let (file, origin) = self.service.file_origin(&actor, &body.id).await?;
        Ok(match origin {
            Some((version, artifact)) => pb::FileOriginResponse {
                file: Some(file_to_proto(file)),
                artifact_id: Some(artifact.id),
                artifact_name: Some(artifact.name),
                version: Some(version.version),
                kind: Some(artifact.kind),
            },
            None => pb::FileOriginResponse {
                file: Some(file_to_proto(file)),
                ..pb::FileOriginResponse::default()
            },
        })
    }
}
