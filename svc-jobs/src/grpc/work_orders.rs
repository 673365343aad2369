//! Work orders and their export: proto ⇄ rules.

use super::{CallerExt, ErrorReason, JobsGrpc, Request, Response, Status, pb, work_order_to_proto};

impl JobsGrpc {
    pub(super) async fn save_work_order(
        &self,
        request: Request<pb::SaveWorkOrderRequest>,
    ) -> Result<Response<pb::WorkOrder>, Status> {
        let actor = request.actor()?;
        let body = request.into_inner();
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
        Ok(Response::new(work_order_to_proto(row)))
    }

    pub(super) async fn export_work_order(
        &self,
        request: Request<pb::IdRequest>,
    ) -> Result<Response<pb::WorkOrderFile>, Status> {
        let actor = request.actor()?;
        let (file_name, content) = self
            .service
            .export_work_order(&actor, &request.into_inner().id)
            .await?;
        Ok(Response::new(pb::WorkOrderFile { file_name, content }))
    }
}
