//! Work orders and their export: proto ⇄ rules.

use super::{Actor, ErrorReason, JobsGrpc, Status, pb, work_order_to_proto};

impl JobsGrpc {
    pub(super) async fn save_work_order(
        &self,
        actor: Actor,
        body: pb::SaveWorkOrderRequest,
    ) -> Result<pb::WorkOrder, Status> {
        let excel_data: serde_json::Value =
            serde_json::from_str(&body.excel_data_json).map_err(|error| {
                ErrorReason::InvalidField.status(format!("excel_data is not JSON: {error}"))
            })?;
        let row = self
            .service
            .save_work_order(
                &actor,
                &body.instance_id,
                body.doc_id.as_deref(),
                excel_data,
                body.app_id.as_deref(),
            )
            .await?;
        Ok(work_order_to_proto(row))
    }

    pub(super) async fn export_work_order(
        &self,
        actor: Actor,
        body: pb::IdRequest,
    ) -> Result<pb::WorkOrderFile, Status> {
        let (file_name, content) = self.service.export_work_order(&actor, &body.id).await?;
        Ok(pb::WorkOrderFile { file_name, content })
    }
}
