//! Hosted build files: uploads and reads: proto ⇄ rules.

use proto::appinhouse::AppinhouseCode;

use super::{
    AppinhouseError, AppinhouseGrpc, FileStream, Public, SecretKey, Status, StreamExt, Streaming,
    UploadHeader, pb,
};

impl AppinhouseGrpc {
    pub(super) async fn upload_build(
        &self,
        _: SecretKey,
        mut stream: Streaming<pb::UploadChunk>,
    ) -> Result<pb::UploadedBuild, Status> {
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
        Ok(pb::UploadedBuild {
            platform: uploaded.platform.as_str().to_owned(),
            version: uploaded.version,
            software_url: uploaded.software_url,
            bundle_id: uploaded.metadata.bundle_id,
            title: uploaded.metadata.title,
            size: uploaded.size,
        })
    }

    pub(super) async fn stat_hosted_file(
        &self,
        _: Public,
        file: pb::HostedFileRef,
    ) -> Result<pb::HostedFileInfo, Status> {
        let size = self
            .service
            .hosted_file_size(&file.app, &file.platform, &file.version, &file.file)
            .await?;
        Ok(pb::HostedFileInfo { size })
    }

    pub(super) async fn read_hosted_file(
        &self,
        _: Public,
        body: pb::ReadHostedFileRequest,
    ) -> Result<FileStream, Status> {
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
        Ok(Box::pin(chunks))
    }
}
