//! App-config templates: schemas, values, rendering and versions: proto ⇄ rules.

use super::{
    ArtifactGrpc, CallerExt, ErrorReason, Request, Response, Status, file_to_proto, node_to_proto,
    pb, to_unix_ms,
};

fn values_of(json: &str) -> Result<serde_json::Value, Status> {
    serde_json::from_str(json).map_err(|error| {
        ErrorReason::InvalidValues.status(format!("values are not valid JSON: {error}"))
    })
}

impl ArtifactGrpc {
    pub(super) async fn template_schema(
        &self,
        request: Request<pb::FileRequest>,
    ) -> Result<Response<pb::ConfigSchema>, Status> {
        let actor = request.actor()?;
        let id = request.into_inner().id;
        let (row, nodes) = self.service.template(&actor, &id).await?;
        Ok(Response::new(pb::ConfigSchema {
            nodes: nodes.into_iter().map(node_to_proto).collect(),
            subject_id: row.file_id,
            target_name: row.name,
        }))
    }

    pub(super) async fn validate_values(
        &self,
        request: Request<pb::ValidateValuesRequest>,
    ) -> Result<Response<pb::ValidateValuesResponse>, Status> {
        use pb::validate_values_request::Subject;
        let actor = request.actor()?;
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

    pub(super) async fn render_template(
        &self,
        request: Request<pb::RenderTemplateRequest>,
    ) -> Result<Response<pb::RenderTemplateResponse>, Status> {
        let actor = request.actor()?;
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

    pub(super) async fn template_versions(
        &self,
        request: Request<pb::FileRequest>,
    ) -> Result<Response<pb::TemplateVersionsResponse>, Status> {
        let actor = request.actor()?;
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
