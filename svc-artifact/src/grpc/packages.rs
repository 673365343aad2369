//! Packages and their versions as artifacts to deploy: proto ⇄ rules.

use super::{ArtifactGrpc, CallerExt, Request, Response, Status, pb};

impl ArtifactGrpc {
    pub(super) async fn filter_artifacts(
        &self,
        request: Request<pb::FilterArtifactsRequest>,
    ) -> Result<Response<pb::FilterArtifactsResponse>, Status> {
        let actor = request.actor()?;
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
}
