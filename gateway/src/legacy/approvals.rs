//! Deployment requests on protected environments (issue 20): `GET /api/approvals` (a page,
//! newest first, `?status=`), `GET /api/approvals/{id}` (with the frozen plans, secrets masked),
//! `POST /api/approvals/{id}/approve` and `.../reject` (approver or admin, never the requester).
//! svc-jobs holds every rule; these only translate.

use actix_web::web;
use proto::{ErrorReason, jobs::v1 as pb};
use serde::Deserialize;

use super::{Answer, IdPath, ok, page_of};
use crate::{
    body::{LegacyJson, page_params, parse_json},
    clients::{Call, reply},
    convert::approvals::{ApprovalDecision, ApprovalDetails, ApprovalItem, DecisionBody},
    error::ApiError,
};

#[derive(Debug, Deserialize)]
pub struct ApprovalQuery {
    status: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

pub async fn list_approvals(call: Call, query: web::Query<ApprovalQuery>) -> Answer {
    let (page, page_size) = page_params(query.page.as_deref(), query.page_size.as_deref())?;
    let request = pb::ListApprovalsRequest {
        status: query.status.clone(),
        page,
        page_size,
    };
    let answer = reply(call.jobs().list_approvals(request)).await?;
    page_of(answer.count, page.max(1), answer.results, |request| {
        ApprovalItem::from_proto(request, &call.times)
    })
}

pub async fn approval(call: Call, id: IdPath) -> Answer {
    let request = pb::IdRequest {
        id: id.into_inner(),
    };
    let answer = reply(call.jobs().get_approval(request)).await?;
    ok(ApprovalDetails::from_proto(answer, &call.times)
        .map_err(|message| ApiError::new(ErrorReason::InternalError, message))?)
}

/// An approve may come without a body (no comment).
pub async fn approve(call: Call, id: IdPath, body: web::Bytes) -> Answer {
    let body: DecisionBody = if body.iter().all(u8::is_ascii_whitespace) {
        DecisionBody::default()
    } else {
        parse_json(&body)?
    };
    let request = pb::DecideRequest {
        id: id.into_inner(),
        comment: body.comment,
    };
    decided(&call, reply(call.jobs().approve_request(request)).await?)
}

pub async fn reject(call: Call, id: IdPath, body: LegacyJson<DecisionBody>) -> Answer {
    let request = pb::DecideRequest {
        id: id.into_inner(),
        comment: body.0.comment,
    };
    decided(&call, reply(call.jobs().reject_request(request)).await?)
}

fn decided(call: &Call, answer: pb::ApprovalDecision) -> Answer {
    let request = answer.request.ok_or_else(no_request)?;
    ok(ApprovalDecision {
        request: ApprovalItem::from_proto(request, &call.times),
        message: answer.message,
    })
}

fn no_request() -> ApiError {
    ApiError::new(
        ErrorReason::InternalError,
        "the jobs service answered no deployment request",
    )
}
