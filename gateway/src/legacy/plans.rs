//! `POST /api/app/jobinstance/{id}/plan` (issue 21): the dry run of 6.1. svc-jobs computes the
//! plan and holds every rule; this only translates.

use actix_web::web;
use proto::{ErrorReason, jobs::v1 as pb};

use super::{Answer, IdPath, ok};
use crate::{
    body::parse_json,
    clients::{Call, reply},
    convert::plans::{InstancePlanView, PlanBody},
    error::ApiError,
};

pub async fn plan_instance(call: Call, id: IdPath, body: web::Bytes) -> Answer {
    let body: PlanBody = if body.iter().all(u8::is_ascii_whitespace) {
        PlanBody::default()
    } else {
        parse_json(&body)?
    };
    let request = pb::PlanRequest {
        instance_id: id.into_inner(),
        use_tad_host: body.use_tad_host.unwrap_or(false),
    };
    let answer = reply(call.jobs().plan_instance(request)).await?;
    let plan: InstancePlanView = serde_json::from_str(&answer.plan_json).map_err(|error| {
        ApiError::new(
            ErrorReason::InternalError,
            format!("the jobs service answered a plan that cannot be read: {error}"),
        )
    })?;
    ok(plan)
}
