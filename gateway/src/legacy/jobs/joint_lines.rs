//! Joint lines (contract 1.4–1.7): create, query, save and their structure.

use actix_web::web;
use common::time::TimeRenderer;
use proto::jobs::v1 as pb;
use serde::Deserialize;

use super::{Answer, ok, page_of};
use crate::{
    body::LegacyJson,
    body::page_params,
    clients::Caller,
    clients::Clients,
    clients::reply,
    convert::catalog::RecordId,
    convert::jobs::{
        JointLineBody, JointLineItem, JointNodeItem, JointStructure, SaveJointLineBody,
    },
    error::ApiError,
};
/// 1.7 `POST /api/app/jointline/create`.
pub async fn create_joint_line(
    caller: Caller,
    clients: web::Data<Clients>,
    LegacyJson(body): LegacyJson<JointLineBody>,
) -> Answer {
    let request = pb::CreateJointLineRequest {
        name: body.name,
        remark: body.remark.unwrap_or_default(),
        product_line_id: body.productline_id.into_string(),
    };
    let line = reply(clients.jobs(&caller).create_joint_line(request)).await?;
    ok(line.id)
}

/// Query of 1.6.
#[derive(Debug, Deserialize)]
pub struct JointLineQuery {
    name: Option<String>,
    productline_id: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

/// 1.6 `GET /api/app/jointline/aos_json?name=&productline_id=`.
pub async fn query_joint_lines(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    query: web::Query<JointLineQuery>,
) -> Answer {
    let query = query.into_inner();
    let (page_number, page_size) = page_params(query.page.as_deref(), query.page_size.as_deref())?;
    let request = pb::QueryJointLinesRequest {
        name: query.name,
        product_line_id: query.productline_id,
        page: page_number,
        page_size,
    };
    let answer = reply(clients.jobs(&caller).query_joint_lines(request)).await?;
    page_of(answer.count, answer.page, answer.joint_lines, |line| {
        JointLineItem::from_proto(line, &times)
    })
}

/// 1.4 `POST /api/app/jointline/save`.
pub async fn save_joint_line(
    caller: Caller,
    clients: web::Data<Clients>,
    LegacyJson(body): LegacyJson<SaveJointLineBody>,
) -> Answer {
    let request = pb::SaveJointLineRequest {
        id: body.id.into_string(),
        nodes: body.joint.into_iter().map(pb::JointNode::from).collect(),
    };
    let line = reply(clients.jobs(&caller).save_joint_line(request)).await?;
    ok(RecordId { id: line.id })
}

/// 1.5 `GET /api/app/jointline/get_structure/{id}`.
pub async fn joint_line_structure(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    let answer = reply(clients.jobs(&caller).joint_line_structure(pb::IdRequest {
        id: id.into_inner(),
    }))
    .await?;
    let Some(line) = answer.joint_line else {
        return Err(ApiError::new(
            proto::ErrorReason::InternalError,
            "the jobs service answered no joint line",
        ));
    };
    ok(JointStructure {
        joint: answer.nodes.into_iter().map(JointNodeItem::from).collect(),
        id: line.id,
        name: line.name,
    })
}
