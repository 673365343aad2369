//! Request bodies that stall are cut: every request body is read through a timer that fails the
//! read when no byte arrived for the configured time while the handler waits for one (JSON, form,
//! multipart and streamed uploads alike); the answer is then 408 with the failure envelope and
//! the connection is closed. A body the handler left unread also closes the connection, so a
//! stalled body cannot hold it either.

use std::{
    cell::{Cell, RefCell},
    future::Future,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
    time::Duration,
};

use actix_web::{
    Error, HttpMessage, HttpResponse, ResponseError,
    body::{BodySize, BoxBody, MessageBody},
    dev::{Payload, ServiceRequest, ServiceResponse},
    error::PayloadError,
    http::{
        ConnectionType,
        header::{CONTENT_LENGTH, TRANSFER_ENCODING},
    },
    middleware::Next,
    web,
};
use bytes::Bytes;
use futures::Stream;
use proto::{ErrorReason, appinhouse::AppinhouseCode};
use tokio::time::Sleep;

use crate::{
    convert::appinhouse::Failure,
    error::{ApiError, excerpt},
};

/// Longest wait for the next byte of a request body (`TAD_BODY_IDLE_TIMEOUT_SECS`).
#[derive(Debug, Clone, Copy)]
pub struct BodyIdleTimeout(pub Duration);

/// What the reading of one request body came to, shared by the body and the middleware.
#[derive(Debug, Default)]
struct BodyState {
    stalled: Cell<bool>,
    finished: Cell<bool>,
}

/// The request body behind an idle timer. The timer runs only while the reader waits for the
/// client (a reader that is busy elsewhere, e.g. forwarding to a service, costs the client
/// nothing) and restarts with every chunk.
struct IdleBody {
    /// Shared with the answer: a body left unread stays alive until the answer is sent, so
    /// actix closes the connection instead of draining a body that may never end.
    inner: Rc<RefCell<Payload>>,
    timeout: Duration,
    timer: Option<Pin<Box<Sleep>>>,
    state: Rc<BodyState>,
}

fn stalled_error(timeout: Duration) -> PayloadError {
    PayloadError::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!(
            "no byte of the request body arrived for {} s",
            timeout.as_secs_f64()
        ),
    ))
}

impl Stream for IdleBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.state.stalled.get() {
            return Poll::Ready(Some(Err(stalled_error(this.timeout))));
        }
        let polled = Pin::new(&mut *this.inner.borrow_mut()).poll_next(context);
        match polled {
            Poll::Ready(item) => {
                this.timer = None;
                if item.is_none() {
                    this.state.finished.set(true);
                }
                Poll::Ready(item)
            }
            Poll::Pending => {
                let timeout = this.timeout;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match timer.as_mut().poll(context) {
                    Poll::Ready(()) => {
                        this.timer = None;
                        this.state.stalled.set(true);
                        Poll::Ready(Some(Err(stalled_error(timeout))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

/// An answer's body that keeps the unread request body alive until the answer's last byte is
/// written (see [`IdleBody::inner`]).
struct HoldUnread {
    body: BoxBody,
    _unread: Rc<RefCell<Payload>>,
}

impl MessageBody for HoldUnread {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(context)
    }
}

/// `response` with the connection closed after it, and the unread body held until then.
fn close_after(
    mut response: ServiceResponse<BoxBody>,
    unread: Rc<RefCell<Payload>>,
) -> ServiceResponse<BoxBody> {
    response
        .response_mut()
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    response.map_body(|_, body| {
        BoxBody::new(HoldUnread {
            body,
            _unread: unread,
        })
    })
}

/// Whether the request announced a body (a length above zero, or chunks).
fn has_body(request: &ServiceRequest) -> bool {
    let headers = request.headers();
    headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .is_some_and(|length| length > 0)
}

/// A request cut because its body stalled.
#[derive(Debug, thiserror::Error)]
#[error("request body stalled: no byte arrived for {} s; the request was cut", .timeout.as_secs_f64())]
struct StalledBody {
    timeout: Duration,
    /// The route answers the appinhouse `{code,msg}` shape.
    appinhouse: bool,
}

impl ResponseError for StalledBody {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::REQUEST_TIMEOUT
    }

    /// 408 in the shape of the route's contract: `{code,msg}` for the appinhouse routes, the
    /// failure envelope for the rest; the connection is closed after it.
    fn error_response(&self) -> HttpResponse {
        let mut response = if self.appinhouse {
            HttpResponse::RequestTimeout()
                .json(Failure::new(AppinhouseCode::InvalidParameter, self.to_string()).body())
        } else {
            ApiError::new(ErrorReason::RequestTimeout, self.to_string()).error_response()
        };
        response
            .head_mut()
            .set_connection_type(ConnectionType::Close);
        response
    }
}

/// Reads every request body through the idle timer; answers 408 and closes the connection when
/// it fired, and closes the connection after any answer that left the body unread.
pub async fn cut_stalled_bodies(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let timeout = request
        .app_data::<web::Data<BodyIdleTimeout>>()
        .map(|timeout| timeout.0);
    let Some(timeout) = timeout.filter(|_| has_body(&request)) else {
        return next
            .call(request)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let state = Rc::new(BodyState::default());
    let inner = Rc::new(RefCell::new(request.take_payload()));
    let body = IdleBody {
        inner: inner.clone(),
        timeout,
        timer: None,
        state: state.clone(),
    };
    request.set_payload(Payload::Stream {
        payload: Box::pin(body),
    });
    let stalled = StalledBody {
        timeout,
        appinhouse: request.path().starts_with("/api/v2/"),
    };
    let path = excerpt(request.path()).into_owned();
    let answer = next.call(request).await;
    if state.stalled.get() {
        tracing::warn!(
            %path,
            timeout_ms = timeout.as_millis() as u64,
            "request body stalled; request cut"
        );
        // Whatever the handler made of the cut body, the answer is the 408.
        return match answer {
            Ok(response) => {
                let (request, _) = response.into_parts();
                let response = ServiceResponse::new(request, stalled.error_response());
                Ok(close_after(response, inner))
            }
            Err(_) => Err(stalled.into()),
        };
    }
    let response = answer?.map_into_boxed_body();
    if state.finished.get() {
        return Ok(response);
    }
    Ok(close_after(response, inner))
}
