//! Joint lines (contract 1.4–1.7): create, query, save and their structure.

use proto::jobs::v1 as pb;

use super::{Answer, IdPath, ok};
use crate::{
    body::LegacyJson,
    clients::{Call, reply},
    convert::catalog::RecordId,
    convert::jobs::{
        JointLineBody, JointLineItem, JointNodeItem, JointStructure, SaveJointLineBody,
    },
    error::ApiError,
    legacy::{job_id, paged_list},
};
/// 1.7 `POST /api/app/jointline/create`.
pub async fn create_joint_line(call: Call, LegacyJson(body): LegacyJson<JointLineBody>) -> Answer {
    let request = pb::CreateJointLineRequest {
        name: body.name,
        remark: body.remark.unwrap_or_default(),
        product_line_id: body.productline_id.into_string(),
    };
    let line = reply(call.jobs().create_joint_line(request)).await?;
    ok(line.id)
}

paged_list!(
    /// 1.6 `GET /api/app/jointline/aos_json?name=&productline_id=`.
    query_joint_lines: jobs.query_joint_lines(pb::QueryJointLinesRequest) => joint_lines as JointLineItem::from_proto,
    JointLineQuery { name: name, product_line_id: productline_id }
);

/// 1.4 `POST /api/app/jointline/save`.
pub async fn save_joint_line(
    call: Call,
    LegacyJson(body): LegacyJson<SaveJointLineBody>,
) -> Answer {
    let request = pb::SaveJointLineRequest {
        id: body.id.into_string(),
        nodes: body.joint.into_iter().map(pb::JointNode::from).collect(),
    };
    let line = reply(call.jobs().save_joint_line(request)).await?;
    ok(RecordId { id: line.id })
}

/// 1.5 `GET /api/app/jointline/get_structure/{id}`.
pub async fn joint_line_structure(call: Call, id: IdPath) -> Answer {
    let answer = reply(call.jobs().joint_line_structure(job_id(id))).await?;
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
