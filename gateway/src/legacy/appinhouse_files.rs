//! Downloads of hosted builds and their icons, `GET /download/{app}/{platform}/{version}/{file}`:
//! one `bytes=` range or the whole file, streamed from svc-appinhouse (which counts a download
//! from the first byte as an install, and asks a grant for a protected app's files).

use actix_web::{
    HttpRequest, HttpResponse,
    http::{
        StatusCode,
        header::{self, HeaderValue},
    },
    web,
};
use futures::TryStreamExt;
use proto::appinhouse::{AppinhouseCode, v1 as pb};

use super::appinhouse::reader_request;
use crate::{clients::Clients, convert::appinhouse::Failure};

/// A `Range` header that cannot be satisfied (answered 416).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsatisfiableRange;

/// One `bytes=` range of a file of `size` bytes: `Ok(None)` for the whole file, `Err` when it
/// cannot be satisfied.
pub fn parse_range(
    header: Option<&str>,
    size: u64,
) -> Result<Option<(u64, u64)>, UnsatisfiableRange> {
    let Some(spec) = header.and_then(|value| value.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (start, end) = spec.split_once('-').ok_or(UnsatisfiableRange)?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let suffix: u64 = suffix.parse().map_err(|_| UnsatisfiableRange)?;
            if suffix == 0 {
                return Err(UnsatisfiableRange);
            }
            (size.saturating_sub(suffix), size.saturating_sub(1))
        }
        (start, "") => (
            start.parse().map_err(|_| UnsatisfiableRange)?,
            size.saturating_sub(1),
        ),
        (start, end) => {
            let start: u64 = start.parse().map_err(|_| UnsatisfiableRange)?;
            let end: u64 = end.parse().map_err(|_| UnsatisfiableRange)?;
            (start, end.min(size.saturating_sub(1)))
        }
    };
    if size == 0 || start >= size || start > end {
        return Err(UnsatisfiableRange);
    }
    Ok(Some((start, end)))
}

/// The media type a hosted file is served as: apks as such, icons as images, the rest as bytes.
fn content_type_of(file: &str) -> &'static str {
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".apk") {
        "application/vnd.android.package-archive"
    } else if lower == "icon.png" {
        "image/png"
    } else if lower == "icon.webp" {
        "image/webp"
    } else {
        "application/octet-stream"
    }
}

/// `GET /download/{app}/{platform}/{version}/{file}`: a hosted build, honouring `Range`.
pub async fn download(
    request: HttpRequest,
    clients: web::Data<Clients>,
    path: web::Path<(String, String, String, String)>,
) -> HttpResponse {
    let (app, platform, version, file) = path.into_inner();
    let reference = pb::HostedFileRef {
        app: app.clone(),
        platform,
        version,
        file: file.clone(),
    };
    let mut client = clients.appinhouse();
    let stat = reader_request(reference.clone(), &request, &app);
    let size = match client.stat_hosted_file(stat).await {
        Ok(info) => info.into_inner().size,
        Err(status) => {
            let failure = Failure::from(status);
            let status = match failure.code {
                AppinhouseCode::SystemError | AppinhouseCode::UnknownError => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                // A protected app's file without a grant.
                AppinhouseCode::SecretKey => StatusCode::UNAUTHORIZED,
                _ => StatusCode::NOT_FOUND,
            };
            return HttpResponse::build(status).json(failure.body());
        }
    };
    let range_header = request
        .headers()
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok());
    let (status, start, end) = match parse_range(range_header, size) {
        Ok(Some((start, end))) => (StatusCode::PARTIAL_CONTENT, start, end),
        Ok(None) => (StatusCode::OK, 0, size.saturating_sub(1)),
        Err(UnsatisfiableRange) => {
            return HttpResponse::build(StatusCode::RANGE_NOT_SATISFIABLE)
                .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
                .finish();
        }
    };
    let length = if size == 0 { 0 } else { end - start + 1 };
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CONTENT_TYPE, content_type_of(&file)))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ));
    if status == StatusCode::PARTIAL_CONTENT {
        response.insert_header((
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("bytes {start}-{end}/{size}"))
                .unwrap_or(HeaderValue::from_static("bytes */0")),
        ));
    }
    if length == 0 {
        return response.finish();
    }
    let read = pb::ReadHostedFileRequest {
        file: Some(reference),
        offset: start,
        length,
    };
    match client
        .read_hosted_file(reader_request(read, &request, &app))
        .await
    {
        Ok(stream) => {
            let body = stream
                .into_inner()
                .map_ok(|chunk| web::Bytes::from(chunk.data))
                .map_err(|status| {
                    actix_web::error::ErrorInternalServerError(status.message().to_owned())
                });
            response.no_chunking(length).streaming(body)
        }
        Err(status) => HttpResponse::InternalServerError().json(Failure::from(status).body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some((0, 9))));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=95-200"), 100), Ok(Some((95, 99))));
        assert_eq!(
            parse_range(Some("bytes=100-"), 100),
            Err(UnsatisfiableRange)
        );
        assert_eq!(parse_range(Some("bytes=5-1"), 100), Err(UnsatisfiableRange));
        assert_eq!(parse_range(Some("items=1-2"), 100), Ok(None));
    }
}
