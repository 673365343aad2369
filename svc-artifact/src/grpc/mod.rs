//! Inbound gRPC adapter of svc-artifact: reads the caller the doorway layer verified
//! (`common::doorway`), translates proto ⇄ domain (upload parts to upload items, rows to
//! messages) in one file per area, and maps rule failures to statuses with a stable reason
//! (`error`). Nothing else.

mod components;
mod error;
mod files;
mod packages;
mod scripts;
mod templates;

use std::pin::Pin;

use common::{auth::Actor, time::to_unix_ms};
use futures::{Stream, StreamExt};
use proto::{
    ErrorReason,
    artifact::v1::{
        self as pb, artifact_service_server::ArtifactService as ArtifactApi, upload_part::Part,
    },
};
use tonic::{Status, Streaming};

use crate::service::{
    ArtifactError, ArtifactService, UploadItem, UploadKind, UploadOutcome,
    components::MethodListing,
    records::{FileRow, ScriptRow},
    schema::SchemaNode,
    scripts::ABLE,
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

type DownloadStream = Pin<Box<dyn Stream<Item = Result<pb::DownloadChunk, Status>> + Send>>;

common::grpc_api! {
    impl ArtifactApi for ArtifactGrpc {
        type DownloadStream = DownloadStream;
    }
    upload(Streaming<pb::UploadPart>) -> pb::UploadResponse;
    download(pb::DownloadRequest) -> DownloadStream;
    get_file(pb::FileRequest) -> pb::StoredFile;
    file_origin(pb::FileRequest) -> pb::FileOriginResponse;
    list_scripts(pb::ListScriptsRequest) -> pb::ListScriptsResponse;
    may_review(pb::MayReviewRequest) -> pb::MayReviewResponse;
    review_script(pb::ReviewScriptRequest) -> pb::ScriptVersion;
    script_file_text(pb::FileRequest) -> pb::ScriptFileTextResponse;
    script_file(pb::FileRequest) -> pb::ScriptFileResponse;
    filter_artifacts(pb::FilterArtifactsRequest) -> pb::FilterArtifactsResponse;
    list_components(pb::ListComponentsRequest) -> pb::ListComponentsResponse;
    method_schema(pb::MethodRequest) -> pb::ConfigSchema;
    template_schema(pb::FileRequest) -> pb::ConfigSchema;
    validate_values(pb::ValidateValuesRequest) -> pb::ValidateValuesResponse;
    render_template(pb::RenderTemplateRequest) -> pb::RenderTemplateResponse;
    template_versions(pb::FileRequest) -> pb::TemplateVersionsResponse;
}
