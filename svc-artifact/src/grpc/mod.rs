//! Inbound gRPC adapter of svc-artifact: reads the caller the doorway layer verified
//! (`common::doorway`), translates proto ⇄ domain (the RPC table here, rows to messages in
//! `convert`, upload parts to upload items and bytes to download chunks in `files`), and maps
//! rule failures to statuses with a stable reason (`error`). Nothing else.

mod convert;
mod error;
mod files;

use std::pin::Pin;

use common::{auth::Actor, doorway::converted};
use futures::Stream;
use proto::{
    ErrorReason,
    artifact::v1::{self as pb, artifact_service_server::ArtifactService as ArtifactApi},
};
use tonic::{Status, Streaming};

use crate::service::{ArtifactService, UploadKind, scripts::ABLE};
use convert::{script_to_proto, values_of};
use files::{download_stream, upload_items, upload_kind};

/// The tonic service over the artifact rules.
#[derive(Clone)]
pub struct ArtifactGrpc {
    service: ArtifactService,
}

impl ArtifactGrpc {
    pub fn new(service: ArtifactService) -> ArtifactGrpc {
        ArtifactGrpc { service }
    }
}

type DownloadStream = Pin<Box<dyn Stream<Item = Result<pb::DownloadChunk, Status>> + Send>>;

common::grpc_api! {
    impl ArtifactApi for ArtifactGrpc {
        type DownloadStream = DownloadStream;
    }

    // Stored files: uploads, downloads, their rows and origins.
    upload(&self, actor: Actor, parts: Streaming<pb::UploadPart>) -> pb::UploadResponse {
        let (kind, parts) = upload_kind(parts).await?;
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
        pb::UploadResponse {
            kind: kind as i32,
            files: converted(outcome.files),
            version_id: outcome.version_id,
            unpacked: converted(outcome.unpacked),
            templates: converted(outcome.templates),
        }
    }
    download(&self, actor: Actor, body: pb::DownloadRequest) -> DownloadStream {
        let range = body.has_range.then_some((body.start, body.end));
        let (file, bytes) = self.service.download(&actor, &body.id, range).await?;
        download_stream(file, bytes)
    }
    get_file(&self, actor: Actor, body: pb::FileRequest) -> pb::StoredFile {
        self.service.file(&actor, &body.id).await?.into()
    }
    file_origin(&self, actor: Actor, body: pb::FileRequest) -> pb::FileOriginResponse {
        let (file, origin) = self.service.file_origin(&actor, &body.id).await?;
        let file = Some(file.into());
        match origin {
            Some((version, artifact)) => pb::FileOriginResponse {
                file,
                artifact_id: Some(artifact.id),
                artifact_name: Some(artifact.name),
                version: Some(version.version),
                kind: Some(artifact.kind),
            },
            None => pb::FileOriginResponse { file, ..pb::FileOriginResponse::default() },
        }
    }

    // Scripts, their review and their file texts.
    list_scripts(&self, actor: Actor, body: pb::ListScriptsRequest) -> pb::ListScriptsResponse {
        let rows = self.service.list_scripts(&actor, &body.app_id, &body.name).await?;
        let scripts = rows.into_iter().map(|row| script_to_proto(row, Vec::new()));
        pb::ListScriptsResponse { scripts: scripts.collect() }
    }
    may_review(&self, actor: Actor, _: pb::MayReviewRequest) -> pb::MayReviewResponse {
        pb::MayReviewResponse { may_review: self.service.may_review(&actor).await }
    }
    review_script(&self, actor: Actor, body: pb::ReviewScriptRequest) -> pb::ScriptVersion {
        let (id, method_id, status) = (&body.id, &body.method_id, &body.status);
        let row = self.service.review_script(&actor, id, method_id, status).await?;
        script_to_proto(row, Vec::new())
    }
    get_script(&self, actor: Actor, body: pb::FileRequest) -> pb::ScriptVersion {
        let (script, files) = self.service.script(&actor, &body.id).await?;
        script_to_proto(script, files)
    }
    script_file_text(&self, actor: Actor, body: pb::FileRequest) -> pb::ScriptFileTextResponse {
        let file_data = self.service.file_text(&actor, &body.id).await?;
        pb::ScriptFileTextResponse { file_data }
    }
    script_file(&self, actor: Actor, body: pb::FileRequest) -> pb::ScriptFileResponse {
        let (file, script) = self.service.script_file(&actor, &body.id).await?;
        let able = script.status == ABLE;
        pb::ScriptFileResponse {
            file: Some(file.into()),
            script: Some(script_to_proto(script, Vec::new())),
            able,
        }
    }

    // Packages and their versions as artifacts to deploy.
    filter_artifacts(
        &self,
        actor: Actor,
        body: pb::FilterArtifactsRequest,
    ) -> pb::FilterArtifactsResponse {
        let app_ids = (!body.all_apps).then_some(body.app_ids);
        let kind = Some(body.r#type).filter(|kind| !kind.is_empty());
        let rows = self.service.filter_artifacts(&actor, app_ids, kind).await?;
        let artifacts = rows.into_iter().map(|row| pb::Artifact {
            id: row.id,
            name: row.name,
            app_id: row.app_id,
            r#type: row.kind,
        });
        pb::FilterArtifactsResponse { artifacts: artifacts.collect() }
    }

    // Components and the schemas of their methods.
    list_components(
        &self,
        actor: Actor,
        _: pb::ListComponentsRequest,
    ) -> pb::ListComponentsResponse {
        let listings = self.service.list_components(&actor).await?;
        pb::ListComponentsResponse { components: converted(listings) }
    }
    method_schema(&self, actor: Actor, body: pb::MethodRequest) -> pb::ConfigSchema {
        let listing = self.service.method(&actor, &body.method_id).await?;
        pb::ConfigSchema {
            subject_id: listing.method.id.clone(),
            nodes: converted(listing.params),
            target_name: String::new(),
        }
    }

    // App-config templates: schemas, values, rendering and versions.
    template_schema(&self, actor: Actor, body: pb::FileRequest) -> pb::ConfigSchema {
        let (row, nodes) = self.service.template(&actor, &body.id).await?;
        pb::ConfigSchema {
            nodes: converted(nodes),
            subject_id: row.file_id,
            target_name: row.name,
        }
    }
    validate_values(
        &self,
        actor: Actor,
        body: pb::ValidateValuesRequest,
    ) -> pb::ValidateValuesResponse {
        use pb::validate_values_request::Subject;
        let values = values_of(&body.values_json)?;
        let by_key = match body.subject {
            Some(Subject::TemplateFileId(id)) => {
                self.service.validate_template_values(&actor, &id, &values).await?
            }
            Some(Subject::MethodId(id)) => {
                self.service.validate_method_values(&actor, &id, &values).await?
            }
            None => {
                return Err(ErrorReason::MissingField
                    .status("template_file_id or method_id is required".to_owned()));
            }
        };
        pb::ValidateValuesResponse { values_by_key_json: by_key.to_string() }
    }
    render_template(
        &self,
        actor: Actor,
        body: pb::RenderTemplateRequest,
    ) -> pb::RenderTemplateResponse {
        let values = values_of(&body.values_json)?;
        let rendered = self.service.render_template(&actor, &body.template_file_id, &values);
        let (text, target_name) = rendered.await?;
        pb::RenderTemplateResponse { text, target_name }
    }
    template_versions(
        &self,
        actor: Actor,
        body: pb::FileRequest,
    ) -> pb::TemplateVersionsResponse {
        let (artifact, views) = self.service.template_versions(&actor, &body.id).await?;
        pb::TemplateVersionsResponse {
            artifact: Some(pb::Artifact {
                id: artifact.id,
                name: artifact.name,
                app_id: artifact.app_id,
                r#type: artifact.kind,
            }),
            versions: converted(views),
        }
    }

    // The audit trail (issue 20).
    query_audit(
        &self,
        actor: common::auth::Actor,
        body: proto::audit::v1::AuditQuery,
    ) -> proto::audit::v1::AuditPage {
        common::audit_rpc::query(self.service.database(), &actor.claims, body).await?
    }
}
