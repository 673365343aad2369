//! Inbound gRPC adapter of svc-artifact: verifies the caller's token, translates proto ⇄ domain
//! (upload parts to upload items, rows to messages), and maps rule failures to statuses with a
//! stable reason. Nothing else.

use std::pin::Pin;

use common::{auth::AUTHORIZATION, time::to_unix_ms};
use futures::{Stream, StreamExt};
use proto::{
    ErrorReason,
    artifact::v1::{
        self as pb, artifact_service_server::ArtifactService as ArtifactApi, upload_part::Part,
    },
};
use tonic::{Request, Response, Status, Streaming};

use crate::{
    db::models::{files::FileRow, scripts::ScriptRow},
    service::{
        Actor, ArtifactError, ArtifactService, RecordKind, UploadItem, UploadOutcome,
        components::MethodListing, schema::SchemaNode, scripts::ABLE,
    },
};

/// Bytes per download chunk.
const DOWNLOAD_CHUNK_BYTES: usize = 256 * 1024;

/// The tonic service over the artifact rules.
#[derive(Clone)]
pub struct ArtifactGrpc {
    service: ArtifactService,
}

impl ArtifactGrpc {
    pub fn new(service: ArtifactService) -> ArtifactGrpc {
        ArtifactGrpc { service }
    }

    /// The verified caller, with its token (forwarded to the resource service).
    /// The verified caller: signature, expiry, and (user tokens) an active session. The header
    /// is read now, so the future holds nothing of the request.
    fn caller<T>(
        &self,
        request: &Request<T>,
    ) -> impl std::future::Future<Output = Result<Actor, Status>> + Send + 'static {
        let header = request
            .metadata()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let jwt = self.service.jwt().clone();
        async move {
            jwt.authenticate(header.as_deref()).await.map_err(|error| {
                let reason = if error.is_unavailable() {
                    ErrorReason::ServiceUnavailable
                } else {
                    ErrorReason::Unauthorized
                };
                reason.status(error.to_string())
            })
        }
    }
}

impl From<ArtifactError> for Status {
    fn from(error: ArtifactError) -> Status {
        if let ArtifactError::Upstream(status) = error {
            return status;
        }
        let message = error.to_string();
        let reason = match &error {
            ArtifactError::Missing { .. } => ErrorReason::MissingField,
            ArtifactError::Invalid { .. } => ErrorReason::InvalidField,
            ArtifactError::NotFound { kind, .. } => match kind {
                RecordKind::File => ErrorReason::FileNotFound,
                RecordKind::Script => ErrorReason::ScriptNotFound,
                RecordKind::Method => ErrorReason::MethodNotFound,
                RecordKind::Template => ErrorReason::TemplateNotFound,
                RecordKind::Application => ErrorReason::ApplicationNotFound,
            },
            ArtifactError::Md5Mismatch { .. } => ErrorReason::Md5Mismatch,
            ArtifactError::ArchiveRejected { .. } => ErrorReason::ArchiveRejected,
            ArtifactError::InvalidSchema { .. } => ErrorReason::InvalidSchema,
            ArtifactError::InvalidValues { .. } => ErrorReason::InvalidValues,
            ArtifactError::RenderFailed { .. } => ErrorReason::RenderFailed,
            ArtifactError::BinaryFile { .. } => ErrorReason::BinaryFile,
            ArtifactError::TooLarge { .. } => ErrorReason::PayloadTooLarge,
            ArtifactError::Range { .. } => ErrorReason::RangeNotSatisfiable,
            ArtifactError::Forbidden(_) => ErrorReason::Forbidden,
            ArtifactError::SelfReview(_) => ErrorReason::SelfReview,
            ArtifactError::Unauthenticated(_) => ErrorReason::Unauthorized,
            ArtifactError::Storage(common::storage::StorageError::NotFound { .. }) => {
                tracing::error!(error = %message, "stored object missing");
                ErrorReason::InternalError
            }
            ArtifactError::Database(_)
            | ArtifactError::Storage(_)
            | ArtifactError::Io(_)
            | ArtifactError::Upstream(_) => {
                tracing::error!(error = %message, "artifact request failed");
                ErrorReason::InternalError
            }
        };
        reason.status(message)
    }
}

/// A stored file as the API shows it.
pub fn file_to_proto(row: FileRow) -> pb::StoredFile {
    pb::StoredFile {
        id: row.id,
        name: row.name,
        path: row.path,
        size: u64::try_from(row.size).unwrap_or(0),
        md5: row.md5,
        sha256: row.sha256,
        version_id: row.version_id,
        creator: row.creator,
        create_time_ms: to_unix_ms(row.create_time),
    }
}

fn script_to_proto(row: ScriptRow, files: Vec<FileRow>) -> pb::ScriptVersion {
    pb::ScriptVersion {
        id: row.id,
        name: row.name,
        app_id: row.app_id,
        uploader: row.uploader,
        status: row.status,
        reviewer: row.reviewer,
        create_time_ms: to_unix_ms(row.create_time),
        files: files.into_iter().map(file_to_proto).collect(),
    }
}

fn node_to_proto(node: SchemaNode) -> pb::ConfigNode {
    pb::ConfigNode {
        id: node.id,
        key: node.key,
        r#type: node.node_type.as_str().to_owned(),
        remark: node.remark,
        default: node.default,
        require: node.require,
        rule: node.rule,
        policy: node.policy,
        parent_id: node.parent_id,
        children: node.children.into_iter().map(node_to_proto).collect(),
    }
}

fn method_to_proto(listing: MethodListing) -> pb::Method {
    let builtin = listing.method.builtin;
    let has_params = !listing.params.is_empty();
    let (file_id, version_id, entrypoint, timeout_s) = match listing.version {
        Some(version) => (
            version.file_id,
            version.id,
            version.entrypoint,
            u32::try_from(version.timeout_s).unwrap_or(0),
        ),
        None => Default::default(),
    };
    pb::Method {
        id: listing.method.id,
        name: listing.method.name,
        remark: listing.method.remark,
        file_id,
        version_id,
        entrypoint,
        timeout_s,
        is_display_script: builtin,
        params: listing.params.into_iter().map(node_to_proto).collect(),
        has_params,
    }
}

fn outcome_to_proto(kind: pb::UploadKind, outcome: UploadOutcome) -> pb::UploadResponse {
    pb::UploadResponse {
        kind: kind as i32,
        files: outcome.files.into_iter().map(file_to_proto).collect(),
        version_id: outcome.version_id,
        unpacked: outcome.unpacked.into_iter().map(file_to_proto).collect(),
        templates: outcome.templates.into_iter().map(file_to_proto).collect(),
    }
}

fn values_of(json: &str) -> Result<serde_json::Value, Status> {
    serde_json::from_str(json).map_err(|error| {
        ErrorReason::InvalidValues.status(format!("values are not valid JSON: {error}"))
    })
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

type DownloadStream = Pin<Box<dyn Stream<Item = Result<pb::DownloadChunk, Status>> + Send>>;

#[tonic::async_trait]
impl ArtifactApi for ArtifactGrpc {
    async fn upload(
        &self,
        request: Request<Streaming<pb::UploadPart>>,
    ) -> Result<Response<pb::UploadResponse>, Status> {
        let actor = self.caller(&request).await?;
        let mut parts = request.into_inner();
        let kind = match parts.message().await? {
            Some(pb::UploadPart {
                part: Some(Part::Kind(kind)),
            }) => pb::UploadKind::try_from(kind).unwrap_or(pb::UploadKind::Unspecified),
            _ => pb::UploadKind::Unspecified,
        };
        let items = upload_items(parts);
        let outcome = match kind {
            pb::UploadKind::PackageSync => self.service.package_sync(&actor, items).await?,
            pb::UploadKind::Script => self.service.script_upload(&actor, items).await?,
            pb::UploadKind::Configure => self.service.configure_upload(&actor, items).await?,
            pb::UploadKind::Component => self.service.component_upload(&actor, items).await?,
            pb::UploadKind::Unspecified => {
                return Err(ErrorReason::InvalidField
                    .status("an upload must start with its kind".to_owned()));
            }
        };
        Ok(Response::new(outcome_to_proto(kind, outcome)))
    }

    type DownloadStream = DownloadStream;

    async fn download(
        &self,
        request: Request<pb::DownloadRequest>,
    ) -> Result<Response<Self::DownloadStream>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
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
        Ok(Response::new(Box::pin(head.chain(data))))
    }

    async fn get_file(
        &self,
        request: Request<pb::FileRequest>,
    ) -> Result<Response<pb::StoredFile>, Status> {
        let actor = self.caller(&request).await?;
        let row = self.service.file(&actor, &request.into_inner().id).await?;
        Ok(Response::new(file_to_proto(row)))
    }

    async fn file_origin(
        &self,
        request: Request<pb::FileRequest>,
    ) -> Result<Response<pb::FileOriginResponse>, Status> {
        let actor = self.caller(&request).await?;
        let (file, origin) = self
            .service
            .file_origin(&actor, &request.into_inner().id)
            .await?;
        Ok(Response::new(match origin {
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
        }))
    }

    async fn list_scripts(
        &self,
        request: Request<pb::ListScriptsRequest>,
    ) -> Result<Response<pb::ListScriptsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let rows = self
            .service
            .list_scripts(&actor, &body.app_id, &body.name)
            .await?;
        Ok(Response::new(pb::ListScriptsResponse {
            scripts: rows
                .into_iter()
                .map(|row| script_to_proto(row, Vec::new()))
                .collect(),
        }))
    }

    async fn may_review(
        &self,
        request: Request<pb::MayReviewRequest>,
    ) -> Result<Response<pb::MayReviewResponse>, Status> {
        let actor = self.caller(&request).await?;
        Ok(Response::new(pb::MayReviewResponse {
            may_review: self.service.may_review(&actor),
        }))
    }

    async fn review_script(
        &self,
        request: Request<pb::ReviewScriptRequest>,
    ) -> Result<Response<pb::ScriptVersion>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let row = self
            .service
            .review_script(&actor, &body.id, &body.method_id, &body.status)
            .await?;
        Ok(Response::new(script_to_proto(row, Vec::new())))
    }

    async fn script_file_text(
        &self,
        request: Request<pb::FileRequest>,
    ) -> Result<Response<pb::ScriptFileTextResponse>, Status> {
        let actor = self.caller(&request).await?;
        let file_data = self
            .service
            .file_text(&actor, &request.into_inner().id)
            .await?;
        Ok(Response::new(pb::ScriptFileTextResponse { file_data }))
    }

    async fn script_file(
        &self,
        request: Request<pb::FileRequest>,
    ) -> Result<Response<pb::ScriptFileResponse>, Status> {
        let actor = self.caller(&request).await?;
        let (file, script) = self
            .service
            .script_file(&actor, &request.into_inner().id)
            .await?;
        let able = script.status == ABLE;
        Ok(Response::new(pb::ScriptFileResponse {
            file: Some(file_to_proto(file)),
            script: Some(script_to_proto(script, Vec::new())),
            able,
        }))
    }

    async fn filter_artifacts(
        &self,
        request: Request<pb::FilterArtifactsRequest>,
    ) -> Result<Response<pb::FilterArtifactsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let app_ids = (!body.all_apps).then_some(body.app_ids);
        let kind = Some(body.r#type).filter(|kind| !kind.is_empty());
        let rows = self.service.filter_artifacts(&actor, app_ids, kind).await?;
        Ok(Response::new(pb::FilterArtifactsResponse {
            artifacts: rows
                .into_iter()
                .map(|row| pb::Artifact {
                    id: row.id,
                    name: row.name,
                    app_id: row.app_id,
                    r#type: row.kind,
                })
                .collect(),
        }))
    }

    async fn list_components(
        &self,
        request: Request<pb::ListComponentsRequest>,
    ) -> Result<Response<pb::ListComponentsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let listings = self.service.list_components(&actor).await?;
        Ok(Response::new(pb::ListComponentsResponse {
            components: listings
                .into_iter()
                .map(|listing| pb::Component {
                    id: listing.component.id,
                    name: listing.component.name,
                    remark: listing.component.remark,
                    methods: listing.methods.into_iter().map(method_to_proto).collect(),
                })
                .collect(),
        }))
    }

    async fn template_schema(
        &self,
        request: Request<pb::FileRequest>,
    ) -> Result<Response<pb::ConfigSchema>, Status> {
        let actor = self.caller(&request).await?;
        let id = request.into_inner().id;
        let (row, nodes) = self.service.template(&actor, &id).await?;
        Ok(Response::new(pb::ConfigSchema {
            nodes: nodes.into_iter().map(node_to_proto).collect(),
            subject_id: row.file_id,
            target_name: row.name,
        }))
    }

    async fn method_schema(
        &self,
        request: Request<pb::MethodRequest>,
    ) -> Result<Response<pb::ConfigSchema>, Status> {
        let actor = self.caller(&request).await?;
        let listing = self
            .service
            .method(&actor, &request.into_inner().method_id)
            .await?;
        Ok(Response::new(pb::ConfigSchema {
            subject_id: listing.method.id.clone(),
            nodes: listing.params.into_iter().map(node_to_proto).collect(),
            target_name: String::new(),
        }))
    }

    async fn validate_values(
        &self,
        request: Request<pb::ValidateValuesRequest>,
    ) -> Result<Response<pb::ValidateValuesResponse>, Status> {
        use pb::validate_values_request::Subject;
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let values = values_of(&body.values_json)?;
        let by_key = match body.subject {
            Some(Subject::TemplateFileId(id)) => {
                self.service
                    .validate_template_values(&actor, &id, &values)
                    .await?
            }
            Some(Subject::MethodId(id)) => {
                self.service
                    .validate_method_values(&actor, &id, &values)
                    .await?
            }
            None => {
                return Err(ErrorReason::MissingField
                    .status("template_file_id or method_id is required".to_owned()));
            }
        };
        Ok(Response::new(pb::ValidateValuesResponse {
            values_by_key_json: by_key.to_string(),
        }))
    }

    async fn render_template(
        &self,
        request: Request<pb::RenderTemplateRequest>,
    ) -> Result<Response<pb::RenderTemplateResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let values = values_of(&body.values_json)?;
        let (text, target_name) = self
            .service
            .render_template(&actor, &body.template_file_id, &values)
            .await?;
        Ok(Response::new(pb::RenderTemplateResponse {
            text,
            target_name,
        }))
    }

    async fn template_versions(
        &self,
        request: Request<pb::FileRequest>,
    ) -> Result<Response<pb::TemplateVersionsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let (artifact, views) = self
            .service
            .template_versions(&actor, &request.into_inner().id)
            .await?;
        Ok(Response::new(pb::TemplateVersionsResponse {
            artifact: Some(pb::Artifact {
                id: artifact.id,
                name: artifact.name,
                app_id: artifact.app_id,
                r#type: artifact.kind,
            }),
            versions: views
                .into_iter()
                .map(|view| pb::TemplateVersion {
                    version_id: view.version.id,
                    version: view.version.version,
                    j2: Some(file_to_proto(view.j2)),
                    yml_file_id: view.template.yml_file_id,
                    target_name: view.template.name,
                    creator: view.version.creator,
                    create_time_ms: to_unix_ms(view.version.create_time),
                })
                .collect(),
        }))
    }
}
