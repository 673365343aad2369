//! Contract 6.1 (`executionall`), 6.2 (`setp_execution`, the legacy spelling is the URL) and
//! 6.3 (`stop_execution`), and the run routes of SPEC §5: the run tree, log chunks by byte
//! offset, and the run's events as Server-Sent Events, resumable with `Last-Event-ID`. The routes
//! that start work take an optional `Idempotency-Key` header (see `crate::idempotency`).

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt;
use proto::{ErrorReason, jobs::v1 as pb};
use serde::Deserialize;
use serde_json::json;

use super::{Answer, IdPath, job_id, ok, ok_each, page_of};
use crate::{
    body::{LegacyJson, page_params, parse_json},
    clients::{Call, reply},
    convert::{
        catalog::Nothing,
        executions::{
            ExecuteResult, LogChunk, WebhookItem, execution_tree, history_json, sse_frame,
        },
    },
    error::ApiError,
    idempotency::OptionalIdempotencyKey,
};

/// The body of 6.1–6.3 (`{"use_tad_host": false}`; an empty body means false).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ExecuteBody {
    #[serde(default)]
    use_tad_host: Option<bool>,
    /// 6.1 and 2.1 only (issue 21): the `plan_id` the plan route answered; the run starts only
    /// while that is still what would run, else it is refused (`plan_changed`) naming what
    /// changed.
    #[serde(default)]
    plan_id: Option<String>,
}

/// `?wait=false` answers at once with the execution id.
#[derive(Debug, Default, Deserialize)]
pub struct WaitQuery {
    wait: Option<String>,
}

fn execute_body(body: &web::Bytes) -> Result<ExecuteBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ExecuteBody::default());
    }
    parse_json(body)
}

fn waits(query: &WaitQuery) -> Result<bool, ApiError> {
    match query.wait.as_deref().map(str::trim) {
        None | Some("") | Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(other) => Err(ApiError::new(
            ErrorReason::InvalidField,
            format!("wait must be true or false, not {other:?}"),
        )),
    }
}

/// What the routes that start a run take besides the id, extracted in this order: `?wait`, the
/// optional body of 6.1–6.3 and the `Idempotency-Key` header.
type RunParts = (web::Query<WaitQuery>, web::Bytes, OptionalIdempotencyKey);

/// A run to start: the id of what runs, the body's `use_tad_host` and `?wait`.
struct RunStart {
    id: String,
    use_tad_host: bool,
    wait: bool,
    plan_id: Option<String>,
}

impl RunStart {
    /// Reads the body, then `?wait` (a failure of the body is answered first).
    fn new(id: IdPath, (query, body, _): &RunParts) -> Result<RunStart, ApiError> {
        let body = execute_body(body)?;
        Ok(RunStart {
            id: id.into_inner(),
            use_tad_host: body.use_tad_host.unwrap_or(false),
            wait: waits(query)?,
            plan_id: body.plan_id,
        })
    }

    /// Refuses a `plan_id`: only 6.1 takes one.
    fn without_plan(self) -> Result<RunStart, ApiError> {
        match self.plan_id {
            Some(_) => Err(ApiError::new(
                ErrorReason::InvalidField,
                "plan_id: only 6.1 (executionall) and 2.1 take a plan_id",
            )),
            None => Ok(self),
        }
    }
}

/// The request of a run route made of a [`RunStart`], one line per request: its type and the
/// field that takes the id.
macro_rules! from_run_start {
    ($($request:ty => $id:ident),+ $(,)?) => {$(
        impl From<RunStart> for $request {
            fn from(run: RunStart) -> $request {
                Self { $id: run.id, use_tad_host: run.use_tad_host, wait: run.wait }
            }
        }
    )+};
}

from_run_start!(pb::RollbackRequest => instance_id);

async fn execute(call: Call, id: IdPath, mode: pb::ExecuteMode, run: RunParts) -> Answer {
    let start = RunStart::new(id, &run)?;
    let request = pb::ExecuteRequest {
        instance_id: start.id,
        mode: mode as i32,
        use_tad_host: start.use_tad_host,
        wait: start.wait,
        plan_id: start.plan_id,
    };
    run_answer(reply(call.jobs_keyed(&run.2).execute(request)).await?)
}

fn execute_data(answer: pb::ExecuteResponse) -> ExecuteResult {
    ExecuteResult::from(answer)
}

/// What a run route answers: the run; or, when the environment is protected and a deployment
/// request was made instead (issue 20), a warning `approval_required` whose `data` carries
/// `result: false`, the message and the `request_id`, so the AOS caller sees a clear failure at
/// once. The service has recorded the request in its trail, so this is not a refusal.
fn run_answer(answer: pb::ExecuteResponse) -> Answer {
    if answer.request_id.is_none() {
        return ok(execute_data(answer));
    }
    let data = execute_data(answer);
    let info = data.msg.clone().unwrap_or_default();
    Ok(HttpResponse::Ok().json(json!({
        "info": info,
        "data": data,
        "success": false,
        "level": "warning",
        "code": ErrorReason::ApprovalRequired.as_str(),
    })))
}

/// 6.1 `POST /api/app/jobinstance/{id}/executionall`.
pub async fn execute_all(call: Call, id: IdPath, run: RunParts) -> Answer {
    execute(call, id, pb::ExecuteMode::All, run).await
}

/// 6.2 `POST /api/app/jobinstance/{id}/setp_execution`.
pub async fn execute_step(call: Call, id: IdPath, run: RunParts) -> Answer {
    execute(call, id, pb::ExecuteMode::NextStep, run).await
}

/// 6.3 `POST /api/app/jobinstance/{id}/stop_execution`: answers once the run has stopped.
pub async fn stop_execution(call: Call, id: IdPath, body: web::Bytes) -> Answer {
    execute_body(&body)?;
    let answer = reply(call.jobs().stop_execution(job_id(id))).await?;
    run_answer(answer)
}

/// `GET /api/executions/{id}`: the run tree with statuses and times.
pub async fn execution(call: Call, id: IdPath) -> Answer {
    let execution = reply(call.jobs().get_execution(job_id(id))).await?;
    ok(execution_tree(execution, &call.times))
}

#[derive(Debug, Deserialize)]
pub struct LogQuery {
    host_task: Option<String>,
    offset: Option<String>,
}

/// `GET /api/executions/{id}/log?host_task=..&offset=N`: a chunk, the next offset, and whether
/// the host task's log is complete.
pub async fn execution_log(call: Call, id: IdPath, query: web::Query<LogQuery>) -> Answer {
    let query = query.into_inner();
    let host_task_id = query
        .host_task
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| ApiError::new(ErrorReason::MissingField, "host_task is required"))?;
    let offset = match query.offset.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(text) => text.parse::<u64>().map_err(|_| {
            ApiError::new(
                ErrorReason::InvalidField,
                format!("offset must be a byte offset (a non-negative integer), not {text:?}"),
            )
        })?,
    };
    let request = pb::ExecutionLogRequest {
        execution_id: id.into_inner(),
        host_task_id,
        offset,
    };
    let chunk = reply(call.jobs().execution_log(request)).await?;
    ok(LogChunk::from(chunk))
}

/// The `Content-Disposition` file name of a raw log: `run-{id}-{host_task}.log`, keeping only
/// letters, digits, `-` and `_` of the ids (at most 64 of each).
fn raw_log_file_name(execution_id: &str, host_task_id: &str) -> String {
    let safe = |id: &str| -> String {
        id.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(64)
            .collect()
    };
    format!("run-{}-{}.log", safe(execution_id), safe(host_task_id))
}

/// `GET /api/executions/{id}/log/raw?host_task=..`: the host task's whole log (what is stored
/// now) as `text/plain`, streamed chunk by chunk from the log route's reads; a download
/// (`Content-Disposition: attachment`). The first chunk is read before answering, so an unknown
/// run or host task answers the usual failure envelope.
pub async fn execution_log_raw(
    call: Call,
    id: IdPath,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, ApiError> {
    let host_task_id = query
        .into_inner()
        .host_task
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| ApiError::new(ErrorReason::MissingField, "host_task is required"))?;
    let execution_id = id.into_inner();
    let first = pb::ExecutionLogRequest {
        execution_id: execution_id.clone(),
        host_task_id: host_task_id.clone(),
        offset: 0,
    };
    let chunk = reply(call.jobs().execution_log(first)).await?;
    let file_name = raw_log_file_name(&execution_id, &host_task_id);
    // State: the call, the request of the next chunk, and the chunk read (None: the end).
    let body = futures::stream::unfold(
        (call, execution_id, host_task_id, Some(chunk)),
        |(call, execution_id, host_task_id, chunk)| async move {
            let chunk = chunk?;
            if chunk.text.is_empty() || chunk.next_offset <= chunk.offset {
                return None;
            }
            let request = pb::ExecutionLogRequest {
                execution_id: execution_id.clone(),
                host_task_id: host_task_id.clone(),
                offset: chunk.next_offset,
            };
            let next = match reply(call.jobs().execution_log(request)).await {
                Ok(next) => Ok(Some(next)),
                Err(status) => Err(status),
            };
            let bytes = web::Bytes::from(chunk.text);
            match next {
                Ok(next) => Some((
                    Ok::<_, actix_web::Error>(bytes),
                    (call, execution_id, host_task_id, next),
                )),
                // The text read is sent; the download then breaks off (an incomplete file
                // rather than a silently short one).
                Err(status) => Some((
                    Err(actix_web::error::ErrorServiceUnavailable(
                        status.message().to_owned(),
                    )),
                    (call, execution_id, host_task_id, None),
                )),
            }
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{file_name}\""),
        ))
        .insert_header(("cache-control", "no-store"))
        .streaming(body.boxed_local()))
}

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    last_event_id: Option<String>,
}

/// `GET /api/executions/{id}/events`: Server-Sent Events (`id` = the event's number, `event` =
/// `run`/`step`/`host`/`log`), from after `Last-Event-ID` (header, or `?last_event_id=`) until
/// the run has ended. A comment line every 15 s keeps idle connections open.
pub async fn execution_events(
    request: HttpRequest,
    call: Call,
    id: IdPath,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let header = request
        .headers()
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let after_seq = match header.or_else(|| query.into_inner().last_event_id) {
        None => 0,
        Some(text) if text.trim().is_empty() => 0,
        Some(text) => text.trim().parse::<u64>().map_err(|_| {
            ApiError::new(
                ErrorReason::InvalidField,
                format!("Last-Event-ID must be an event number, not {text:?}"),
            )
        })?,
    };
    let watch = pb::WatchExecutionRequest {
        execution_id: id.into_inner(),
        after_seq,
    };
    let events = reply(call.jobs().watch_execution(watch)).await?;
    let heartbeat = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(15),
        Duration::from_secs(15),
    );
    let body = futures::stream::unfold(
        (events, heartbeat, false),
        |(mut events, mut heartbeat, ended)| async move {
            if ended {
                return None;
            }
            tokio::select! {
                event = events.next() => match event {
                    Some(Ok(event)) => Some((Ok::<_, actix_web::Error>(web::Bytes::from(sse_frame(&event))), (events, heartbeat, false))),
                    Some(Err(status)) => {
                        let frame = format!("event: error\ndata: {}\n\n", json!({"message": status.message()}));
                        Some((Ok(web::Bytes::from(frame)), (events, heartbeat, true)))
                    }
                    None => None,
                },
                _ = heartbeat.tick() => Some((Ok(web::Bytes::from_static(b": keep-alive\n\n")), (events, heartbeat, false))),
            }
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body.boxed_local()))
}

/// `POST /api/executions/{id}/retry`: the failed hosts of the failed step again, then the
/// remaining steps (holds like 6.1; `?wait=false` answers at once).
pub async fn retry_execution(
    call: Call,
    id: IdPath,
    query: web::Query<WaitQuery>,
    key: OptionalIdempotencyKey,
) -> Answer {
    let wait = waits(&query)?;
    let request = pb::RetryExecutionRequest {
        execution_id: id.into_inner(),
        wait,
    };
    let answer = reply(call.jobs_keyed(&key).retry_execution(request)).await?;
    run_answer(answer)
}

/// `POST /api/app/jobinstance/{id}/rollback`: the last successful snapshot before the current
/// one, run again (body and `?wait` as 6.1).
pub async fn rollback(call: Call, id: IdPath, run: RunParts) -> Answer {
    let request = pb::RollbackRequest::from(RunStart::new(id, &run)?.without_plan()?);
    run_answer(reply(call.jobs_keyed(&run.2).rollback(request)).await?)
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    page: Option<String>,
    page_size: Option<String>,
}

/// `GET /api/app/jobinstance/{id}/executions`: `{count, page, results}`, newest first.
pub async fn execution_history(call: Call, id: IdPath, query: web::Query<HistoryQuery>) -> Answer {
    let query = query.into_inner();
    let (page, page_size) = page_params(query.page.as_deref(), query.page_size.as_deref())?;
    let request = pb::ExecutionHistoryRequest {
        instance_id: id.into_inner(),
        page,
        page_size,
    };
    let answer = reply(call.jobs().execution_history(request)).await?;
    let count = i64::try_from(answer.count).unwrap_or(i64::MAX);
    page_of(count, answer.page, answer.results, |execution| {
        history_json(execution, &call.times)
    })
}

/// `GET /api/admin/webhooks`: the configured webhooks and those added here.
pub async fn list_webhooks(call: Call) -> Answer {
    let request = pb::ListWebhooksRequest {};
    let answer = reply(call.jobs().list_webhooks(request)).await?;
    ok_each(answer.webhooks, |webhook| {
        WebhookItem::from_proto(webhook, &call.times)
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct WebhookBody {
    #[schema(max_length = 2048)]
    url: String,
}

/// `POST /api/admin/webhooks` `{"url"}`.
pub async fn add_webhook(call: Call, LegacyJson(body): LegacyJson<WebhookBody>) -> Answer {
    let request = pb::AddWebhookRequest { url: body.url };
    let webhook = reply(call.jobs().add_webhook(request)).await?;
    ok(WebhookItem::from_proto(webhook, &call.times))
}

/// `DELETE /api/admin/webhooks/{id}`.
pub async fn delete_webhook(call: Call, id: IdPath) -> Answer {
    reply(call.jobs().delete_webhook(job_id(id))).await?;
    ok(Nothing)
}

/// 2.1 `POST /api/app/jointline/{id}/execution`: the joint line's instances, each when its
/// parents succeeded (holds like 6.1; `?wait=false` answers at once).
pub async fn execute_joint_line(call: Call, id: IdPath, run: RunParts) -> Answer {
    let start = RunStart::new(id, &run)?;
    let request = pb::ExecuteJointLineRequest {
        joint_line_id: start.id,
        use_tad_host: start.use_tad_host,
        wait: start.wait,
        plan_id: start.plan_id,
    };
    run_answer(reply(call.jobs_keyed(&run.2).execute_joint_line(request)).await?)
}
