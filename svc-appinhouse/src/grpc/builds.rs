//! Builds per platform, their extends, pages and OTA plists: proto ⇄ rules.

use super::{
    AppinhouseGrpc, BuildView, Fields, Platform, Request, Response, Status, detect, done, pb,
    to_unix_ms,
};

fn build_to_proto(view: BuildView) -> pb::Build {
    let BuildView { row, down, extends } = view;
    pb::Build {
        platform: row.platform,
        version: row.version,
        time_ms: to_unix_ms(row.build_time),
        given_offset_minutes: row.given_offset_minutes,
        description: row.description,
        url: row.url,
        down,
        extends: extends
            .into_iter()
            .map(|extend| pb::Extend {
                key: extend.key,
                name: extend.name,
                down: extend.down,
            })
            .collect(),
        software_url: row.software_url,
    }
}

fn builds_to_proto(views: Vec<BuildView>) -> Vec<pb::Build> {
    views.into_iter().map(build_to_proto).collect()
}

fn fields_of(map: std::collections::HashMap<String, String>) -> Fields {
    map
}

impl AppinhouseGrpc {
    pub(super) async fn save_build(
        &self,
        request: Request<pb::SaveBuildRequest>,
    ) -> Result<Response<pb::Done>, Status> {
        self.check_secret(&request)?;
        let body = request.into_inner();
        self.service
            .save_build(
                &body.app,
                &body.platform,
                &fields_of(body.fields),
                &body.request_base_url,
            )
            .await?;
        Ok(done())
    }

    pub(super) async fn save_extend(
        &self,
        request: Request<pb::SaveExtendRequest>,
    ) -> Result<Response<pb::Done>, Status> {
        self.check_secret(&request)?;
        let body = request.into_inner();
        self.service
            .save_extend(&body.app, &body.platform, &fields_of(body.fields))
            .await?;
        Ok(done())
    }

    pub(super) async fn last_builds(
        &self,
        request: Request<pb::LastBuildsRequest>,
    ) -> Result<Response<pb::BuildList>, Status> {
        let body = request.into_inner();
        let views = self
            .service
            .last_builds(&body.app, &body.request_base_url)
            .await?;
        Ok(Response::new(pb::BuildList {
            builds: builds_to_proto(views),
            ..pb::BuildList::default()
        }))
    }

    pub(super) async fn mobile_last(
        &self,
        request: Request<pb::MobileRequest>,
    ) -> Result<Response<pb::BuildList>, Status> {
        let body = request.into_inner();
        let (detected, views) = self
            .service
            .mobile_last(
                &body.app,
                &body.user_agent,
                body.touch_hint,
                &body.request_base_url,
            )
            .await?;
        Ok(Response::new(pb::BuildList {
            builds: builds_to_proto(views),
            detected_platform: detected.as_str().to_owned(),
            ..pb::BuildList::default()
        }))
    }

    pub(super) async fn list_builds(
        &self,
        request: Request<pb::ListBuildsRequest>,
    ) -> Result<Response<pb::BuildList>, Status> {
        let body = request.into_inner();
        let (platform, detected) = if body.platform.is_empty() {
            let detected = detect(&body.user_agent, body.touch_hint);
            (detected.platform(), detected.as_str().to_owned())
        } else {
            let platform = Platform::parse(&body.platform)?;
            (platform, String::new())
        };
        let (views, window) = self
            .service
            .list_builds(
                &body.app,
                platform,
                body.page.as_deref(),
                &body.request_base_url,
            )
            .await?;
        Ok(Response::new(pb::BuildList {
            builds: builds_to_proto(views),
            page: window.page,
            total_page: window.total_page,
            detected_platform: detected,
        }))
    }

    pub(super) async fn get_plist(
        &self,
        request: Request<pb::GetPlistRequest>,
    ) -> Result<Response<pb::PlistFile>, Status> {
        let body = request.into_inner();
        let extend = Some(body.extend_key.as_str()).filter(|key| !key.is_empty());
        let content = self.service.plist(&body.app, &body.version, extend).await?;
        Ok(Response::new(pb::PlistFile { content }))
    }

    pub(super) async fn delete_old_builds(
        &self,
        request: Request<pb::DeleteOldBuildsRequest>,
    ) -> Result<Response<pb::Done>, Status> {
        self.check_secret(&request)?;
        let body = request.into_inner();
        self.service
            .delete_old_builds(&body.app, &body.platform, body.residue.as_deref())
            .await?;
        Ok(done())
    }

    pub(super) async fn app_page(
        &self,
        request: Request<pb::MobileRequest>,
    ) -> Result<Response<pb::PageContent>, Status> {
        let body = request.into_inner();
        let content = self
            .service
            .page(
                &body.app,
                &body.user_agent,
                body.touch_hint,
                &body.request_base_url,
            )
            .await?;
        Ok(Response::new(pb::PageContent {
            app: content.app.name,
            description: content.app.description,
            alias: content.app.alias,
            detected_platform: content.detected.as_str().to_owned(),
            latest: builds_to_proto(content.latest),
            history: builds_to_proto(content.history),
        }))
    }
}
