//! `POST /api/app/jobinstance/{id}/plan` and `POST /api/app/jointline/{id}/plan` (issue 21): the
//! dry runs of 6.1 and 2.1. svc-jobs computes the plans and holds every rule; this only
//! translates.

use actix_web::web;
use proto::{ErrorReason, jobs::v1 as pb};

use super::{Answer, IdPath, ok};
use crate::{
    body::parse_json,
    clients::{Call, reply},
    convert::plans::{InstancePlanView, JointLinePlanView, PlanBody},
    error::ApiError,
};

/// The `use_tad_host` of a plan route's body (an empty body means false).
fn use_tad_host(body: &web::Bytes) -> Result<bool, ApiError> {
    let body: PlanBody = if body.iter().all(u8::is_ascii_whitespace) {
        PlanBody::default()
    } else {
        parse_json(body)?
    };
    Ok(body.use_tad_host.unwrap_or(false))
}

/// The plan the jobs service answered as JSON, read into its view.
fn read_plan<View: serde::de::DeserializeOwned>(json: &str) -> Result<View, ApiError> {
    serde_json::from_str(json).map_err(|error| {
        ApiError::new(
            ErrorReason::InternalError,
            format!("the jobs service answered a plan that cannot be read: {error}"),
        )
    })
}

pub async fn plan_instance(call: Call, id: IdPath, body: web::Bytes) -> Answer {
    let request = pb::PlanRequest {
        use_tad_host: use_tad_host(&body)?,
        instance_id: id.into_inner(),
    };
    let answer = reply(call.jobs().plan_instance(request)).await?;
    ok(read_plan::<InstancePlanView>(&answer.plan_json)?)
}

pub async fn plan_joint_line(call: Call, id: IdPath, body: web::Bytes) -> Answer {
    let request = pb::PlanJointLineRequest {
        use_tad_host: use_tad_host(&body)?,
        joint_line_id: id.into_inner(),
    };
    let answer = reply(call.jobs().plan_joint_line(request)).await?;
    ok(read_plan::<JointLinePlanView>(&answer.plan_json)?)
}
