//! Scripts, their review and their file texts: proto ⇄ rules.

use super::{
    ABLE, ArtifactGrpc, CallerExt, FileRow, Request, Response, ScriptRow, Status, file_to_proto,
    pb, to_unix_ms,
};

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
        request: Request<pb::ListScriptsRequest>,
    ) -> Result<Response<pb::ListScriptsResponse>, Status> {
        let actor = request.actor()?;
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

    pub(super) async fn may_review(
        &self,
        request: Request<pb::MayReviewRequest>,
    ) -> Result<Response<pb::MayReviewResponse>, Status> {
        let actor = request.actor()?;
        Ok(Response::new(pb::MayReviewResponse {
            may_review: self.service.may_review(&actor),
        }))
    }

    pub(super) async fn review_script(
        &self,
        request: Request<pb::ReviewScriptRequest>,
    ) -> Result<Response<pb::ScriptVersion>, Status> {
        let actor = request.actor()?;
        let body = request.into_inner();
        let row = self
            .service
            .review_script(&actor, &body.id, &body.method_id, &body.status)
            .await?;
        Ok(Response::new(script_to_proto(row, Vec::new())))
    }

    pub(super) async fn script_file_text(
        &self,
        request: Request<pb::FileRequest>,
    ) -> Result<Response<pb::ScriptFileTextResponse>, Status> {
        let actor = request.actor()?;
        let file_data = self
            .service
            .file_text(&actor, &request.into_inner().id)
            .await?;
        Ok(Response::new(pb::ScriptFileTextResponse { file_data }))
    }

    pub(super) async fn script_file(
        &self,
        request: Request<pb::FileRequest>,
    ) -> Result<Response<pb::ScriptFileResponse>, Status> {
        let actor = request.actor()?;
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
}
