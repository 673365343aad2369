//! Operations routes: `/healthz` (the process answers), `/readyz` (every service answers gRPC
//! health as serving), `/metrics` (Prometheus), and the JSON answers of unknown routes and
//! methods (appinhouse's `{code,msg}` under `/api/v2`, the failure envelope elsewhere).

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use proto::{ErrorReason, appinhouse::AppinhouseCode};
use serde_json::json;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

use crate::{clients::Clients, convert::appinhouse::Failure, error::ApiError, metrics::Metrics};

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub async fn readyz(clients: web::Data<Clients>) -> HttpResponse {
    let mut ready = true;
    let mut services = serde_json::Map::new();
    for (name, grpc_name, client) in &clients.health {
        let request = tonic::Request::new(HealthCheckRequest {
            service: (*grpc_name).to_owned(),
        });
        let state =
            match tokio::time::timeout(Duration::from_secs(3), client.clone().check(request)).await
            {
                Ok(Ok(answer)) if answer.get_ref().status == ServingStatus::Serving as i32 => {
                    "serving".to_owned()
                }
                Ok(Ok(answer)) => format!("not serving ({})", answer.get_ref().status),
                Ok(Err(status)) => format!("unavailable: {}", status.message()),
                Err(_) => "unavailable: no answer within 3s".to_owned(),
            };
        ready &= state == "serving";
        services.insert((*name).to_owned(), state.into());
    }
    let body = json!({ "status": if ready { "ready" } else { "not ready" }, "services": services });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

pub async fn metrics(metrics: web::Data<Metrics>) -> Result<HttpResponse, ApiError> {
    let text = metrics.render().map_err(|error| {
        ApiError::new(
            ErrorReason::InternalError,
            format!("cannot render metrics: {error}"),
        )
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text))
}

/// Paths of the appinhouse contract, whose failures answer in its `{code,msg}` shape.
fn is_appinhouse_path(path: &str) -> bool {
    path == "/api/v2" || path.starts_with("/api/v2/")
}

/// An unknown route or method: the failure envelope, or `{code,msg}` (1001) under `/api/v2`.
fn route_failure(
    request: &HttpRequest,
    reason: ErrorReason,
    status: StatusCode,
    message: String,
) -> HttpResponse {
    if is_appinhouse_path(request.path()) {
        let failure = Failure::new(AppinhouseCode::InvalidParameter, message);
        return HttpResponse::build(status).json(failure.body());
    }
    actix_web::ResponseError::error_response(&ApiError::new(reason, message))
}

/// Any path the route table does not know.
pub async fn not_found(request: HttpRequest) -> HttpResponse {
    let message = format!("no route {} {}", request.method(), request.path());
    route_failure(
        &request,
        ErrorReason::RouteNotFound,
        StatusCode::NOT_FOUND,
        message,
    )
}

/// A known path called with a method it does not take.
pub async fn method_not_allowed(request: HttpRequest) -> HttpResponse {
    let message = format!("{} is not allowed on {}", request.method(), request.path());
    route_failure(
        &request,
        ErrorReason::MethodNotAllowed,
        StatusCode::METHOD_NOT_ALLOWED,
        message,
    )
}
