//! Artifact routes: package sync (9), script and app-config uploads (5.11.1), component uploads,
//! script list / review permission / review / file text (5.11), the artifact filter (5.11.1),
//! components and methods (4.4) and the download route. Multipart bodies are forwarded to
//! svc-artifact as a client stream while they arrive (every file part is taken whatever its
//! field name); downloads stream back with `Content-Length`, `Range` and the md5 in a header.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::{
    HttpRequest, HttpResponse,
    http::{
        StatusCode,
        header::{self, HeaderValue},
    },
    web,
};
use futures::{SinkExt, StreamExt, channel::mpsc};
use proto::{
    ErrorReason,
    artifact::v1::{self as pb, upload_part::Part},
    resource::v1 as resource_pb,
};
use serde::Deserialize;

use super::{Answer, IdPath, ok, ok_each};
use crate::{
    body::{LegacyJson, gather},
    clients::{Call, reply},
    convert::artifact::{
        ComponentItem, ConfigureFile, ConfigureVersion, ConfigureVersions, FileText, RangeRequest,
        SyncedFile, parse_range,
    },
    convert::catalog::IdName,
    error::ApiError,
};

/// Largest upload the gateway forwards (`TAD_ARTIFACT_MAX_UPLOAD_BYTES`), shared with workers.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimit(pub u64);

/// Largest text field of a multipart form.
const MAX_FIELD_BYTES: usize = 64 * 1024;
/// Bytes gathered into one upload message.
const UPLOAD_MESSAGE_BYTES: usize = 512 * 1024;
/// Header carrying the md5 of a downloaded file (whole file, hex).
pub const MD5_HEADER: &str = "x-checksum-md5";

/// `scheme://host` of the request, for the absolute download paths the legacy answers carry.
pub(crate) fn base_url(request: &HttpRequest) -> String {
    let info = request.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        ErrorReason::PayloadTooLarge,
        format!("upload is larger than the limit of {limit} bytes"),
    )
}

fn part(part: Part) -> pb::UploadPart {
    pb::UploadPart { part: Some(part) }
}

/// Reads the multipart body into `sender` as upload parts; stops at the first problem.
async fn pump(
    mut multipart: Multipart,
    mut sender: mpsc::Sender<pb::UploadPart>,
    limit: u64,
) -> Result<(), ApiError> {
    let mut total = 0_u64;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|error| {
            ApiError::new(
                ErrorReason::InvalidField,
                format!("multipart body cannot be read: {error}"),
            )
        })?;
        let disposition = field.content_disposition().cloned();
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = disposition
            .as_ref()
            .and_then(|disposition| disposition.get_filename())
            .map(str::to_owned);
        match file_name {
            Some(file_name) => {
                if sender.send(part(Part::FileName(file_name))).await.is_err() {
                    return Ok(());
                }
                let mut buffer = web::BytesMut::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(|error| {
                        ApiError::new(
                            ErrorReason::InvalidField,
                            format!("file part {name:?} cannot be read: {error}"),
                        )
                    })?;
                    total += chunk.len() as u64;
                    if total > limit {
                        return Err(too_large(limit));
                    }
                    buffer.extend_from_slice(&chunk);
                    if buffer.len() >= UPLOAD_MESSAGE_BYTES {
                        let data = buffer.split().freeze();
                        if sender.send(part(Part::Data(data))).await.is_err() {
                            return Ok(());
                        }
                    }
                }
                if !buffer.is_empty()
                    && sender
                        .send(part(Part::Data(buffer.freeze())))
                        .await
                        .is_err()
                {
                    return Ok(());
                }
            }
            None => {
                let unreadable = |error: actix_multipart::MultipartError| {
                    ApiError::new(
                        ErrorReason::InvalidField,
                        format!("field {name:?} cannot be read: {error}"),
                    )
                };
                let too_long = || {
                    ApiError::new(
                        ErrorReason::InvalidField,
                        format!("field {name:?} is longer than {MAX_FIELD_BYTES} bytes"),
                    )
                };
                let value = gather(&mut field, MAX_FIELD_BYTES, unreadable, too_long).await?;
                let value = String::from_utf8(value.to_vec()).map_err(|_| {
                    ApiError::new(
                        ErrorReason::InvalidField,
                        format!("field {name:?} is not UTF-8 text"),
                    )
                })?;
                if sender
                    .send(part(Part::Field(pb::Field { name, value })))
                    .await
                    .is_err()
                {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Streams a multipart upload of `kind` (with `fields` first) to svc-artifact.
async fn upload(
    request: &HttpRequest,
    call: &Call,
    kind: pb::UploadKind,
    fields: Vec<(String, String)>,
    multipart: Multipart,
) -> Result<pb::UploadResponse, ApiError> {
    let limit = request
        .app_data::<web::Data<UploadLimit>>()
        .map(|limit| limit.0)
        .unwrap_or(u64::MAX);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit.saturating_add(MAX_FIELD_BYTES as u64 * 4)) {
        return Err(too_large(limit));
    }
    let (sender, receiver) = mpsc::channel::<pb::UploadPart>(4);
    let mut head = vec![part(Part::Kind(kind as i32))];
    head.extend(
        fields
            .into_iter()
            .map(|(name, value)| part(Part::Field(pb::Field { name, value }))),
    );
    let parts = futures::stream::iter(head).chain(receiver);
    let mut client = call.artifact();
    let call = client.upload(parts);
    let (pumped, answer) = futures::join!(pump(multipart, sender, limit), call);
    // A failure reading the body wins: the service saw a cut stream because of it.
    pumped?;
    Ok(answer?.into_inner())
}

/// Streams an upload of `kind` (no fields) and answers the stored files, each made by `to_item`.
async fn upload_listing<T: serde::Serialize>(
    request: &HttpRequest,
    call: &Call,
    kind: pb::UploadKind,
    multipart: Multipart,
    to_item: impl Fn(pb::StoredFile, &str) -> T,
) -> Answer {
    let answer = upload(request, call, kind, Vec::new(), multipart).await?;
    let base = base_url(request);
    ok_each(answer.files, |file| to_item(file, &base))
}

/// Streams an upload of `kind` (with `fields` first) that stores one file (`what` names the
/// upload when the service answers none) and answers that file.
async fn upload_one(
    request: &HttpRequest,
    call: &Call,
    kind: pb::UploadKind,
    fields: Vec<(String, String)>,
    multipart: Multipart,
    what: &str,
) -> Answer {
    let answer = upload(request, call, kind, fields, multipart).await?;
    let file = answer.files.into_iter().next().ok_or_else(|| {
        ApiError::new(
            ErrorReason::InternalError,
            format!("{what} answered no file"),
        )
    })?;
    ok(SyncedFile::from_proto(file, &base_url(request)))
}

/// 9 `POST /api/artifact/version/aos?app_id=&version=&username=&name=&md5=`.
pub async fn package_sync(
    request: HttpRequest,
    call: Call,
    query: web::Query<HashMap<String, String>>,
    multipart: Multipart,
) -> Answer {
    let fields = ["app_id", "name", "version", "md5", "username"]
        .into_iter()
        .filter_map(|key| query.get(key).map(|value| (key.to_owned(), value.clone())))
        .collect();
    let kind = pb::UploadKind::PackageSync;
    upload_one(&request, &call, kind, fields, multipart, "package sync").await
}

/// 5.11.1 `POST /api/artifact/script/aos_upload`.
pub async fn script_upload(request: HttpRequest, call: Call, multipart: Multipart) -> Answer {
    let kind = pb::UploadKind::Script;
    upload_listing(&request, &call, kind, multipart, SyncedFile::from_proto).await
}

/// 5.11.1 `POST /api/artifact/configure/aos_upload`.
pub async fn configure_upload(request: HttpRequest, call: Call, multipart: Multipart) -> Answer {
    let kind = pb::UploadKind::Configure;
    upload_listing(&request, &call, kind, multipart, ConfigureFile::from_proto).await
}

/// `POST /api/component/upload`: a method package (multipart field `file`).
pub async fn component_upload(request: HttpRequest, call: Call, multipart: Multipart) -> Answer {
    let kind = pb::UploadKind::Component;
    upload_one(
        &request,
        &call,
        kind,
        Vec::new(),
        multipart,
        "component upload",
    )
    .await
}

/// 4.4 `GET /api/component/select`.
pub async fn component_select(request: HttpRequest, call: Call) -> Answer {
    let message = pb::ListComponentsRequest {};
    let answer = reply(call.artifact().list_components(message)).await?;
    let base = base_url(&request);
    ok_each(answer.components, |component| {
        ComponentItem::from_proto(component, &base)
    })
}

#[derive(Debug, Deserialize)]
pub struct ScriptListQuery {
    #[serde(default)]
    application_id: String,
    #[serde(default)]
    name: String,
}

/// 5.11.1 `GET /api/script/index/aos_list?application_id=&name=`.
pub async fn script_list(call: Call, query: web::Query<ScriptListQuery>) -> Answer {
    let query = query.into_inner();
    let request = pb::ListScriptsRequest {
        app_id: query.application_id,
        name: query.name,
    };
    let answer = reply(call.artifact().list_scripts(request)).await?;
    ok_each(answer.scripts, IdName::from)
}

/// 5.11.2 `GET /api/script/index/urole_script`.
pub async fn may_review(call: Call) -> Answer {
    let request = pb::MayReviewRequest {};
    let answer = reply(call.artifact().may_review(request)).await?;
    ok(answer.may_review)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReviewBody {
    #[serde(default)]
    method_id: Option<String>,
    status: String,
}

/// 5.11.3 `POST /api/script/index/examine/{id}`.
pub async fn review(call: Call, id: IdPath, body: LegacyJson<ReviewBody>) -> Answer {
    let body = body.0;
    let request = pb::ReviewScriptRequest {
        id: id.into_inner(),
        method_id: body.method_id.unwrap_or_default(),
        status: body.status,
    };
    let answer = reply(call.artifact().review_script(request)).await?;
    ok(IdName::from(answer))
}

/// 5.11.4 `GET /api/script/index/detail_data/filedata/{id}`.
pub async fn file_text(call: Call, id: IdPath) -> Answer {
    let answer = reply(call.artifact().script_file_text(pb::FileRequest {
        id: id.into_inner(),
    }))
    .await?;
    ok(FileText {
        file_data: answer.file_data,
    })
}

#[derive(Debug, Deserialize)]
pub struct FilterQuery {
    #[serde(default)]
    product_line_id: String,
    #[serde(default)]
    application_id: String,
    #[serde(default, rename = "type")]
    kind: String,
}

/// 5.11.1 `GET /api/artifact/filter/name/aos?product_line_id=&application_id=&type=`.
pub async fn artifact_filter(call: Call, query: web::Query<FilterQuery>) -> Answer {
    let query = query.into_inner();
    let (app_ids, all_apps) = if !query.application_id.trim().is_empty() {
        (vec![query.application_id.trim().to_owned()], false)
    } else if !query.product_line_id.trim().is_empty() {
        let applications = reply(call.resource().list_applications(
            resource_pb::ListApplicationsRequest {
                product_line_id: Some(query.product_line_id.trim().to_owned()),
            },
        ))
        .await?;
        (
            applications
                .applications
                .into_iter()
                .map(|application| application.id)
                .collect(),
            false,
        )
    } else {
        (Vec::new(), true)
    };
    let request = pb::FilterArtifactsRequest {
        app_ids,
        all_apps,
        r#type: query.kind.trim().to_owned(),
    };
    let answer = reply(call.artifact().filter_artifacts(request)).await?;
    ok_each(answer.artifacts, IdName::from)
}

/// `GET /api/artifact/configure/{id}/versions` (beyond the contract): the versions of an
/// app-config template (an id of the 5.11.1 `type=configure` list), newest first, each with the
/// `file_id` of its `.j2`, which 5.6.2.3 binds (as it binds the template id: its newest `.j2`).
pub async fn template_versions(request: HttpRequest, call: Call, id: IdPath) -> Answer {
    let message = pb::FileRequest {
        id: id.into_inner(),
    };
    let answer = reply(call.artifact().template_versions(message)).await?;
    let artifact = answer.artifact.unwrap_or_default();
    let base = base_url(&request);
    let versions: Vec<ConfigureVersion> = answer
        .versions
        .into_iter()
        .map(|version| {
            let j2 = version.j2.unwrap_or_default();
            ConfigureVersion {
                create_time: call.times.render_unix_ms(version.create_time_ms),
                creator: version.creator,
                download_path: crate::convert::artifact::download_path(&base, &j2.id),
                file_id: j2.id,
                filename: j2.name,
                md5: j2.md5,
                targetname: version.target_name,
                version: version.version,
                version_id: version.version_id,
                yml_file_id: version.yml_file_id,
            }
        })
        .collect();
    ok(ConfigureVersions {
        app_id: artifact.app_id,
        id: artifact.id,
        name: artifact.name,
        versions,
    })
}

/// `GET /api/artifact/files/{id}/download`: streams the file; `Range` answers 206.
pub async fn download(request: HttpRequest, call: Call, id: IdPath) -> Answer {
    let id = id.into_inner();
    let mut client = call.artifact();
    let file = reply(client.get_file(pb::FileRequest { id: id.clone() })).await?;
    let range_header = request
        .headers()
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok());
    let (status, start, end) = match parse_range(range_header, file.size) {
        RangeRequest::Whole => (StatusCode::OK, 0, file.size),
        RangeRequest::Partial { start, end } => (StatusCode::PARTIAL_CONTENT, start, end),
        RangeRequest::Unsatisfiable => {
            let error = ApiError::new(
                ErrorReason::RangeNotSatisfiable,
                format!(
                    "range {:?} is outside file {id:?} of {} bytes",
                    range_header.unwrap_or_default(),
                    file.size
                ),
            );
            let mut response = actix_web::ResponseError::error_response(&error);
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{}", file.size)) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
    };
    let length = end - start;
    let mut builder = HttpResponse::build(status);
    builder
        .content_type("application/octet-stream")
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((MD5_HEADER, file.md5.clone()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            header::ContentDisposition::attachment(file.name.clone()),
        ));
    if status == StatusCode::PARTIAL_CONTENT {
        builder.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{}", end - 1, file.size),
        ));
    }
    if length == 0 {
        return Ok(builder.body(Vec::<u8>::new()));
    }
    let request_message = pb::DownloadRequest {
        id,
        has_range: status == StatusCode::PARTIAL_CONTENT,
        start,
        end,
    };
    let stream = reply(client.download(request_message)).await?;
    let body = stream.filter_map(|message| async move {
        match message {
            Ok(pb::DownloadChunk {
                chunk: Some(pb::download_chunk::Chunk::Data(bytes)),
            }) => Some(Ok::<_, actix_web::Error>(bytes)),
            Ok(_) => None,
            Err(status) => {
                tracing::error!(error = %status.message(), "download broke off");
                Some(Err(actix_web::error::ErrorInternalServerError(
                    status.message().to_owned(),
                )))
            }
        }
    });
    Ok(builder.no_chunking(length).streaming(body))
}
