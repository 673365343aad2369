//! Hosted build files: an upload's stream of chunks read into the rules' upload.

use proto::appinhouse::{AppinhouseCode, v1 as pb};
use tonic::{Status, Streaming};

use crate::service::{
    AppinhouseService,
    hosted::{UploadHeader, UploadedBuild},
};

/// Reads an upload: its header first (app, platform, file name), then data and field chunks.
pub(super) async fn receive_upload(
    service: &AppinhouseService,
    mut stream: Streaming<pb::UploadChunk>,
) -> Result<UploadedBuild, Status> {
    let header = match stream.message().await? {
        Some(pb::UploadChunk {
            part: Some(pb::upload_chunk::Part::Header(header)),
        }) => header,
        _ => {
            return Err(AppinhouseCode::InvalidParameter
                .status("an upload starts with its header (app, platform, file name)"));
        }
    };
    let mut upload = service
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
    Ok(service.finish_upload(upload).await?)
}
