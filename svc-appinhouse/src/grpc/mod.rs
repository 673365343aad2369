//! Inbound gRPC adapter of svc-appinhouse: checks the `X-SecretKey` of writes (metadata
//! `x-secretkey`), translates proto ⇄ domain (the RPC table here, builds to messages in
//! `convert`, uploads in `hosted`), and maps rule failures to statuses carrying the appinhouse
//! code (`error`). Nothing else.

mod convert;
mod error;
mod hosted;

use std::pin::Pin;

use common::doorway::{FromCall, Public, converted};
use futures::{Stream, StreamExt};
use proto::appinhouse::{
    SECRET_KEY_METADATA_KEY,
    v1::{self as pb, appinhouse_service_server::AppinhouseService as AppinhouseApi},
};
use tonic::{Request, Status, Streaming};

use crate::service::{
    AppinhouseError, AppinhouseService,
    platform::{Platform, detect},
};
use hosted::receive_upload;

/// The tonic service over the appinhouse rules.
#[derive(Clone)]
pub struct AppinhouseGrpc {
    service: AppinhouseService,
}

impl AppinhouseGrpc {
    pub fn new(service: AppinhouseService) -> AppinhouseGrpc {
        AppinhouseGrpc { service }
    }
}

/// A write whose `X-SecretKey` (metadata `x-secretkey`) the service accepted.
pub(super) struct SecretKey;

impl FromCall<AppinhouseGrpc> for SecretKey {
    fn from_call<T>(grpc: &AppinhouseGrpc, request: &Request<T>) -> Result<SecretKey, Status> {
        let given = request
            .metadata()
            .get(SECRET_KEY_METADATA_KEY)
            .and_then(|value| value.to_str().ok());
        grpc.service.check_secret(given).map_err(Status::from)?;
        Ok(SecretKey)
    }
}

/// The answer of a write that succeeded.
fn done() -> pb::Done {
    pb::Done { msg: String::new() }
}

type FileStream = Pin<Box<dyn Stream<Item = Result<pb::FileChunk, Status>> + Send + 'static>>;

common::grpc_api! {
    impl AppinhouseApi for AppinhouseGrpc {
        type ReadHostedFileStream = FileStream;
    }

    // Apps: create, update, delete, move and list.
    create_app(&self, _: SecretKey, body: pb::SaveAppRequest) -> pb::Done {
        let (description, alias) = (body.description.as_deref(), body.alias.as_deref());
        self.service.create_app(&body.app, description, alias).await?;
        done()
    }
    update_app(&self, _: SecretKey, body: pb::SaveAppRequest) -> pb::Done {
        let (description, alias) = (body.description.as_deref(), body.alias.as_deref());
        self.service.update_app(&body.app, description, alias).await?;
        done()
    }
    delete_app(&self, _: SecretKey, body: pb::AppRef) -> pb::Done {
        self.service.delete_app(&body.app).await?;
        done()
    }
    move_app(&self, _: Public, body: pb::MoveAppRequest) -> pb::Done {
        self.service.move_app(&body.app, &body.operation).await?;
        done()
    }
    list_apps(&self, _: Public, body: pb::PageRequest) -> pb::AppList {
        let (apps, window) = self.service.list_apps(body.page.as_deref()).await?;
        pb::AppList { apps, page: window.page, total_page: window.total_page }
    }

    // Builds per platform, their extends, pages and OTA plists.
    save_build(&self, _: SecretKey, body: pb::SaveBuildRequest) -> pb::Done {
        let (app, platform, base_url) = (&body.app, &body.platform, &body.request_base_url);
        self.service.save_build(app, platform, &body.fields, base_url).await?;
        done()
    }
    save_extend(&self, _: SecretKey, body: pb::SaveExtendRequest) -> pb::Done {
        self.service.save_extend(&body.app, &body.platform, &body.fields).await?;
        done()
    }
    last_builds(&self, _: Public, body: pb::LastBuildsRequest) -> pb::BuildList {
        let views = self.service.last_builds(&body.app, &body.request_base_url).await?;
        pb::BuildList { builds: converted(views), ..pb::BuildList::default() }
    }
    mobile_last(&self, _: Public, body: pb::MobileRequest) -> pb::BuildList {
        let (app, user_agent, base_url) = (&body.app, &body.user_agent, &body.request_base_url);
        let last = self.service.mobile_last(app, user_agent, body.touch_hint, base_url);
        let (detected, views) = last.await?;
        pb::BuildList {
            builds: converted(views),
            detected_platform: detected.as_str().to_owned(),
            ..pb::BuildList::default()
        }
    }
    list_builds(&self, _: Public, body: pb::ListBuildsRequest) -> pb::BuildList {
        let (platform, detected) = if body.platform.is_empty() {
            let detected = detect(&body.user_agent, body.touch_hint);
            (detected.platform(), detected.as_str().to_owned())
        } else {
            let platform = Platform::parse(&body.platform)?;
            (platform, String::new())
        };
        let (app, page, base_url) = (&body.app, body.page.as_deref(), &body.request_base_url);
        let (views, window) = self.service.list_builds(app, platform, page, base_url).await?;
        pb::BuildList {
            builds: converted(views),
            page: window.page,
            total_page: window.total_page,
            detected_platform: detected,
        }
    }
    get_plist(&self, _: Public, body: pb::GetPlistRequest) -> pb::PlistFile {
        let extend = Some(body.extend_key.as_str()).filter(|key| !key.is_empty());
        let content = self.service.plist(&body.app, &body.version, extend).await?;
        pb::PlistFile { content }
    }
    delete_old_builds(&self, _: SecretKey, body: pb::DeleteOldBuildsRequest) -> pb::Done {
        let (app, platform, residue) = (&body.app, &body.platform, body.residue.as_deref());
        self.service.delete_old_builds(app, platform, residue).await?;
        done()
    }
    app_page(&self, _: Public, body: pb::MobileRequest) -> pb::PageContent {
        let (app, user_agent, base_url) = (&body.app, &body.user_agent, &body.request_base_url);
        let (touch_hint, page) = (body.touch_hint, body.page.as_deref());
        let content = self.service.page(app, user_agent, touch_hint, page, base_url).await?;
        pb::PageContent {
            app: content.app.name,
            description: content.app.description,
            alias: content.app.alias,
            detected_platform: content.detected.as_str().to_owned(),
            latest: converted(content.latest),
            history: converted(content.history),
            page: content.page,
            pages: content.pages,
        }
    }

    // Hosted build files: uploads and reads.
    upload_build(
        &self,
        _: SecretKey,
        stream: Streaming<pb::UploadChunk>,
    ) -> pb::UploadedBuild {
        let uploaded = receive_upload(&self.service, stream).await?;
        pb::UploadedBuild {
            platform: uploaded.platform.as_str().to_owned(),
            version: uploaded.version,
            software_url: uploaded.software_url,
            bundle_id: uploaded.metadata.bundle_id,
            title: uploaded.metadata.title,
            size: uploaded.size,
        }
    }
    stat_hosted_file(&self, _: Public, file: pb::HostedFileRef) -> pb::HostedFileInfo {
        let (app, platform, version) = (&file.app, &file.platform, &file.version);
        let size = self.service.hosted_file_size(app, platform, version, &file.file).await?;
        pb::HostedFileInfo { size }
    }
    read_hosted_file(&self, _: Public, body: pb::ReadHostedFileRequest) -> FileStream {
        let file = body.file.unwrap_or_default();
        let (app, platform, version) = (&file.app, &file.platform, &file.version);
        let range = body.offset..body.offset.saturating_add(body.length);
        let read = self.service.read_hosted_file(app, platform, version, &file.file, range);
        let chunks = read.await?.map(|chunk| {
            chunk
                .map(|data| pb::FileChunk { data: data.to_vec() })
                .map_err(|error| AppinhouseError::from(error).into())
        });
        Box::pin(chunks)
    }
}
