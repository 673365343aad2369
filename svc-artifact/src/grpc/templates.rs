//! App-config templates: schemas, values, rendering and versions: proto ⇄ rules.

use super::{
    Actor, ArtifactGrpc, ErrorReason, Status, file_to_proto, node_to_proto, pb, to_unix_ms,
};

fn values_of(json: &str) -> Result<serde_json::Value, Status> {
    serde_json::from_str(json).map_err(|error| {
        ErrorReason::InvalidValues.status(format!("values are not valid JSON: {error}"))
    })
}

impl ArtifactGrpc {
    pub(super) async fn template_schema(
        &self,
        actor: Actor,
        body: pb::FileRequest,
    ) -> Result<pb::ConfigSchema, Status> {
        let id = body.id;
        let (row, nodes) = self.service.template(&actor, &id).await?;
        Ok(pb::ConfigSchema {
            nodes: nodes.into_iter().map(node_to_proto).collect(),
            subject_id: row.file_id,
            target_name: row.name,
        })
    }

    pub(super) async fn validate_values(
        &self,
        actor: Actor,
        body: pb::ValidateValuesRequest,
    ) -> Result<pb::ValidateValuesResponse, Status> {
        use pb::validate_values_request::Subject;
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
        Ok(pb::ValidateValuesResponse {
            values_by_key_json: by_key.to_string(),
        })
    }

    pub(super) async fn render_template(
        &self,
        actor: Actor,
        body: pb::RenderTemplateRequest,
    ) -> Result<pb::RenderTemplateResponse, Status> {
        let values = values_of(&body.values_json)?;
        let (text, target_name) = self
            .service
            .render_template(&actor, &body.template_file_id, &values)
            .await?;
        Ok(pb::RenderTemplateResponse { text, target_name })
    }

    pub(super) async fn template_versions(
        &self,
        actor: Actor,
        body: pb::FileRequest,
    ) -> Result<pb::TemplateVersionsResponse, Status> {
        let (artifact, views) = self.service.template_versions(&actor, &body.id).await?;
        Ok(pb::TemplateVersionsResponse {
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
        })
    }
}
