//! Handlers of the appinhouse contract (`/api/v2/...`) and the hosted-build upload: decode the
//! form / query / multipart request, call svc-appinhouse over gRPC (forwarding `X-SecretKey`,
//! the grant of a protected app and the trace context), encode the `{code,msg,...}` answer. No
//! rules live here. Downloads are in `appinhouse_files`, the pages in `appinhouse_pages`.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::{
    HttpMessage, HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use futures::TryStreamExt;
use proto::appinhouse::{ACCESS_METADATA_KEY, AppinhouseCode, SECRET_KEY_METADATA_KEY, v1 as pb};
use serde_json::{Map, Value, json};
use tonic::metadata::MetadataValue;

use crate::{
    body::{BodyLimit, DEFAULT_MAX_BODY_BYTES, gather},
    clients::{Clients, reply},
    convert::appinhouse::{Failure, base_url, items, parse_time_offset, success},
};

/// Bytes per gRPC message of an upload.
const UPLOAD_CHUNK_BYTES: usize = 256 * 1024;

type Answer = Result<HttpResponse, Failure>;

impl std::fmt::Display for Failure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} {}", self.code.number(), self.msg)
    }
}

impl actix_web::ResponseError for Failure {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::OK)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code()).json(self.body());
        if let Some(refusal) = refusal_name(self.code) {
            response
                .extensions_mut()
                .insert(crate::error::RefusalMark(refusal));
        }
        response
    }
}

/// The audit trail's reason for a refused appinhouse write (none for a server fault).
fn refusal_name(code: AppinhouseCode) -> Option<&'static str> {
    Some(match code {
        AppinhouseCode::SystemError
        | AppinhouseCode::UnknownError
        | AppinhouseCode::DatabaseError
        | AppinhouseCode::DeleteFileError => return None,
        AppinhouseCode::InvalidParameter => "invalid_parameter",
        AppinhouseCode::PageOutOfRange => "page_out_of_range",
        AppinhouseCode::PlistError => "plist_error",
        AppinhouseCode::ArchiveMissing => "archive_missing",
        AppinhouseCode::TimeFormat => "time_format",
        AppinhouseCode::AppNotFound => "app_not_found",
        AppinhouseCode::AppExists => "app_exists",
        AppinhouseCode::SecretKey => "secret_key",
    })
}

pub(super) fn ok(extra: Map<String, Value>) -> HttpResponse {
    HttpResponse::Ok().json(success(extra))
}

pub(super) fn query_map(request: &HttpRequest) -> HashMap<String, String> {
    form_urlencoded::parse(request.query_string().as_bytes())
        .into_owned()
        .collect()
}

pub(super) fn secret_request<T>(message: T, request: &HttpRequest) -> tonic::Request<T> {
    let mut grpc = tonic::Request::new(message);
    if let Some(value) = request
        .headers()
        .get("x-secretkey")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| MetadataValue::try_from(value).ok())
    {
        grpc.metadata_mut().insert(SECRET_KEY_METADATA_KEY, value);
    }
    grpc
}

/// Name prefix of the cookie that keeps the grant to a protected app (`tad_access_APP`).
pub(super) const ACCESS_COOKIE_PREFIX: &str = "tad_access_";
/// Longest grant read from a request.
const MAX_ACCESS_BYTES: usize = 96;

/// The value of the cookie `name`, if the request has it.
pub(super) fn cookie(request: &HttpRequest, name: &str) -> Option<String> {
    crate::cookies::cookie_value(request.headers(), name)
}

/// The grant a reader shows for the protected `app`: `?access=`, else the page's cookie.
pub(super) fn access_of(request: &HttpRequest, app: &str) -> Option<String> {
    query_map(request)
        .remove("access")
        .or_else(|| cookie(request, &format!("{ACCESS_COOKIE_PREFIX}{app}")))
        .filter(|access| !access.is_empty() && access.len() <= MAX_ACCESS_BYTES)
}

/// A read of `app`: forwards `X-SecretKey` and the grant the reader shows.
pub(crate) fn reader_request<T>(message: T, request: &HttpRequest, app: &str) -> tonic::Request<T> {
    let mut grpc = secret_request(message, request);
    if let Some(value) =
        access_of(request, app).and_then(|access| MetadataValue::try_from(access).ok())
    {
        grpc.metadata_mut().insert(ACCESS_METADATA_KEY, value);
    }
    grpc
}

pub(crate) fn request_base(request: &HttpRequest) -> String {
    let info = request.connection_info();
    base_url(info.scheme(), info.host())
}

pub(super) fn user_agent(request: &HttpRequest) -> String {
    request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The browser reported a touch screen: `touch=1` in the query or the cookie the page sets.
pub(super) fn touch_hint(request: &HttpRequest, query: &HashMap<String, String>) -> bool {
    let flag = |value: &str| matches!(value, "1" | "true");
    query.get("touch").is_some_and(|value| flag(value))
        || cookie(request, "touch").is_some_and(|value| flag(&value))
}

fn multipart_failure(error: actix_multipart::MultipartError) -> Failure {
    Failure::new(
        AppinhouseCode::InvalidParameter,
        format!("multipart body: {error}"),
    )
}

/// The longest text part of a multipart form.
const MAX_FORM_FIELD_BYTES: usize = 64 * 1024;

/// The text of a multipart text part named `name`, up to `MAX_FORM_FIELD_BYTES`.
async fn multipart_text(field: &mut actix_multipart::Field, name: &str) -> Result<String, Failure> {
    let too_long = || {
        Failure::new(
            AppinhouseCode::InvalidParameter,
            format!("form field {name:?} is too long"),
        )
    };
    let value = gather(field, MAX_FORM_FIELD_BYTES, multipart_failure, too_long).await?;
    Ok(String::from_utf8_lossy(&value).into_owned())
}

/// Query parameters and the form body (body wins): `application/x-www-form-urlencoded` read up to
/// the body limit, or `multipart/form-data` (`curl -F`), whose text parts are the fields and whose
/// file parts are ignored, as the original server's form reading did.
pub(super) async fn form_fields(
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<HashMap<String, String>, Failure> {
    let mut fields = query_map(request);
    let limit = request
        .app_data::<web::Data<BodyLimit>>()
        .map(|limit| limit.0)
        .unwrap_or(DEFAULT_MAX_BODY_BYTES);
    let too_large = || {
        Failure::new(
            AppinhouseCode::InvalidParameter,
            format!("request body is larger than the limit of {limit} bytes"),
        )
    };
    if request
        .content_type()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        let mut parts = Multipart::new(request.headers(), payload);
        let mut read = 0;
        while let Some(mut field) = parts.try_next().await.map_err(multipart_failure)? {
            let is_file = field
                .content_disposition()
                .is_some_and(|disposition| disposition.get_filename().is_some());
            let name = field.name().unwrap_or_default().to_owned();
            if is_file || name.is_empty() {
                while let Some(bytes) = field.try_next().await.map_err(multipart_failure)? {
                    read += bytes.len();
                    if read > limit {
                        return Err(too_large());
                    }
                }
                continue;
            }
            let value = multipart_text(&mut field, &name).await?;
            read += value.len();
            if read > limit {
                return Err(too_large());
            }
            fields.insert(name, value);
        }
        return Ok(fields);
    }
    let unreadable = |error: actix_web::error::PayloadError| {
        Failure::new(
            AppinhouseCode::InvalidParameter,
            format!("request body could not be read: {error}"),
        )
    };
    let body = gather(payload, limit, unreadable, too_large).await?;
    fields.extend(form_urlencoded::parse(&body).into_owned());
    Ok(fields)
}

/// The message of create and update: `description` and `alias` from the form.
async fn save_app_message(
    request: &HttpRequest,
    payload: web::Payload,
    app: String,
) -> Result<pb::SaveAppRequest, Failure> {
    let mut fields = form_fields(request, payload).await?;
    Ok(pb::SaveAppRequest {
        app,
        description: fields.remove("description"),
        alias: fields.remove("alias"),
    })
}

/// `POST /api/v2/{app}/create`.
pub async fn create_app(
    request: HttpRequest,
    payload: web::Payload,
    clients: web::Data<Clients>,
    app: web::Path<String>,
) -> Answer {
    let message = save_app_message(&request, payload, app.into_inner()).await?;
    clients
        .appinhouse()
        .create_app(secret_request(message, &request))
        .await?;
    Ok(ok(Map::new()))
}

/// `POST /api/v2/{app}/update`.
pub async fn update_app(
    request: HttpRequest,
    payload: web::Payload,
    clients: web::Data<Clients>,
    app: web::Path<String>,
) -> Answer {
    let message = save_app_message(&request, payload, app.into_inner()).await?;
    clients
        .appinhouse()
        .update_app(secret_request(message, &request))
        .await?;
    Ok(ok(Map::new()))
}

/// `DELETE /api/v2/{app}/delete`.
pub async fn delete_app(
    request: HttpRequest,
    clients: web::Data<Clients>,
    app: web::Path<String>,
) -> Answer {
    let message = pb::AppRef {
        app: app.into_inner(),
    };
    clients
        .appinhouse()
        .delete_app(secret_request(message, &request))
        .await?;
    Ok(ok(Map::new()))
}

/// `POST /api/v2/move/{app}/{sort_operation}`.
pub async fn move_app(clients: web::Data<Clients>, path: web::Path<(String, String)>) -> Answer {
    let (app, operation) = path.into_inner();
    let request = pb::MoveAppRequest { app, operation };
    reply(clients.appinhouse().move_app(request)).await?;
    Ok(ok(Map::new()))
}

/// `GET /api/v2/apps`.
pub async fn list_apps(request: HttpRequest, clients: web::Data<Clients>) -> Answer {
    let page = query_map(&request).remove("page");
    let answer = reply(clients.appinhouse().list_apps(pb::PageRequest { page })).await?;
    let mut extra = Map::new();
    extra.insert("items".to_owned(), json!(answer.apps));
    extra.insert("page".to_owned(), json!(answer.page));
    extra.insert("total_page".to_owned(), json!(answer.total_page));
    Ok(ok(extra))
}

/// `POST /api/v2/{app}/desc/{platform}`.
pub async fn save_build(
    request: HttpRequest,
    payload: web::Payload,
    clients: web::Data<Clients>,
    path: web::Path<(String, String)>,
) -> Answer {
    let (app, platform) = path.into_inner();
    let fields = form_fields(&request, payload).await?;
    let message = pb::SaveBuildRequest {
        app,
        platform,
        fields,
        request_base_url: request_base(&request),
    };
    clients
        .appinhouse()
        .save_build(secret_request(message, &request))
        .await?;
    Ok(ok(Map::new()))
}

/// `POST /api/v2/{app}/extenddesc/{platform}`.
pub async fn save_extend(
    request: HttpRequest,
    payload: web::Payload,
    clients: web::Data<Clients>,
    path: web::Path<(String, String)>,
) -> Answer {
    let (app, platform) = path.into_inner();
    let fields = form_fields(&request, payload).await?;
    let message = pb::SaveExtendRequest {
        app,
        platform,
        fields,
        request_base_url: request_base(&request),
    };
    clients
        .appinhouse()
        .save_extend(secret_request(message, &request))
        .await?;
    Ok(ok(Map::new()))
}

fn builds_answer(list: pb::BuildList, time_offset: Option<i32>, paged: bool) -> HttpResponse {
    let mut extra = Map::new();
    extra.insert("items".to_owned(), items(list.builds, time_offset));
    if paged {
        extra.insert("page".to_owned(), json!(list.page));
        extra.insert("total_page".to_owned(), json!(list.total_page));
    }
    ok(extra)
}

/// `GET /api/v2/{app}/last`.
pub async fn last_builds(
    request: HttpRequest,
    clients: web::Data<Clients>,
    app: web::Path<String>,
) -> Answer {
    let query = query_map(&request);
    let time_offset = parse_time_offset(query.get("time_offset").map(String::as_str))?;
    let app = app.into_inner();
    let message = pb::LastBuildsRequest {
        app: app.clone(),
        request_base_url: request_base(&request),
    };
    let call = reader_request(message, &request, &app);
    let list = reply(clients.appinhouse().last_builds(call)).await?;
    Ok(builds_answer(list, time_offset, false))
}

/// `GET /api/v2/{app}/mobile/last`.
pub async fn mobile_last(
    request: HttpRequest,
    clients: web::Data<Clients>,
    app: web::Path<String>,
) -> Answer {
    let query = query_map(&request);
    let time_offset = parse_time_offset(query.get("time_offset").map(String::as_str))?;
    let app = app.into_inner();
    let message = pb::MobileRequest {
        app: app.clone(),
        user_agent: user_agent(&request),
        touch_hint: touch_hint(&request, &query),
        request_base_url: request_base(&request),
        ..pb::MobileRequest::default()
    };
    let call = reader_request(message, &request, &app);
    let list = reply(clients.appinhouse().mobile_last(call)).await?;
    Ok(builds_answer(list, time_offset, false))
}

async fn list(request: &HttpRequest, clients: &Clients, app: String, platform: String) -> Answer {
    let query = query_map(request);
    let time_offset = parse_time_offset(query.get("time_offset").map(String::as_str))?;
    let message = pb::ListBuildsRequest {
        app: app.clone(),
        platform,
        user_agent: user_agent(request),
        touch_hint: touch_hint(request, &query),
        page: query.get("page").cloned(),
        request_base_url: request_base(request),
    };
    let call = reader_request(message, request, &app);
    let list = reply(clients.appinhouse().list_builds(call)).await?;
    Ok(builds_answer(list, time_offset, true))
}

/// `GET /api/v2/{app}/mobile/list`.
pub async fn mobile_list(
    request: HttpRequest,
    clients: web::Data<Clients>,
    app: web::Path<String>,
) -> Answer {
    list(&request, &clients, app.into_inner(), String::new()).await
}

/// `GET /api/v2/{app}/list/{platform}`.
pub async fn list_builds(
    request: HttpRequest,
    clients: web::Data<Clients>,
    path: web::Path<(String, String)>,
) -> Answer {
    let (app, platform) = path.into_inner();
    list(&request, &clients, app, platform).await
}

/// `GET /api/v2/{app}/plist/{version}.plist` (`application/x-plist`).
pub async fn plist(
    request: HttpRequest,
    clients: web::Data<Clients>,
    path: web::Path<(String, String)>,
) -> Answer {
    let (app, version) = path.into_inner();
    let extend_key = query_map(&request).remove("extend").unwrap_or_default();
    let message = pb::GetPlistRequest {
        app: app.clone(),
        version,
        extend_key,
        request_base_url: request_base(&request),
    };
    let call = reader_request(message, &request, &app);
    let file = reply(clients.appinhouse().get_plist(call)).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/x-plist")
        .body(file.content))
}

/// `DELETE /api/v2/{app}/delete/{platform}?residue=N`.
pub async fn delete_old_builds(
    request: HttpRequest,
    payload: web::Payload,
    clients: web::Data<Clients>,
    path: web::Path<(String, String)>,
) -> Answer {
    let (app, platform) = path.into_inner();
    let mut fields = form_fields(&request, payload).await?;
    let message = pb::DeleteOldBuildsRequest {
        app,
        platform,
        residue: fields.remove("residue"),
    };
    clients
        .appinhouse()
        .delete_old_builds(secret_request(message, &request))
        .await?;
    Ok(ok(Map::new()))
}

fn chunk(part: pb::upload_chunk::Part) -> pb::UploadChunk {
    pb::UploadChunk { part: Some(part) }
}

/// `POST /api/v2/{app}/archive/{platform}` (multipart, X-SecretKey): streams the first file part
/// to the service; text parts and query parameters are the build's fields.
pub async fn upload_build(
    request: HttpRequest,
    mut multipart: Multipart,
    clients: web::Data<Clients>,
    path: web::Path<(String, String)>,
) -> Answer {
    let (app, platform) = path.into_inner();
    let (sender, receiver) = tokio::sync::mpsc::channel::<pb::UploadChunk>(8);
    let grpc = secret_request(
        tokio_stream::wrappers::ReceiverStream::new(receiver),
        &request,
    );
    let mut client = clients.appinhouse();
    let call = client.upload_build(grpc);
    let header = pb::UploadHeader {
        app,
        platform,
        file_name: String::new(),
        request_base_url: request_base(&request),
    };
    let mut pending_fields = query_map(&request);
    let feed = async move {
        let mut started = false;
        while let Some(mut field) = multipart.try_next().await.map_err(multipart_failure)? {
            let disposition = field.content_disposition().cloned();
            let file_name = disposition
                .as_ref()
                .and_then(|disposition| disposition.get_filename())
                .map(str::to_owned);
            let name = disposition
                .as_ref()
                .and_then(|disposition| disposition.get_name())
                .unwrap_or_default()
                .to_owned();
            match file_name {
                Some(file_name) if !started => {
                    started = true;
                    let header = pb::UploadHeader {
                        file_name,
                        ..header.clone()
                    };
                    let mut messages = vec![chunk(pb::upload_chunk::Part::Header(header))];
                    if !pending_fields.is_empty() {
                        messages.push(chunk(pb::upload_chunk::Part::Fields(pb::UploadFields {
                            fields: std::mem::take(&mut pending_fields),
                        })));
                    }
                    for message in messages {
                        if sender.send(message).await.is_err() {
                            return Ok(());
                        }
                    }
                    let mut buffer = Vec::with_capacity(UPLOAD_CHUNK_BYTES);
                    while let Some(bytes) = field.try_next().await.map_err(multipart_failure)? {
                        buffer.extend_from_slice(&bytes);
                        if buffer.len() >= UPLOAD_CHUNK_BYTES {
                            let data = std::mem::replace(
                                &mut buffer,
                                Vec::with_capacity(UPLOAD_CHUNK_BYTES),
                            );
                            if sender
                                .send(chunk(pb::upload_chunk::Part::Data(data)))
                                .await
                                .is_err()
                            {
                                return Ok(());
                            }
                        }
                    }
                    if !buffer.is_empty()
                        && sender
                            .send(chunk(pb::upload_chunk::Part::Data(buffer)))
                            .await
                            .is_err()
                    {
                        return Ok(());
                    }
                }
                Some(_) => {
                    // Only the first file is a build; drain the others.
                    while field.try_next().await.ok().flatten().is_some() {}
                }
                None => {
                    let value = multipart_text(&mut field, &name).await?;
                    if started {
                        let fields = HashMap::from([(name, value)]);
                        if sender
                            .send(chunk(pb::upload_chunk::Part::Fields(pb::UploadFields {
                                fields,
                            })))
                            .await
                            .is_err()
                        {
                            return Ok(());
                        }
                    } else {
                        pending_fields.insert(name, value);
                    }
                }
            }
        }
        Ok::<(), Failure>(())
    };
    let (answer, fed) = futures::join!(call, feed);
    // A refused key wins over a broken body; a broken body over what the service made of it.
    let uploaded = match (answer, fed) {
        (Err(status), _) if AppinhouseCode::of_status(&status) == AppinhouseCode::SecretKey => {
            return Err(status.into());
        }
        (_, Err(failure)) => return Err(failure),
        (answer, Ok(())) => answer?.into_inner(),
    };
    let mut extra = Map::new();
    extra.insert(
        "item".to_owned(),
        json!({
            "platform": uploaded.platform,
            "version": uploaded.version,
            "down": uploaded.software_url,
            "bundle_id": uploaded.bundle_id,
            "title": uploaded.title,
            "size": uploaded.size,
        }),
    );
    Ok(ok(extra))
}
