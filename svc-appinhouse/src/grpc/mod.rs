//! Inbound gRPC adapter of svc-appinhouse: checks the `X-SecretKey` of writes (metadata
//! `x-secretkey`), translates proto ⇄ domain, and maps rule failures to statuses carrying the
//! appinhouse code. Nothing else.

use std::pin::Pin;

use common::time::to_unix_ms;
use futures::{Stream, StreamExt};
use proto::appinhouse::{
    AppinhouseCode, SECRET_KEY_METADATA_KEY,
    v1::{self as pb, appinhouse_service_server::AppinhouseService as AppinhouseApi},
};
use tonic::{Request, Response, Status, Streaming};

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

    fn check_secret<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let given = request
            .metadata()
            .get(SECRET_KEY_METADATA_KEY)
            .and_then(|value| value.to_str().ok());
        self.service.check_secret(given).map_err(Status::from)
    }
}

impl From<AppinhouseError> for Status {
    fn from(error: AppinhouseError) -> Status {
        let code = error.code();
        if code.number() < 0
            || matches!(
                code,
                AppinhouseCode::DatabaseError
                    | AppinhouseCode::DeleteFileError
                    | AppinhouseCode::PlistError
            )
        {
            tracing::error!(error = %error, code = code.number(), "appinhouse request failed");
        }
        code.status(error.to_string())
    }
}

fn done() -> Response<pb::Done> {
    Response::new(pb::Done { msg: String::new() })
}

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

type FileStream = Pin<Box<dyn Stream<Item = Result<pb::FileChunk, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl AppinhouseApi for AppinhouseGrpc {
    async fn create_app(
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

    async fn update_app(
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

    async fn delete_app(&self, request: Request<pb::AppRef>) -> Result<Response<pb::Done>, Status> {
        self.check_secret(&request)?;
        self.service.delete_app(&request.into_inner().app).await?;
        Ok(done())
    }

    async fn move_app(
        &self,
        request: Request<pb::MoveAppRequest>,
    ) -> Result<Response<pb::Done>, Status> {
        let body = request.into_inner();
        self.service.move_app(&body.app, &body.operation).await?;
        Ok(done())
    }

    async fn list_apps(
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

    async fn save_build(
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

    async fn save_extend(
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

    async fn last_builds(
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

    async fn mobile_last(
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

    async fn list_builds(
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

    async fn get_plist(
        &self,
        request: Request<pb::GetPlistRequest>,
    ) -> Result<Response<pb::PlistFile>, Status> {
        let body = request.into_inner();
        let extend = Some(body.extend_key.as_str()).filter(|key| !key.is_empty());
        let content = self.service.plist(&body.app, &body.version, extend).await?;
        Ok(Response::new(pb::PlistFile { content }))
    }

    async fn delete_old_builds(
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

    async fn app_page(
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

    async fn upload_build(
        &self,
        request: Request<Streaming<pb::UploadChunk>>,
    ) -> Result<Response<pb::UploadedBuild>, Status> {
        self.check_secret(&request)?;
        let mut stream = request.into_inner();
        let header = match stream.message().await? {
            Some(pb::UploadChunk {
                part: Some(pb::upload_chunk::Part::Header(header)),
            }) => header,
            _ => {
                return Err(AppinhouseCode::InvalidParameter
                    .status("an upload starts with its header (app, platform, file name)"));
            }
        };
        let mut upload = self
            .service
            .begin_upload(UploadHeader {
                app: header.app,
                platform: header.platform,
                file_name: header.file_name,
                request_base_url: header.request_base_url,
            })
            .await?;
        while let Some(chunk) = stream.message().await? {
            match chunk.part {
                Some(pb::upload_chunk::Part::Data(data)) => upload.write(&data).await?,
                Some(pb::upload_chunk::Part::Fields(fields)) => upload.add_fields(fields.fields),
                Some(pb::upload_chunk::Part::Header(_)) | None => {
                    return Err(
                        AppinhouseCode::InvalidParameter.status("an upload has one header, first")
                    );
                }
            }
        }
        let uploaded = self.service.finish_upload(upload).await?;
        Ok(Response::new(pb::UploadedBuild {
            platform: uploaded.platform.as_str().to_owned(),
            version: uploaded.version,
            software_url: uploaded.software_url,
            bundle_id: uploaded.metadata.bundle_id,
            title: uploaded.metadata.title,
            size: uploaded.size,
        }))
    }

    async fn stat_hosted_file(
        &self,
        request: Request<pb::HostedFileRef>,
    ) -> Result<Response<pb::HostedFileInfo>, Status> {
        let file = request.into_inner();
        let size = self
            .service
            .hosted_file_size(&file.app, &file.platform, &file.version, &file.file)
            .await?;
        Ok(Response::new(pb::HostedFileInfo { size }))
    }

    type ReadHostedFileStream = FileStream;

    async fn read_hosted_file(
        &self,
        request: Request<pb::ReadHostedFileRequest>,
    ) -> Result<Response<FileStream>, Status> {
        let body = request.into_inner();
        let file = body.file.unwrap_or_default();
        let end = body.offset.saturating_add(body.length);
        let stream = self
            .service
            .read_hosted_file(
                &file.app,
                &file.platform,
                &file.version,
                &file.file,
                body.offset..end,
            )
            .await?;
        let chunks = stream.map(|chunk| {
            chunk
                .map(|data| pb::FileChunk {
                    data: data.to_vec(),
                })
                .map_err(|error| AppinhouseError::from(error).into())
        });
        Ok(Response::new(Box::pin(chunks)))
    }
}
