//! Packages and their versions as artifacts to deploy: proto ⇄ rules.

use super::{Actor, ArtifactGrpc, Status, pb};

impl ArtifactGrpc {
    pub(super) async fn filter_artifacts(
        &self,
        actor: Actor,
        body: pb::FilterArtifactsRequest,
    ) -> Result<pb::FilterArtifactsResponse, Status> {
        let app_ids = (!body.all_apps).then_some(body.app_ids);
        let kind = Some(body.r#type).filter(|kind| !kind.is_empty());
        let rows = self.service.filter_artifacts(&actor, app_ids, kind).await?;
        Ok(pb::FilterArtifactsResponse {
            artifacts: rows
                .into_iter()
                .map(|row| pb::Artifact {
                    id: row.id,
                    name: row.name,
                    app_id: row.app_id,
                    r#type: row.kind,
                })
                .collect(),
        })
    }
}
