//! Pure conversions of the appinhouse contract: `{code,msg,...}` answers (separate from the TAD
//! envelope), build items with `time` rendered per `time_offset`, failures of the service mapped
//! to their code (HTTP 200, except 401 for code 1010), and the request's base URL.

use chrono::{FixedOffset, TimeZone};
use proto::appinhouse::{AppinhouseCode, Refusal, v1 as pb};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The legacy rendering of build times.
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
/// Largest `time_offset` in minutes (a day either way).
const MAX_TIME_OFFSET_MINUTES: i32 = 24 * 60;

/// A failed appinhouse request: its code and message, and for 1010 which refusal it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: AppinhouseCode,
    pub msg: String,
    pub refusal: Option<Refusal>,
}

impl Failure {
    pub fn new(code: AppinhouseCode, msg: impl Into<String>) -> Failure {
        Failure {
            code,
            msg: crate::error::bound_message(&msg.into()),
            refusal: (code == AppinhouseCode::SecretKey).then_some(Refusal::SecretKey),
        }
    }

    /// HTTP status of the answer: 401 for a missing or bad `X-SecretKey`, else 200.
    pub fn http_status(&self) -> u16 {
        if self.code == AppinhouseCode::SecretKey {
            401
        } else {
            200
        }
    }

    /// The answer body.
    pub fn body(&self) -> Value {
        json!({ "code": self.code.number(), "msg": self.msg })
    }
}

impl From<tonic::Status> for Failure {
    fn from(status: tonic::Status) -> Failure {
        let code = AppinhouseCode::of_status(&status);
        let refusal = Refusal::of_status(&status);
        let msg = match (refusal, status.code()) {
            // A protected app or too many wrong passwords: the service's sentence names it.
            (Some(Refusal::Protected | Refusal::Throttled), _) => status.message().to_owned(),
            (Some(Refusal::SecretKey), _) => "missing or invalid X-SecretKey".to_owned(),
            (None, tonic::Code::Unavailable) if code == AppinhouseCode::SystemError => {
                tracing::error!(error = %crate::error::excerpt(status.message()), "appinhouse service unavailable");
                "the appinhouse service is unavailable; try again shortly".to_owned()
            }
            _ => status.message().to_owned(),
        };
        Failure {
            refusal,
            ..Failure::new(code, msg)
        }
    }
}

/// A success answer: `{"code":0,"msg":""}` plus `extra` keys.
pub fn success(extra: Map<String, Value>) -> Value {
    let mut body = Map::new();
    body.insert("code".to_owned(), json!(0));
    body.insert("msg".to_owned(), json!(""));
    body.extend(extra);
    Value::Object(body)
}

/// `time_offset` (minutes) from the query: absent → `None`; not a number or beyond a day → 1001.
pub fn parse_time_offset(text: Option<&str>) -> Result<Option<i32>, Failure> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    match text.parse::<i32>() {
        Ok(minutes) if minutes.abs() <= MAX_TIME_OFFSET_MINUTES => Ok(Some(minutes)),
        _ => Err(Failure::new(
            AppinhouseCode::InvalidParameter,
            format!("time_offset {text:?} must be minutes between -1440 and 1440"),
        )),
    }
}

/// A build time in `time_offset` minutes east of UTC, else in the offset it was given with.
pub fn render_time(time_ms: i64, given_offset_minutes: i32, time_offset: Option<i32>) -> String {
    let minutes = time_offset.unwrap_or(given_offset_minutes);
    let Some(offset) = FixedOffset::east_opt(minutes * 60) else {
        return String::new();
    };
    match offset.timestamp_millis_opt(time_ms).single() {
        Some(time) => time.format(TIME_FORMAT).to_string(),
        None => String::new(),
    }
}

/// An extra download of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtendItem {
    pub extend_key: String,
    pub extend_name: String,
    pub down: String,
}

/// One build as the contract lists it (plus its extra downloads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildItem {
    pub platform: String,
    pub version: String,
    pub time: String,
    pub description: String,
    pub url: String,
    pub down: String,
    pub extends: Vec<ExtendItem>,
}

impl BuildItem {
    pub fn from_proto(build: pb::Build, time_offset: Option<i32>) -> BuildItem {
        BuildItem {
            time: render_time(build.time_ms, build.given_offset_minutes, time_offset),
            platform: build.platform,
            version: build.version,
            description: build.description,
            url: build.url,
            down: build.down,
            extends: build
                .extends
                .into_iter()
                .map(|extend| ExtendItem {
                    extend_key: extend.key,
                    extend_name: extend.name,
                    down: extend.down,
                })
                .collect(),
        }
    }
}

/// `items` of builds.
pub fn items(builds: Vec<pb::Build>, time_offset: Option<i32>) -> Value {
    json!(
        builds
            .into_iter()
            .map(|build| BuildItem::from_proto(build, time_offset))
            .collect::<Vec<_>>()
    )
}

/// `scheme://host` the request came to (proxies' `Forwarded` / `X-Forwarded-*` honoured).
pub fn base_url(scheme: &str, host: &str) -> String {
    format!("{scheme}://{host}")
}

/// The `itms-services` link that installs an ios build from its plist URL.
pub fn itms_link(plist_url: &str) -> String {
    format!(
        "itms-services://?action=download-manifest&url={}",
        percent_encoding::utf8_percent_encode(plist_url, percent_encoding::NON_ALPHANUMERIC)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_render_in_the_given_or_requested_offset() {
        // 2016-05-09T18:11:50Z, given as +08:00.
        let ms = 1_462_817_510_000;
        assert_eq!(render_time(ms, 480, None), "2016-05-10 02:11:50");
        assert_eq!(render_time(ms, 480, Some(0)), "2016-05-09 18:11:50");
        assert_eq!(render_time(ms, 0, Some(-420)), "2016-05-09 11:11:50");
    }

    #[test]
    fn time_offsets_are_checked() {
        assert_eq!(parse_time_offset(None), Ok(None));
        assert_eq!(parse_time_offset(Some("480")), Ok(Some(480)));
        assert_eq!(parse_time_offset(Some("-60")), Ok(Some(-60)));
        for bad in ["x", "1441", "4.5"] {
            assert_eq!(
                parse_time_offset(Some(bad)).map_err(|failure| failure.code.number()),
                Err(1001),
                "{bad}"
            );
        }
    }

    #[test]
    fn failures_keep_their_code_and_the_secret_one_is_401() {
        let failure = Failure::from(AppinhouseCode::AppNotFound.status("app \"x\" does not exist"));
        assert_eq!(failure.http_status(), 200);
        assert_eq!(
            failure.body(),
            json!({"code": 1008, "msg": "app \"x\" does not exist"})
        );
        let secret = Failure::from(AppinhouseCode::SecretKey.status("anything"));
        assert_eq!(secret.http_status(), 401);
        assert_eq!(
            secret.body(),
            json!({"code": 1010, "msg": "missing or invalid X-SecretKey"})
        );
        let down = Failure::from(tonic::Status::unavailable("connection refused"));
        assert_eq!(down.code.number(), -1);
        // The refusals of 1010 are told apart by the status, never by the message.
        use proto::{appinhouse::WireFailure, error::WireCode};
        for (refusal, message, kept) in [
            (Refusal::Protected, "app \"x\" is protected", true),
            (Refusal::Throttled, "too many wrong passwords", true),
            (Refusal::SecretKey, "app secret", false),
        ] {
            let wire = WireFailure {
                code: AppinhouseCode::SecretKey,
                refusal: Some(refusal),
            };
            let failure = Failure::from(wire.status(message.to_owned()));
            assert_eq!(
                (failure.code.number(), failure.refusal),
                (1010, Some(refusal))
            );
            assert_eq!(failure.msg == message, kept, "{failure:?}");
            assert_eq!(failure.http_status(), 401);
        }
    }

    #[test]
    fn itms_links_encode_the_plist_url() {
        assert_eq!(
            itms_link("https://h.org/api/v2/rog2/plist/1.0.0.plist"),
            "itms-services://?action=download-manifest&url=https%3A%2F%2Fh%2Eorg%2Fapi%2Fv2%2Frog2%2Fplist%2F1%2E0%2E0%2Eplist"
        );
    }
}
