//! Builds per platform, their extends, pages and OTA plists: proto ⇄ rules.

use super::{
    AppinhouseGrpc, BuildView, Fields, Platform, Public, SecretKey, Status, detect, done, pb,
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
        _: SecretKey,
        body: pb::SaveBuildRequest,
    ) -> Result<pb::Done, Status> {
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
        _: SecretKey,
        body: pb::SaveExtendRequest,
    ) -> Result<pb::Done, Status> {
        self.service
            .save_extend(&body.app, &body.platform, &fields_of(body.fields))
            .await?;
        Ok(done())
    }

    pub(super) async fn last_builds(
        &self,
        _: Public,
        body: pb::LastBuildsRequest,
    ) -> Result<pb::BuildList, Status> {
        let views = self
            .service
            .last_builds(&body.app, &body.request_base_url)
            .await?;
        Ok(pb::BuildList {
            builds: builds_to_proto(views),
            ..pb::BuildList::default()
        })
    }

    pub(super) async fn mobile_last(
        &self,
        _: Public,
        body: pb::MobileRequest,
    ) -> Result<pb::BuildList, Status> {
        let (detected, views) = self
            .service
            .mobile_last(
                &body.app,
                &body.user_agent,
                body.touch_hint,
                &body.request_base_url,
            )
            .await?;
        Ok(pb::BuildList {
            builds: builds_to_proto(views),
            detected_platform: detected.as_str().to_owned(),
            ..pb::BuildList::default()
        })
    }

    pub(super) async fn list_builds(
        &self,
        _: Public,
        body: pb::ListBuildsRequest,
    ) -> Result<pb::BuildList, Status> {
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
        Ok(pb::BuildList {
            builds: builds_to_proto(views),
            page: window.page,
            total_page: window.total_page,
            detected_platform: detected,
        })
    }

    pub(super) async fn get_plist(
        &self,
        _: Public,
        body: pb::GetPlistRequest,
    ) -> Result<pb::PlistFile, Status> {
        let extend = Some(body.extend_key.as_str()).filter(|key| !key.is_empty());
        let content = self.service.plist(&body.app, &body.version, extend).await?;
        Ok(pb::PlistFile { content })
    }

    pub(super) async fn delete_old_builds(
        &self,
        _: SecretKey,
        body: pb::DeleteOldBuildsRequest,
    ) -> Result<pb::Done, Status> {
        self.service
            .delete_old_builds(&body.app, &body.platform, body.residue.as_deref())
            .await?;
        Ok(done())
    }

    pub(super) async fn app_page(
        &self,
        _: Public,
        body: pb::MobileRequest,
    ) -> Result<pb::PageContent, Status> {
        let content = self
            .service
            .page(
                &body.app,
                &body.user_agent,
                body.touch_hint,
                body.page.as_deref(),
                &body.request_base_url,
            )
            .await?;
        Ok(pb::PageContent {
            app: content.app.name,
            description: content.app.description,
            alias: content.app.alias,
            detected_platform: content.detected.as_str().to_owned(),
            latest: builds_to_proto(content.latest),
            history: builds_to_proto(content.history),
            page: content.page,
            pages: content.pages,
        })
    }
}
