//! Apps: create, update, delete, move and list: proto ⇄ rules.

use super::{AppinhouseGrpc, Public, SecretKey, Status, done, pb};

impl AppinhouseGrpc {
    pub(super) async fn create_app(
        &self,
        _: SecretKey,
        body: pb::SaveAppRequest,
    ) -> Result<pb::Done, Status> {
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
        _: SecretKey,
        body: pb::SaveAppRequest,
    ) -> Result<pb::Done, Status> {
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
        _: SecretKey,
        body: pb::AppRef,
    ) -> Result<pb::Done, Status> {
        self.service.delete_app(&body.app).await?;
        Ok(done())
    }

    pub(super) async fn move_app(
        &self,
        _: Public,
        body: pb::MoveAppRequest,
    ) -> Result<pb::Done, Status> {
        self.service.move_app(&body.app, &body.operation).await?;
        Ok(done())
    }

    pub(super) async fn list_apps(
        &self,
        _: Public,
        body: pb::PageRequest,
    ) -> Result<pb::AppList, Status> {
        let (apps, window) = self.service.list_apps(body.page.as_deref()).await?;
        Ok(pb::AppList {
            apps,
            page: window.page,
            total_page: window.total_page,
        })
    }
}
