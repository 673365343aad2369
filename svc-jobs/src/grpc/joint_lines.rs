//! Joint lines, graphs of instances run in order: proto ⇄ rules.

use super::{Actor, JobsGrpc, JointLineRow, NodeInput, Status, pb, to_unix_ms};

fn joint_line_to_proto(row: JointLineRow) -> pb::JointLine {
    pb::JointLine {
        id: row.id,
        name: row.name,
        remark: row.remark,
        product_line_id: row.product_line_id,
        creator: row.creator,
        create_time_ms: to_unix_ms(row.create_time),
        mender: row.mender,
        update_time_ms: to_unix_ms(row.update_time),
    }
}

impl JobsGrpc {
    pub(super) async fn create_joint_line(
        &self,
        actor: Actor,
        body: pb::CreateJointLineRequest,
    ) -> Result<pb::JointLine, Status> {
        let row = self
            .service
            .create_joint_line(&actor, &body.name, &body.remark, &body.product_line_id)
            .await?;
        Ok(joint_line_to_proto(row))
    }

    pub(super) async fn query_joint_lines(
        &self,
        actor: Actor,
        body: pb::QueryJointLinesRequest,
    ) -> Result<pb::JointLinePage, Status> {
        let page = common::paging::PageRequest::new(body.page, body.page_size);
        let (count, rows) = self
            .service
            .query_joint_lines(
                &actor,
                body.name.as_deref(),
                body.product_line_id.as_deref(),
                page,
            )
            .await?;
        Ok(pb::JointLinePage {
            count,
            page: page.page,
            joint_lines: rows.into_iter().map(joint_line_to_proto).collect(),
        })
    }

    pub(super) async fn save_joint_line(
        &self,
        actor: Actor,
        body: pb::SaveJointLineRequest,
    ) -> Result<pb::JointLine, Status> {
        let nodes = body
            .nodes
            .into_iter()
            .map(|node| NodeInput {
                instance_id: node.instance_id,
                sequence: node.sequence,
                parents: node.parents,
                top: node.top,
                left: node.left,
            })
            .collect();
        let row = self
            .service
            .save_joint_line(&actor, &body.id, nodes)
            .await?;
        Ok(joint_line_to_proto(row))
    }

    pub(super) async fn joint_line_structure(
        &self,
        actor: Actor,
        body: pb::IdRequest,
    ) -> Result<pb::JointLineStructureResponse, Status> {
        let (line, nodes) = self.service.joint_line_structure(&actor, &body.id).await?;
        Ok(pb::JointLineStructureResponse {
            joint_line: Some(joint_line_to_proto(line)),
            nodes: nodes
                .into_iter()
                .map(|node| pb::JointNode {
                    instance_id: node.row.instance_id,
                    sequence: node.row.sequence,
                    parents: node.parents.iter().map(ToString::to_string).collect(),
                    top: node.row.canvas_top,
                    left: node.row.canvas_left,
                    instance_name: node.instance_name,
                    status: node.status,
                })
                .collect(),
        })
    }
}
