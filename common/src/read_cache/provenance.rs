//! What an answer was read under: the generations of the read-cache scopes a gRPC answer came
//! from, sent back in the answer's metadata (`tad-read-under`) so that the gateway may keep the
//! rendered answer and serve it again while those generations stand. A service method is named
//! in [`ReadUnderLayer`]'s list only when its whole answer comes from read-through reads; the
//! reads made while it runs are recorded in a task-local, and one that went past the cache (no
//! generation, or an answer not kept) spoils the record: no metadata is sent then.

use std::{
    cell::RefCell,
    collections::HashSet,
    future::Future,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures::future::BoxFuture;
use http::{HeaderValue, Request, Response};

/// The metadata key of an answer's read generations.
pub const READ_UNDER_METADATA: &str = "tad-read-under";
/// Most scopes one record carries (more spoil it: such an answer is not worth keeping).
const MAX_SCOPES: usize = 16;
/// Longest scope name carried.
const MAX_SCOPE_BYTES: usize = 200;

/// The read-cache generations an answer was read under and how long it may be kept at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadUnder {
    pub generations: Vec<(String, i64)>,
    pub ttl: Duration,
}

#[derive(Debug, Default)]
struct Recorder {
    generations: Vec<(String, i64)>,
    ttl: Option<Duration>,
    spoiled: bool,
}

tokio::task_local! {
    static RECORDER: RefCell<Recorder>;
}

fn carried(scope: &str) -> bool {
    !scope.is_empty()
        && scope.len() <= MAX_SCOPE_BYTES
        && scope
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b":_.-".contains(&byte))
}

/// Records a read served (or kept) under `generations`, good for `ttl` more. Outside
/// [`recording`] it does nothing.
pub(crate) fn record(generations: &[(String, i64)], ttl: Duration) {
    let _ = RECORDER.try_with(|recorder| {
        let mut recorder = recorder.borrow_mut();
        if generations.iter().any(|(scope, _)| !carried(scope)) {
            recorder.spoiled = true;
            return;
        }
        if !merge_generations(&mut recorder.generations, generations) {
            recorder.spoiled = true;
        }
        if recorder.generations.len() > MAX_SCOPES {
            recorder.spoiled = true;
        }
        recorder.ttl = Some(recorder.ttl.map_or(ttl, |kept| kept.min(ttl)));
    });
}

/// Adds the scopes of `more` to `into`; false when a scope is in both under two generations (an
/// answer that mixes old and new).
fn merge_generations(into: &mut Vec<(String, i64)>, more: &[(String, i64)]) -> bool {
    for (scope, generation) in more {
        match into.iter().find(|(kept, _)| kept == scope) {
            Some((_, kept)) if kept != generation => return false,
            Some(_) => {}
            None => into.push((scope.clone(), *generation)),
        }
    }
    true
}

/// Records a read that went past the cache: the answer must not be kept anywhere.
pub(crate) fn spoil() {
    let _ = RECORDER.try_with(|recorder| recorder.borrow_mut().spoiled = true);
}

/// Runs `work`, recording the read-cache reads it makes; answers what its answer was read under
/// when every read went through the cache (and there was one).
pub async fn recording<F: Future>(work: F) -> (F::Output, Option<ReadUnder>) {
    let (output, recorder) = RECORDER
        .scope(RefCell::new(Recorder::default()), async move {
            let output = work.await;
            let recorder = RECORDER.with(|recorder| std::mem::take(&mut *recorder.borrow_mut()));
            (output, recorder)
        })
        .await;
    let under = match (recorder.spoiled, recorder.ttl) {
        (false, Some(ttl)) if !recorder.generations.is_empty() && !ttl.is_zero() => {
            Some(ReadUnder {
                generations: recorder.generations,
                ttl,
            })
        }
        _ => None,
    };
    (output, under)
}

impl ReadUnder {
    /// The metadata value: `TTL_MS;SCOPE=GENERATION;...`.
    pub fn to_header(&self) -> String {
        let mut text = self.ttl.as_millis().to_string();
        for (scope, generation) in &self.generations {
            text.push(';');
            text.push_str(scope);
            text.push('=');
            text.push_str(&generation.to_string());
        }
        text
    }

    /// Reads a metadata value made by [`ReadUnder::to_header`]; `None` for anything else.
    pub fn parse(text: &str) -> Option<ReadUnder> {
        let mut parts = text.split(';');
        let ttl = Duration::from_millis(parts.next()?.parse().ok()?);
        let mut generations = Vec::new();
        for part in parts {
            let (scope, generation) = part.split_once('=')?;
            if !carried(scope) || generations.len() >= MAX_SCOPES {
                return None;
            }
            generations.push((scope.to_owned(), generation.parse().ok()?));
        }
        (!generations.is_empty()).then_some(ReadUnder { generations, ttl })
    }

    /// Joins the records of several answers rendered as one (`None` when one has none, or a
    /// scope was read under two generations).
    pub fn join(records: &[Option<ReadUnder>]) -> Option<ReadUnder> {
        let mut joined: Option<ReadUnder> = None;
        for record in records {
            let record = record.as_ref()?;
            let Some(so_far) = joined.as_mut() else {
                joined = Some(record.clone());
                continue;
            };
            so_far.ttl = so_far.ttl.min(record.ttl);
            if !merge_generations(&mut so_far.generations, &record.generations) {
                return None;
            }
        }
        joined.filter(|joined| joined.generations.len() <= MAX_SCOPES)
    }
}

/// A tower layer for a gRPC server: answers of the methods named (`/package.Service/Method`)
/// carry what they were read under.
#[derive(Clone)]
pub struct ReadUnderLayer {
    methods: Arc<HashSet<&'static str>>,
}

impl ReadUnderLayer {
    /// Only methods whose whole answer comes from read-through reads of the request may be
    /// named.
    pub fn new(methods: impl IntoIterator<Item = &'static str>) -> ReadUnderLayer {
        ReadUnderLayer {
            methods: Arc::new(methods.into_iter().collect()),
        }
    }
}

impl<S> tower::Layer<S> for ReadUnderLayer {
    type Service = ReadUnderService<S>;

    fn layer(&self, inner: S) -> ReadUnderService<S> {
        ReadUnderService {
            inner,
            methods: self.methods.clone(),
        }
    }
}

/// See [`ReadUnderLayer`].
#[derive(Clone)]
pub struct ReadUnderService<S> {
    inner: S,
    methods: Arc<HashSet<&'static str>>,
}

impl<S, RequestBody, ResponseBody> tower::Service<Request<RequestBody>> for ReadUnderService<S>
where
    S: tower::Service<Request<RequestBody>, Response = Response<ResponseBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResponseBody: Send + 'static,
{
    type Response = Response<ResponseBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<ResponseBody>, S::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request<RequestBody>) -> Self::Future {
        let recorded = self.methods.contains(request.uri().path());
        let answer = self.inner.call(request);
        if !recorded {
            return Box::pin(answer);
        }
        Box::pin(async move {
            let (answer, under) = recording(answer).await;
            let mut response = answer?;
            // A trailers-only answer is a failure: it carries nothing.
            if let Some(under) = under
                && !response.headers().contains_key("grpc-status")
                && let Ok(value) = HeaderValue::from_str(&under.to_header())
            {
                response.headers_mut().insert(READ_UNDER_METADATA, value);
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn under(pairs: &[(&str, i64)], ttl_ms: u64) -> ReadUnder {
        ReadUnder {
            generations: pairs
                .iter()
                .map(|(scope, generation)| ((*scope).to_owned(), *generation))
                .collect(),
            ttl: Duration::from_millis(ttl_ms),
        }
    }

    #[test]
    fn a_record_reads_back_from_its_header_and_nothing_else_does() {
        let record = under(&[("resource:generation:catalog", 7), ("app:x", -3)], 1500);
        assert_eq!(ReadUnder::parse(&record.to_header()), Some(record));
        for bad in [
            "", "10", "x;a=1", "10;a", "10;a=b", "10;a b=1", "10;=1", "10;a=1;",
        ] {
            assert_eq!(ReadUnder::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn joined_records_need_every_part_and_agreeing_generations() {
        let first = under(&[("a", 1)], 3000);
        let second = under(&[("b", 2), ("a", 1)], 1000);
        assert_eq!(
            ReadUnder::join(&[Some(first.clone()), Some(second)]),
            Some(under(&[("a", 1), ("b", 2)], 1000))
        );
        assert_eq!(ReadUnder::join(&[Some(first.clone()), None]), None);
        assert_eq!(
            ReadUnder::join(&[Some(first), Some(under(&[("a", 2)], 1000))]),
            None
        );
        assert_eq!(ReadUnder::join(&[]), None);
    }

    #[tokio::test]
    async fn a_recording_keeps_reads_and_a_read_past_the_cache_spoils_it() {
        let (_, under_one) = recording(async {
            record(&[("a".to_owned(), 4)], Duration::from_secs(60));
            record(&[("b".to_owned(), 5)], Duration::from_secs(20));
        })
        .await;
        assert_eq!(under_one, Some(under(&[("a", 4), ("b", 5)], 20_000)));

        let (_, spoiled) = recording(async {
            record(&[("a".to_owned(), 4)], Duration::from_secs(60));
            spoil();
        })
        .await;
        assert_eq!(spoiled, None);

        let (_, mixed) = recording(async {
            record(&[("a".to_owned(), 4)], Duration::from_secs(60));
            record(&[("a".to_owned(), 5)], Duration::from_secs(60));
        })
        .await;
        assert_eq!(mixed, None, "one scope under two generations");

        let (_, nothing) = recording(async {}).await;
        assert_eq!(nothing, None, "no read, nothing to keep by");

        let (_, odd) = recording(async {
            record(&[("a b".to_owned(), 1)], Duration::from_secs(60));
        })
        .await;
        assert_eq!(odd, None, "a scope the header cannot carry");
        // Outside a recording nothing happens (and nothing fails).
        record(&[("a".to_owned(), 1)], Duration::from_secs(1));
        spoil();
    }
}
