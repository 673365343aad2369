//! Rendered answers of the read routes marked `kept`, served again while what they were read
//! under stands. A kept route's answer is kept only when every service call it made answered
//! the read-cache generations it was read under (`tad-read-under`, see
//! [`common::read_cache::provenance`]); a later request with the same method, URI and headers
//! (token and cookies included) is answered from memory once the shared cache (Redis across
//! replicas, memory in `tad serve`) still holds exactly those generations. Every write bumps
//! them after it committed and before it is answered, so no answer kept here outlives a write
//! that was answered. The token and the route's roles are checked before (the middleware runs
//! innermost), and a caller's answers are kept under their own generation too, which the end of
//! any of their sessions or tokens bumps before it is answered; answers live the shortest time
//! any of their reads allowed, 30 s at most.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use actix_web::{
    Error, HttpMessage, HttpResponse,
    body::{BodySize, BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        Method, StatusCode,
        header::{HeaderName, HeaderValue, SET_COOKIE},
    },
    middleware::Next,
    web,
};
use bytes::Bytes;
use common::{
    cache::SharedCache,
    read_cache::{caller_scope, parse_generation},
};
use sha2::{Digest, Sha256};

use crate::{
    call_records,
    clients::Caller,
    error::{FailureMark, RefusalMark},
    metrics::Metrics,
    routes::ROUTES,
    routing,
};

/// Longest an answer is kept.
const MAX_TTL: Duration = Duration::from_secs(30);
/// Largest answer kept.
const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// Most answers kept, and most bytes of them: past either the cache starts over.
const MAX_ANSWERS: usize = 4096;
const MAX_KEPT_BYTES: usize = 32 << 20;
/// Request headers that differ on every request and change nothing in an answer.
const UNKEYED_HEADERS: &[&str] = &[
    "x-request-id",
    "traceparent",
    "tracestate",
    "baggage",
    "connection",
    "keep-alive",
    "content-length",
];

struct Kept {
    at: Instant,
    ttl: Duration,
    under: Vec<(String, i64)>,
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

#[derive(Default)]
struct Answers {
    entries: HashMap<[u8; 32], Arc<Kept>>,
    bytes: usize,
}

/// The kept answers of this gateway process.
pub struct AnswerCache {
    generations: SharedCache,
    answers: Mutex<Answers>,
}

impl AnswerCache {
    /// Answers kept under the generations `generations` holds.
    pub fn new(generations: SharedCache) -> AnswerCache {
        AnswerCache {
            generations,
            answers: Mutex::new(Answers::default()),
        }
    }

    fn answers(&self) -> std::sync::MutexGuard<'_, Answers> {
        self.answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The answer kept under `key`, if young enough and its generations still stand.
    async fn answer(&self, key: &[u8; 32]) -> Option<HttpResponse> {
        let kept = self.answers().entries.get(key).cloned()?;
        if kept.at.elapsed() >= kept.ttl {
            return None;
        }
        let scopes: Vec<String> = kept.under.iter().map(|(scope, _)| scope.clone()).collect();
        // A shared cache that does not answer: the services are asked.
        let current = self.generations.get_many(&scopes).await.ok()?;
        let stands = current.len() == kept.under.len()
            && current
                .into_iter()
                .zip(&kept.under)
                .all(|(value, (_, generation))| parse_generation(value) == *generation);
        if !stands {
            return None;
        }
        let mut response = HttpResponse::build(kept.status);
        for (name, value) in &kept.headers {
            response.append_header((name.clone(), value.clone()));
        }
        Some(response.body(kept.body.clone()))
    }

    /// The generation of `username`'s scope ([`caller_scope`]) now; `None` when the shared
    /// cache does not answer (nothing is kept then).
    async fn caller_generation(&self, username: &str) -> Option<(String, i64)> {
        let scope = caller_scope(username);
        let current = self.generations.get(&scope).await.ok()?;
        Some((scope, parse_generation(current)))
    }

    fn keep(&self, key: [u8; 32], kept: Kept) {
        let size = kept.body.len();
        let mut answers = self.answers();
        if answers.entries.len() >= MAX_ANSWERS || answers.bytes + size > MAX_KEPT_BYTES {
            *answers = Answers::default();
        }
        if let Some(previous) = answers.entries.insert(key, Arc::new(kept)) {
            answers.bytes = answers.bytes.saturating_sub(previous.body.len());
        }
        answers.bytes += size;
    }
}

/// The key of a request: method, URI and every header but the per-request ones, in order.
fn key_of(request: &ServiceRequest) -> [u8; 32] {
    let mut headers: Vec<(&str, &[u8])> = request
        .headers()
        .iter()
        .filter(|(name, _)| !UNKEYED_HEADERS.contains(&name.as_str()))
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    headers.sort_unstable();
    let mut digest = Sha256::new();
    let mut part = |bytes: &[u8]| {
        digest.update((bytes.len() as u64).to_le_bytes());
        digest.update(bytes);
    };
    part(request.method().as_str().as_bytes());
    part(request.uri().to_string().as_bytes());
    for (name, value) in headers {
        part(name.as_bytes());
        part(value);
    }
    digest.finalize().into()
}

/// Whether a finished answer may be kept: a plain 200 that sets no cookie and marks no failure.
fn keepable(response: &HttpResponse<BoxBody>) -> bool {
    response.status() == StatusCode::OK
        && !response.headers().contains_key(SET_COOKIE)
        && response.extensions().get::<FailureMark>().is_none()
        && response.extensions().get::<RefusalMark>().is_none()
        && matches!(response.body().size(), BodySize::Sized(size) if size as usize <= MAX_ANSWER_BYTES)
}

/// The middleware: answers a kept route from memory when it can, keeps its answer when it may.
pub async fn serve_kept(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let kept_answers = request
        .app_data::<web::Data<Option<AnswerCache>>>()
        .cloned();
    let route = (request.method() == Method::GET)
        .then(|| routing::matched_pattern(request.request()))
        .flatten()
        .filter(|pattern| routing::keeps_answers(ROUTES, pattern, request.method()));
    let (Some(cache), Some(route)) = (
        kept_answers
            .as_ref()
            .and_then(|data| data.get_ref().as_ref()),
        route,
    ) else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let metrics = request.app_data::<web::Data<Metrics>>().cloned();
    let key = key_of(&request);
    if let Some(response) = cache.answer(&key).await {
        if let Some(metrics) = &metrics {
            metrics.kept_answer(&route, "served");
        }
        if let Some(tally) = request
            .app_data::<web::Data<Option<std::sync::Arc<crate::install_tally::InstallTally>>>>()
            .and_then(|data| data.get_ref().clone())
        {
            tally.served_kept(&route, &request);
        }
        return Ok(request.into_response(response));
    }
    // The caller's generation, read before any service checks the token: an end of their
    // sessions answered after this read bumps it, and the answer is kept under it.
    let username = request
        .extensions()
        .get::<Caller>()
        .map(|caller| caller.claims.username().to_owned());
    let caller = match username {
        Some(username) => Some(cache.caller_generation(&username).await),
        None => None,
    };
    let (response, under) = call_records::recording_calls(next.call(request)).await;
    let response = response?.map_into_boxed_body();
    let mut under = match under {
        Some(under) if keepable(response.response()) => under,
        _ => return Ok(response),
    };
    match caller {
        Some(Some(generation)) => under.generations.push(generation),
        // The caller's generation could not be read: nothing is kept for them.
        Some(None) => return Ok(response),
        None => {}
    }
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let body = match body.try_into_bytes() {
        Ok(bytes) => bytes,
        Err(body) => return Ok(ServiceResponse::new(request, head.set_body(body))),
    };
    if let Some(metrics) = &metrics {
        metrics.kept_answer(&route, "kept");
    }
    cache.keep(
        key,
        Kept {
            at: Instant::now(),
            ttl: under.ttl.min(MAX_TTL),
            under: under.generations,
            status: head.status(),
            headers: head
                .headers()
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
            body: body.clone(),
        },
    );
    Ok(ServiceResponse::new(
        request,
        head.set_body(BoxBody::new(body)),
    ))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn key(uri: &str, headers: &[(&str, &str)]) -> [u8; 32] {
        let mut request = TestRequest::get().uri(uri);
        for header in headers {
            request = request.insert_header(*header);
        }
        key_of(&request.to_srv_request())
    }

    #[test]
    fn a_key_holds_the_uri_and_every_header_but_the_per_request_ones() {
        let token = ("authorization", "Bearer one");
        let base = key("/api/x?a=1", &[token, ("user-agent", "phone")]);
        // Header order and per-request headers change nothing.
        assert_eq!(
            base,
            key(
                "/api/x?a=1",
                &[("user-agent", "phone"), ("x-request-id", "r1"), token]
            )
        );
        assert_eq!(
            base,
            key(
                "/api/x?a=1",
                &[token, ("traceparent", "00-1-2-01"), ("user-agent", "phone")]
            )
        );
        // Anything else does: another token, query, agent, or a header more.
        for other in [
            key(
                "/api/x?a=1",
                &[("authorization", "Bearer two"), ("user-agent", "phone")],
            ),
            key("/api/x?a=2", &[token, ("user-agent", "phone")]),
            key("/api/x?a=1", &[token, ("user-agent", "desktop")]),
            key(
                "/api/x?a=1",
                &[token, ("user-agent", "phone"), ("cookie", "s=1")],
            ),
            key("/api/x?a=1", &[("user-agent", "phone")]),
        ] {
            assert_ne!(base, other);
        }
    }

    /// A kept route behind `serve_kept` whose handler counts its calls and says (as a service
    /// call would) it read under generation `lists` of the shared cache; callers are `frank`.
    #[actix_web::test]
    async fn a_callers_kept_answers_end_when_their_generation_moves() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        use actix_web::{App, dev::Service as _, middleware::from_fn, test};
        use common::{
            cache::InMemoryCache,
            read_cache::provenance::{READ_UNDER_METADATA, ReadUnder},
        };

        let shared: SharedCache = Arc::new(InMemoryCache::new());
        let calls = Arc::new(AtomicUsize::new(0));
        let handler_calls = calls.clone();
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(Some(AnswerCache::new(shared.clone()))))
                .wrap(from_fn(serve_kept))
                .wrap_fn(|request, service| {
                    let caller = Caller {
                        token: "frank-token".to_owned(),
                        claims: common::auth::Claims {
                            sub: "frank".to_owned(),
                            roles: vec!["operator".to_owned()],
                            iat: 0,
                            exp: i64::MAX,
                            sid: Some("s1".to_owned()),
                            api_token: None,
                        },
                    };
                    request.extensions_mut().insert(caller);
                    service.call(request)
                })
                .route(
                    "/api/app/productline/select",
                    web::get().to(move || {
                        let calls = handler_calls.clone();
                        async move {
                            calls.fetch_add(1, Ordering::SeqCst);
                            let under = ReadUnder {
                                generations: vec![("lists".to_owned(), 0)],
                                ttl: Duration::from_secs(10),
                            };
                            let mut headers = http::HeaderMap::new();
                            headers.insert(
                                READ_UNDER_METADATA,
                                http::HeaderValue::from_str(&under.to_header()).expect("header"),
                            );
                            call_records::note_answer(Some(&headers));
                            HttpResponse::Ok().body("[]")
                        }
                    }),
                ),
        )
        .await;
        let read = || {
            test::TestRequest::get()
                .uri("/api/app/productline/select")
                .to_request()
        };
        for _ in 0..2 {
            let response = test::call_service(&app, read()).await;
            assert_eq!(response.status(), StatusCode::OK);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the second read was kept");
        // Frank's sessions end (svc-resource bumps his generation before it answers): what was
        // kept for him is not served again, though the lists did not move.
        shared
            .increment(&caller_scope("frank"), Duration::from_secs(60))
            .await
            .expect("bump");
        test::call_service(&app, read()).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2, "read again after the end");
        test::call_service(&app, read()).await;
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "kept again under the new one"
        );
    }

    #[test]
    fn only_a_plain_sized_success_is_kept() {
        let kept = HttpResponse::Ok().body("{}").map_into_boxed_body();
        assert!(keepable(&kept));
        let cookie = HttpResponse::Ok()
            .insert_header((SET_COOKIE, "s=1"))
            .body("{}")
            .map_into_boxed_body();
        assert!(!keepable(&cookie));
        let created = HttpResponse::Created().body("{}").map_into_boxed_body();
        assert!(!keepable(&created));
        let large = HttpResponse::Ok()
            .body(vec![b' '; MAX_ANSWER_BYTES + 1])
            .map_into_boxed_body();
        assert!(!keepable(&large));
        let mut refused = HttpResponse::Ok().body("{}").map_into_boxed_body();
        refused.extensions_mut().insert(RefusalMark("forbidden"));
        assert!(!keepable(&refused));
    }
}
