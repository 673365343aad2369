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
    ACCESS_METADATA_KEY, SECRET_KEY_METADATA_KEY,
    v1::{self as pb, appinhouse_service_server::AppinhouseService as AppinhouseApi},
};
use tonic::{Request, Status, Streaming};

use crate::service::{
    AppinhouseError, AppinhouseService,
    access::Presented,
    installs::TalliedInstalls,
    page::{PageContent, PageRequest},
    platform::{Platform, detect},
    reads::Reader,
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

/// What a reader shows for a protected app: its `X-SecretKey` and its grant, unchecked here (the
/// rules check them against the app read).
pub(super) struct Shown(Presented);

impl FromCall<AppinhouseGrpc> for Shown {
    fn from_call<T>(_: &AppinhouseGrpc, request: &Request<T>) -> Result<Shown, Status> {
        let text = |key: &str| {
            request
                .metadata()
                .get(key)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        Ok(Shown(Presented {
            secret_key: text(SECRET_KEY_METADATA_KEY),
            access: text(ACCESS_METADATA_KEY),
        }))
    }
}

impl Shown {
    fn reader(self, request_base_url: &str) -> Reader {
        Reader {
            request_base_url: request_base_url.to_owned(),
            presented: self.0,
        }
    }
}

fn page_message(content: PageContent) -> pb::PageContent {
    pb::PageContent {
        app: content.app.name,
        description: content.app.description,
        alias: content.app.alias,
        detected_platform: content.detected.as_str().to_owned(),
        latest: converted(content.latest),
        history: converted(content.history),
        page: content.page,
        pages: content.pages,
        https_installs: content.https_installs,
        query: content.query,
        access: content.access.unwrap_or_default(),
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
    last_builds(&self, shown: Shown, body: pb::LastBuildsRequest) -> pb::BuildList {
        let views = self.service.last_builds(&body.app, shown.reader(&body.request_base_url)).await?;
        pb::BuildList { builds: converted(views), ..pb::BuildList::default() }
    }
    mobile_last(&self, shown: Shown, body: pb::MobileRequest) -> pb::BuildList {
        let (app, user_agent, reader) = (&body.app, &body.user_agent, shown.reader(&body.request_base_url));
        let last = self.service.mobile_last(app, user_agent, body.touch_hint, reader);
        let (detected, views) = last.await?;
        pb::BuildList {
            builds: converted(views),
            detected_platform: detected.as_str().to_owned(),
            ..pb::BuildList::default()
        }
    }
    list_builds(&self, shown: Shown, body: pb::ListBuildsRequest) -> pb::BuildList {
        let (platform, detected) = if body.platform.is_empty() {
            let detected = detect(&body.user_agent, body.touch_hint);
            (detected.platform(), detected.as_str().to_owned())
        } else {
            let platform = Platform::parse(&body.platform)?;
            (platform, String::new())
        };
        let (app, page, reader) = (&body.app, body.page.as_deref(), shown.reader(&body.request_base_url));
        let (views, window) = self.service.list_builds(app, platform, page, reader).await?;
        pb::BuildList {
            builds: converted(views),
            page: window.page,
            total_page: window.total_page,
            detected_platform: detected,
        }
    }
    get_plist(&self, shown: Shown, body: pb::GetPlistRequest) -> pb::PlistFile {
        let extend = Some(body.extend_key.as_str()).filter(|key| !key.is_empty());
        let reader = shown.reader(&body.request_base_url);
        let content = self.service.plist(&body.app, &body.version, extend, reader).await?;
        pb::PlistFile { content }
    }
    count_installs(&self, _: Shown, body: pb::InstallTally) -> pb::Done {
        let tally = body.installs.into_iter().map(|counted| TalliedInstalls {
            app: counted.app,
            platform: counted.platform,
            version: counted.version,
            installs: counted.installs,
        });
        self.service.count_installs(tally.collect()).await?;
        done()
    }
    delete_old_builds(&self, _: SecretKey, body: pb::DeleteOldBuildsRequest) -> pb::Done {
        let (app, platform, residue) = (&body.app, &body.platform, body.residue.as_deref());
        self.service.delete_old_builds(app, platform, residue).await?;
        done()
    }
    app_page(&self, shown: Shown, body: pb::MobileRequest) -> pb::PageContent {
        let request = PageRequest {
            user_agent: body.user_agent,
            touch_hint: body.touch_hint,
            page: body.page,
            query: body.query,
            reader: shown.reader(&body.request_base_url),
        };
        page_message(self.service.page(&body.app, request).await?)
    }
    build_page(&self, shown: Shown, body: pb::BuildPageRequest) -> pb::PageContent {
        let build = body.build.unwrap_or_default();
        let request = PageRequest {
            user_agent: body.user_agent,
            touch_hint: body.touch_hint,
            reader: shown.reader(&body.request_base_url),
            ..PageRequest::default()
        };
        let (app, platform, version) = (&build.app, &build.platform, &build.version);
        page_message(self.service.build_page(app, platform, version, request).await?)
    }

    // Install counts and protected apps.
    install_build(&self, shown: Shown, body: pb::BuildRef) -> pb::InstallTarget {
        let (app, platform, version) = (&body.app, &body.platform, &body.version);
        let url = self.service.install_build(app, platform, version, shown.reader("")).await?;
        pb::InstallTarget { url }
    }
    list_installs(&self, shown: Shown, body: pb::AppRef) -> pb::InstallList {
        let counts = self.service.list_installs(&body.app, shown.reader("")).await?;
        let builds = counts
            .into_iter()
            .map(|count| pb::InstallCount {
                platform: count.platform,
                version: count.version,
                installs: count.installs,
            })
            .collect();
        pb::InstallList { builds }
    }
    protect_app(&self, _: SecretKey, body: pb::ProtectAppRequest) -> pb::Done {
        self.service.protect_app(&body.app, &body.password).await?;
        done()
    }
    share_app(&self, _: SecretKey, body: pb::ShareAppRequest) -> pb::AccessGrant {
        let grant = self.service.share_app(&body.app, body.hours).await?;
        pb::AccessGrant { access: grant.access, expires_unix: grant.expires_unix }
    }
    unlock_app(&self, _: Public, body: pb::UnlockAppRequest) -> pb::AccessGrant {
        let grant = self.service.unlock_app(&body.app, &body.password).await?;
        pb::AccessGrant { access: grant.access, expires_unix: grant.expires_unix }
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
    stat_hosted_file(&self, shown: Shown, file: pb::HostedFileRef) -> pb::HostedFileInfo {
        let (app, platform, version) = (&file.app, &file.platform, &file.version);
        let reader = shown.reader("");
        let size = self.service.hosted_file_size(app, platform, version, &file.file, reader).await?;
        pb::HostedFileInfo { size }
    }
    read_hosted_file(&self, shown: Shown, body: pb::ReadHostedFileRequest) -> FileStream {
        let file = body.file.unwrap_or_default();
        let (app, platform, version) = (&file.app, &file.platform, &file.version);
        let range = body.offset..body.offset.saturating_add(body.length);
        let reader = shown.reader("");
        let read = self.service.read_hosted_file(app, platform, version, &file.file, range, reader);
        let chunks = read.await?.map(|chunk| {
            chunk
                .map(|data| pb::FileChunk { data: data.to_vec() })
                .map_err(|error| AppinhouseError::from(error).into())
        });
        Box::pin(chunks)
    }

    // The audit trail (issue 20).
    query_audit(
        &self,
        actor: common::auth::Actor,
        body: proto::audit::v1::AuditQuery,
    ) -> proto::audit::v1::AuditPage {
        common::audit_rpc::query(self.service.database(), &actor.claims, body).await?
    }
}
