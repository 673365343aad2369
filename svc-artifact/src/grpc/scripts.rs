//! Scripts, their review and their file texts: proto ⇄ rules.

use super::{ABLE, Actor, ArtifactGrpc, FileRow, ScriptRow, Status, file_to_proto, pb, to_unix_ms};

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

impl ArtifactGrpc {
    pub(super) async fn list_scripts(
        &self,
        actor: Actor,
        body: pb::ListScriptsRequest,
    ) -> Result<pb::ListScriptsResponse, Status> {
        let rows = self
            .service
            .list_scripts(&actor, &body.app_id, &body.name)
            .await?;
        Ok(pb::ListScriptsResponse {
            scripts: rows
                .into_iter()
                .map(|row| script_to_proto(row, Vec::new()))
                .collect(),
        })
    }

    pub(super) async fn may_review(
        &self,
        actor: Actor,
        _: pb::MayReviewRequest,
    ) -> Result<pb::MayReviewResponse, Status> {
        Ok(pb::MayReviewResponse {
            may_review: self.service.may_review(&actor),
        })
    }

    pub(super) async fn review_script(
        &self,
        actor: Actor,
        body: pb::ReviewScriptRequest,
    ) -> Result<pb::ScriptVersion, Status> {
        let row = self
            .service
            .review_script(&actor, &body.id, &body.method_id, &body.status)
            .await?;
        Ok(script_to_proto(row, Vec::new()))
    }

    pub(super) async fn script_file_text(
        &self,
        actor: Actor,
        body: pb::FileRequest,
    ) -> Result<pb::ScriptFileTextResponse, Status> {
        let file_data = self.service.file_text(&actor, &body.id).await?;
        Ok(pb::ScriptFileTextResponse { file_data })
    }

    pub(super) async fn script_file(
        &self,
        actor: Actor,
        body: pb::FileRequest,
    ) -> Result<pb::ScriptFileResponse, Status> {
        let (file, script) = self.service.script_file(&actor, &body.id).await?;
        let able = script.status == ABLE;
        Ok(pb::ScriptFileResponse {
            file: Some(file_to_proto(file)),
            script: Some(script_to_proto(script, Vec::new())),
            able,
        })
    }
}
