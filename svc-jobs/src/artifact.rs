//! Outbound adapter to svc-artifact: the components and methods templates are made of, asked over
//! its gRPC API with the caller's own token.

use common::telemetry::{CallerChannel, PeerService};
use proto::artifact::v1::{self as pb, artifact_service_client::ArtifactServiceClient};
use tonic::transport::Channel;

use crate::{
    domain::{ConfigNode, JobsError, JobsResult},
    resource::upstream,
};

/// What jobs needs of a method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodInfo {
    pub id: String,
    pub name: String,
    pub remark: String,
    /// Stored file of the newest method package (empty for the built-in custom script).
    pub file_id: String,
    pub is_display_script: bool,
    /// Whether the method has parameters a step must give values for.
    pub requires_params: bool,
    /// Whether the method has parameters at all.
    pub has_params: bool,
    /// File of the package run by the method (relative path inside it).
    pub entrypoint: String,
    /// Time its entrypoint may take (0: the service's default).
    pub timeout_secs: u32,
}

/// A component and its methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentInfo {
    pub id: String,
    pub name: String,
    pub methods: Vec<MethodInfo>,
}

/// Every component, for looking methods up.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub components: Vec<ComponentInfo>,
}

impl Catalog {
    pub fn component(&self, id: &str) -> Option<&ComponentInfo> {
        self.components.iter().find(|component| component.id == id)
    }

    pub fn method(
        &self,
        component_id: &str,
        method_id: &str,
    ) -> Option<(&ComponentInfo, &MethodInfo)> {
        let component = self.component(component_id)?;
        component
            .methods
            .iter()
            .find(|method| method.id == method_id)
            .map(|method| (component, method))
    }
}

/// The artifact service, as jobs sees it.
#[derive(Clone)]
pub struct ArtifactDirectory(PeerService<ArtifactServiceClient<CallerChannel>>);

impl ArtifactDirectory {
    pub fn new(channel: Channel) -> ArtifactDirectory {
        ArtifactDirectory(PeerService::new(channel, ArtifactServiceClient::new))
    }

    /// Every component with its methods.
    pub async fn catalog(&self, token: &str) -> JobsResult<Catalog> {
        let answer = upstream(
            self.0
                .on_behalf_of(token)
                .list_components(pb::ListComponentsRequest {}),
        )
        .await?;
        Ok(Catalog {
            components: answer
                .components
                .into_iter()
                .map(|component| ComponentInfo {
                    id: component.id,
                    name: component.name,
                    methods: component
                        .methods
                        .into_iter()
                        .map(|method| MethodInfo {
                            requires_params: method.params.iter().any(|node| node.require),
                            has_params: method.has_params,
                            entrypoint: method.entrypoint,
                            timeout_secs: method.timeout_s,
                            id: method.id,
                            name: method.name,
                            remark: method.remark,
                            file_id: method.file_id,
                            is_display_script: method.is_display_script,
                        })
                        .collect(),
                })
                .collect(),
        })
    }
}

/// What jobs needs of a script file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptFileInfo {
    pub file_id: String,
    pub file_name: String,
    pub script_id: String,
    pub script_name: String,
    pub able: bool,
}

impl ArtifactDirectory {
    /// Checks parameter values against a method's schema; failures name the key path. Answers
    /// the values keyed by parameter key (what `params.json` holds).
    pub async fn validate_method_values(
        &self,
        token: &str,
        method_id: &str,
        values: &serde_json::Value,
    ) -> JobsResult<serde_json::Value> {
        let request = pb::ValidateValuesRequest {
            subject: Some(pb::validate_values_request::Subject::MethodId(
                method_id.to_owned(),
            )),
            values_json: values.to_string(),
        };
        let answer = upstream(self.0.on_behalf_of(token).validate_values(request)).await?;
        serde_json::from_str(&answer.values_by_key_json).map_err(|error| JobsError::Invalid {
            field: "config_value",
            message: format!("svc-artifact answered values that are not JSON: {error}"),
        })
    }

    /// A script file and its script.
    pub async fn script_file(&self, token: &str, file_id: &str) -> JobsResult<ScriptFileInfo> {
        let answer = upstream(self.0.on_behalf_of(token).script_file(pb::FileRequest {
            id: file_id.to_owned(),
        }))
        .await?;
        let file = answer.file.unwrap_or_default();
        let script = answer.script.unwrap_or_default();
        Ok(ScriptFileInfo {
            file_id: file.id,
            file_name: file.name,
            script_id: script.id,
            script_name: script.name,
            able: answer.able,
        })
    }
}

/// The schema of an app-config template (its `.j2` file id) or of a method's parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    pub nodes: Vec<ConfigNode>,
    /// Name of the rendered file (`X` of `X.j2`), for templates.
    pub target_name: String,
    /// The `.j2` file the schema belongs to (what a template id resolved to), for templates.
    pub subject_id: String,
}

impl ArtifactDirectory {
    /// The schema of the app-config template whose `.j2` file is `file_id` (or of the newest
    /// version of the template `file_id` names).
    pub async fn template_schema(&self, token: &str, file_id: &str) -> JobsResult<Schema> {
        let answer = upstream(self.0.on_behalf_of(token).template_schema(pb::FileRequest {
            id: file_id.to_owned(),
        }))
        .await?;
        Ok(Schema {
            nodes: common::doorway::converted(answer.nodes),
            target_name: answer.target_name,
            subject_id: answer.subject_id,
        })
    }

    /// Checks app-config values against a template's schema; failures name the key path.
    /// Answers the values keyed by the template's keys.
    pub async fn validate_template_values(
        &self,
        token: &str,
        file_id: &str,
        values: &serde_json::Value,
    ) -> JobsResult<serde_json::Value> {
        let request = pb::ValidateValuesRequest {
            subject: Some(pb::validate_values_request::Subject::TemplateFileId(
                file_id.to_owned(),
            )),
            values_json: values.to_string(),
        };
        let answer = upstream(self.0.on_behalf_of(token).validate_values(request)).await?;
        serde_json::from_str(&answer.values_by_key_json).map_err(|error| JobsError::Invalid {
            field: "groups.configs",
            message: format!("svc-artifact answered values that are not JSON: {error}"),
        })
    }
}

/// A stored file and the artifact version it belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileOrigin {
    pub file_id: String,
    pub file_name: String,
    pub md5: String,
    pub version_id: String,
    pub artifact_id: Option<String>,
    pub artifact_name: Option<String>,
    pub version: Option<String>,
}

impl ArtifactDirectory {
    /// A stored file (failing with svc-artifact's `file_not_found` when unknown).
    pub async fn file_origin(&self, token: &str, file_id: &str) -> JobsResult<FileOrigin> {
        let answer = upstream(self.0.on_behalf_of(token).file_origin(pb::FileRequest {
            id: file_id.to_owned(),
        }))
        .await?;
        let file = answer.file.unwrap_or_default();
        Ok(FileOrigin {
            file_id: file.id,
            file_name: file.name,
            md5: file.md5,
            version_id: file.version_id,
            artifact_id: answer.artifact_id,
            artifact_name: answer.artifact_name,
            version: answer.version,
        })
    }
}

/// A rendered app-config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedConfig {
    pub text: String,
    pub target_name: String,
}

impl ArtifactDirectory {
    /// Renders the app-config template whose `.j2` file is `file_id` with values keyed by node id.
    pub async fn render_template(
        &self,
        token: &str,
        file_id: &str,
        values: &serde_json::Value,
    ) -> JobsResult<RenderedConfig> {
        let answer = upstream(self.0.on_behalf_of(token).render_template(
            pb::RenderTemplateRequest {
                template_file_id: file_id.to_owned(),
                values_json: values.to_string(),
            },
        ))
        .await?;
        Ok(RenderedConfig {
            text: answer.text,
            target_name: answer.target_name,
        })
    }

    /// The bytes of a stored file, streamed as svc-artifact sends them.
    pub async fn download(
        &self,
        token: &str,
        file_id: &str,
    ) -> JobsResult<crate::domain::ByteStream> {
        use futures::StreamExt;
        let chunks = self.open_download(token, file_id).await?;
        Ok(chunks
            .filter_map(|chunk| async move {
                match chunk {
                    Ok(pb::DownloadChunk {
                        chunk: Some(pb::download_chunk::Chunk::Data(data)),
                    }) => Some(Ok(data)),
                    Ok(_) => None,
                    Err(status) => Some(Err(download_failed(&status))),
                }
            })
            .boxed())
    }

    /// A stored file's bytes read whole into one buffer of exactly its size, or None (nothing
    /// read) when the file is larger than `limit` bytes.
    pub async fn read_whole(
        &self,
        token: &str,
        file_id: &str,
        limit: u64,
    ) -> JobsResult<Option<bytes::Bytes>> {
        let unreadable = |message: String| JobsError::Invalid {
            field: "file",
            message: format!("{file_id} could not be read from svc-artifact: {message}"),
        };
        let mut chunks = self.open_download(token, file_id).await?;
        let mut whole: Option<bytes::BytesMut> = None;
        while let Some(chunk) = chunks.message().await.map_err(JobsError::Upstream)? {
            match chunk.chunk {
                Some(pb::download_chunk::Chunk::Head(file)) if whole.is_none() => {
                    if file.size > limit {
                        return Ok(None);
                    }
                    let size = usize::try_from(file.size)
                        .map_err(|_| unreadable(format!("its size {} is too large", file.size)))?;
                    whole = Some(bytes::BytesMut::with_capacity(size));
                }
                Some(pb::download_chunk::Chunk::Data(data)) => {
                    let buffer = whole
                        .as_mut()
                        .ok_or_else(|| unreadable("its data came before its size".to_owned()))?;
                    if buffer.len() + data.len() > buffer.capacity() {
                        return Err(unreadable(
                            "it sent more bytes than its size says".to_owned(),
                        ));
                    }
                    buffer.extend_from_slice(&data);
                }
                _ => {}
            }
        }
        let whole = whole.ok_or_else(|| unreadable("no size was sent".to_owned()))?;
        if whole.len() != whole.capacity() {
            return Err(unreadable(format!(
                "it ended after {} of {} bytes",
                whole.len(),
                whole.capacity()
            )));
        }
        Ok(Some(whole.freeze()))
    }

    async fn open_download(
        &self,
        token: &str,
        file_id: &str,
    ) -> JobsResult<tonic::Streaming<pb::DownloadChunk>> {
        let request = pb::DownloadRequest {
            id: file_id.to_owned(),
            has_range: false,
            start: 0,
            end: 0,
        };
        upstream(self.0.on_behalf_of(token).download(request)).await
    }
}

fn download_failed(status: &tonic::Status) -> std::io::Error {
    std::io::Error::other(format!(
        "download from svc-artifact failed: {}",
        status.message()
    ))
}

/// A schema node both ways between svc-artifact's message (read by the jobs domain, then
/// passed on in the answer of 5.8.2.3) and the jobs domain's copy: the same fields, but the
/// proto calls the node type `type`.
macro_rules! config_node_between {
    ($($source:ty => $target:path { $kind:ident: $source_kind:ident })*) => {$(
        impl From<$source> for $target {
            fn from(node: $source) -> $target {
                $target {
                    id: node.id,
                    key: node.key,
                    $kind: node.$source_kind,
                    remark: node.remark,
                    default: node.default,
                    require: node.require,
                    rule: node.rule,
                    policy: node.policy,
                    parent_id: node.parent_id,
                    children: node.children.into_iter().map(Into::into).collect(),
                }
            }
        }
    )*};
}

config_node_between! {
    pb::ConfigNode => ConfigNode { node_type: r#type }
    ConfigNode => pb::ConfigNode { r#type: node_type }
}
