//! Scheduled deploys (issue 21): `POST /api/schedules`, `GET /api/schedules` (a page),
//! `POST /api/schedules/{id}/pause` and `.../resume`, `DELETE /api/schedules/{id}`. svc-jobs holds
//! every rule; these only translate.

use actix_web::web;
use proto::jobs::v1 as pb;
use serde::Deserialize;

use super::{Answer, IdPath, job_id, ok, page_of};
use crate::{
    body::{LegacyJson, page_params},
    clients::{Call, reply},
    convert::{
        catalog::Nothing,
        schedules::{ScheduleBody, ScheduleItem},
    },
};

#[derive(Debug, Deserialize)]
pub struct ScheduleQuery {
    page: Option<String>,
    page_size: Option<String>,
}

pub async fn create_schedule(call: Call, LegacyJson(body): LegacyJson<ScheduleBody>) -> Answer {
    let request = pb::CreateScheduleRequest {
        instance_id: body.instance_id,
        jointline_id: body.jointline_id,
        cron: body.cron,
        timezone: body.timezone,
        enabled: body.enabled,
        use_tad_host: body.use_tad_host,
    };
    let schedule = reply(call.jobs().create_schedule(request)).await?;
    ok(ScheduleItem::from_proto(schedule, &call.times))
}

pub async fn list_schedules(call: Call, query: web::Query<ScheduleQuery>) -> Answer {
    let (page, page_size) = page_params(query.page.as_deref(), query.page_size.as_deref())?;
    let request = pb::ListSchedulesRequest { page, page_size };
    let answer = reply(call.jobs().list_schedules(request)).await?;
    page_of(answer.count, page.max(1), answer.results, |schedule| {
        ScheduleItem::from_proto(schedule, &call.times)
    })
}

async fn set_enabled(call: Call, id: IdPath, enabled: bool) -> Answer {
    let request = pb::SetScheduleEnabledRequest {
        id: id.into_inner(),
        enabled,
    };
    let schedule = reply(call.jobs().set_schedule_enabled(request)).await?;
    ok(ScheduleItem::from_proto(schedule, &call.times))
}

pub async fn pause_schedule(call: Call, id: IdPath) -> Answer {
    set_enabled(call, id, false).await
}

pub async fn resume_schedule(call: Call, id: IdPath) -> Answer {
    set_enabled(call, id, true).await
}

pub async fn delete_schedule(call: Call, id: IdPath) -> Answer {
    reply(call.jobs().delete_schedule(job_id(id))).await?;
    ok(Nothing)
}
