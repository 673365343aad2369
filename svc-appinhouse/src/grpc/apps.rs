//! Apps: create, update, delete, move and list: proto ⇄ rules.

use super::{AppinhouseGrpc, Request, Response, Status, done, pb};

impl AppinhouseGrpc {
    pub(super) async fn create_app(
        &self,
        request: Request<pb::SaveAppRequest>,
    ) -> Result<Response<pb::Done>, Status> {
        self.check_secret(&request)?;
        let body = request.into_inner();
        self.service
            .create_app(
                &body.app,
                body.description.as_deref(),
                body.alias.as_deref(),
            )
            .await?;
        Ok(done())
    }

    pub(super) async fn update_app(
        &self,
        request: Request<pb::SaveAppRequest>,
    ) -> Result<Response<pb::Done>, Status> {
        self.check_secret(&request)?;
        let body = request.into_inner();
        self.service
            .update_app(
                &body.app,
                body.description.as_deref(),
                body.alias.as_deref(),
            )
            .await?;
        Ok(done())
    }

    pub(super) async fn delete_app(
        &self,
        request: Request<pb::AppRef>,
    ) -> Result<Response<pb::Done>, Status> {
        self.check_secret(&request)?;
        self.service.delete_app(&request.into_inner().app).await?;
        Ok(done())
    }

    pub(super) async fn move_app(
        &self,
        request: Request<pb::MoveAppRequest>,
    ) -> Result<Response<pb::Done>, Status> {
        let body = request.into_inner();
        self.service.move_app(&body.app, &body.operation).await?;
        Ok(done())
    }

    pub(super) async fn list_apps(
        &self,
        request: Request<pb::PageRequest>,
    ) -> Result<Response<pb::AppList>, Status> {
        let body = request.into_inner();
        let (apps, window) = self.service.list_apps(body.page.as_deref()).await?;
        Ok(Response::new(pb::AppList {
            apps,
            page: window.page,
            total_page: window.total_page,
        }))
    }
}
