//! Inbound gRPC adapter of svc-appinhouse: checks the `X-SecretKey` of writes (metadata
//! `x-secretkey`), translates proto ⇄ domain in one file per area, and maps rule failures to
//! statuses carrying the appinhouse code (`error`). Nothing else.

mod apps;
mod builds;
mod error;
mod hosted;

use std::pin::Pin;

use common::{
    doorway::{FromCall, Public},
    time::to_unix_ms,
};
use futures::{Stream, StreamExt};
use proto::appinhouse::{
    SECRET_KEY_METADATA_KEY,
    v1::{self as pb, appinhouse_service_server::AppinhouseService as AppinhouseApi},
};
use tonic::{Request, Status, Streaming};

use crate::service::{
    AppinhouseError, AppinhouseService, Fields,
    builds::BuildView,
    hosted::UploadHeader,
    platform::{Platform, detect},
};

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

fn done() -> pb::Done {
    pb::Done { msg: String::new() }
}

type FileStream = Pin<Box<dyn Stream<Item = Result<pb::FileChunk, Status>> + Send + 'static>>;

common::grpc_api! {
    impl AppinhouseApi for AppinhouseGrpc {
        type ReadHostedFileStream = FileStream;
    }
    create_app(pb::SaveAppRequest) -> pb::Done;
    update_app(pb::SaveAppRequest) -> pb::Done;
    delete_app(pb::AppRef) -> pb::Done;
    move_app(pb::MoveAppRequest) -> pb::Done;
    list_apps(pb::PageRequest) -> pb::AppList;
    save_build(pb::SaveBuildRequest) -> pb::Done;
    save_extend(pb::SaveExtendRequest) -> pb::Done;
    last_builds(pb::LastBuildsRequest) -> pb::BuildList;
    mobile_last(pb::MobileRequest) -> pb::BuildList;
    list_builds(pb::ListBuildsRequest) -> pb::BuildList;
    get_plist(pb::GetPlistRequest) -> pb::PlistFile;
    delete_old_builds(pb::DeleteOldBuildsRequest) -> pb::Done;
    app_page(pb::MobileRequest) -> pb::PageContent;
    upload_build(Streaming<pb::UploadChunk>) -> pb::UploadedBuild;
    stat_hosted_file(pb::HostedFileRef) -> pb::HostedFileInfo;
    read_hosted_file(pb::ReadHostedFileRequest) -> FileStream;
}
