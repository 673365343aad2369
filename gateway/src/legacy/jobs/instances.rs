//! Job instances (contract 1.3 / 7.1, 5.2, 5.5, 5.7, 5.9, 5.10), their work orders (7.3, 7.4)
//! and the cluster of a step (5.6.2.1).

use actix_web::{HttpRequest, HttpResponse, web};
use proto::jobs::v1 as pb;
use serde::Deserialize;
use serde_json::Value;

use super::{Answer, IdPath, Sequence, ok, ok_each};
use crate::{
    body::LegacyJson,
    clients::{Call, reply},
    convert::catalog::{LegacyId, Nothing, RecordId},
    convert::jobs::{
        CopiedInstance, CopyBody, InstanceBody, InstanceDetails, InstanceItem, MethodItem,
        SavedWorkOrder,
    },
    error::ApiError,
    legacy::{job_id, paged_list},
};
/// 5.2 `POST /api/app/jobinstance/create`.
pub async fn create_instance(call: Call, LegacyJson(body): LegacyJson<InstanceBody>) -> Answer {
    let request = pb::CreateInstanceRequest {
        name: body.name,
        remark: body.remark.unwrap_or_default(),
        env_id: body.env_id.into_string(),
        application_id: body.application_id.into_string(),
        job_template_id: body.job_template_id.into_string(),
        module_id: body.module_id.map(LegacyId::into_string),
    };
    let instance = reply(call.jobs().create_instance(request)).await?;
    ok(RecordId { id: instance.id })
}

paged_list!(
    /// 5.5 `GET /api/app/jobinstance/aos_json?name=&application_id=`.
    query_instances: jobs.query_instances(pb::QueryInstancesRequest) => instances as InstanceItem::from_proto,
    InstanceQuery { name: name, application_id: application_id }
);

/// Query of 1.3 / 7.1.
#[derive(Debug, Deserialize)]
pub struct InstanceListQuery {
    product_line_id: Option<String>,
    application_id: Option<String>,
    name: Option<String>,
}

/// 1.3 / 7.1 `GET /api/app/jobinstance/jobi_list_one` (unpaginated).
pub async fn list_instances(call: Call, query: web::Query<InstanceListQuery>) -> Answer {
    let query = query.into_inner();
    let request = pb::ListInstancesRequest {
        product_line_id: query.product_line_id,
        application_id: query.application_id,
        name: query.name,
    };
    let answer = reply(call.jobs().list_instances(request)).await?;
    ok_each(answer.instances, |instance| {
        InstanceItem::from_proto(instance, &call.times)
    })
}

/// 5.7 `POST /api/app/jobinstance/{id}/copy`.
pub async fn copy_instance(
    call: Call,
    id: IdPath,
    LegacyJson(body): LegacyJson<CopyBody>,
) -> Answer {
    let request = pb::CopyInstanceRequest {
        id: id.into_inner(),
        name: body.name,
        remark: body.remark.unwrap_or_default(),
        env_id: body.env_id.map(LegacyId::into_string),
        module_id: body.module_id.map(LegacyId::into_string),
    };
    let copy = reply(call.jobs().copy_instance(request)).await?;
    ok(CopiedInstance {
        new_id: copy.id,
        new_name: copy.name,
    })
}

/// 5.9 `DELETE /api/app/jobinstance/{id}`.
pub async fn delete_instance(call: Call, id: IdPath) -> Answer {
    reply(call.jobs().delete_instance(job_id(id))).await?;
    ok(Nothing)
}

/// 5.10 / 7.2 `GET /api/app/jobinstance/{id}/details`: the instance with its steps, and the work
/// order fields (null until a work order is saved).
pub async fn instance_details(request: HttpRequest, call: Call, id: IdPath) -> Answer {
    let base = super::super::artifact::base_url(&request);
    let answer = reply(call.jobs().instance_details(job_id(id))).await?;
    let Some(instance) = answer.instance else {
        return Err(ApiError::new(
            proto::ErrorReason::InternalError,
            "the jobs service answered no instance",
        ));
    };
    let work_order = answer.work_order;
    let excel_data: Option<Value> = work_order
        .as_ref()
        .and_then(|order| serde_json::from_str(&order.excel_data_json).ok());
    let form_text = |key: &str| {
        excel_data
            .as_ref()
            .and_then(|form| form.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    ok(InstanceDetails {
        instance: InstanceItem::from_proto(instance, &call.times),
        methods: answer
            .steps
            .into_iter()
            .map(|step| MethodItem::from_proto(step, &base))
            .collect(),
        current_flow_node: None,
        process_status: work_order
            .as_ref()
            .map(|order| order.process_status.clone()),
        online_date: None,
        halt_time: form_text("halt_time"),
        regain_time: form_text("regain_time"),
        excel_data: excel_data.clone(),
        work_number: None,
        doc_id: work_order.map(|order| order.doc_id),
    })
}

/// Body of 7.3.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct WorkOrderBody {
    pub job_instance_id: LegacyId,
    #[serde(default)]
    pub doc_id: Option<String>,
    #[schema(value_type = crate::openapi::contract::WorkOrderForm)]
    pub excel_data: Value,
    #[serde(default)]
    pub app_id: Option<LegacyId>,
}

/// 7.3 `POST /api/app/jobinstance/online/process/save`.
pub async fn save_work_order(call: Call, LegacyJson(body): LegacyJson<WorkOrderBody>) -> Answer {
    let request = pb::SaveWorkOrderRequest {
        instance_id: body.job_instance_id.into_string(),
        doc_id: body.doc_id,
        excel_data_json: body.excel_data.to_string(),
        app_id: body.app_id.map(LegacyId::into_string),
    };
    let order = reply(call.jobs().save_work_order(request)).await?;
    ok(SavedWorkOrder {
        current_flow_node: Nothing,
        doc_id: order.doc_id,
        process_status: order.process_status,
    })
}

/// `GET /api/app/jobinstance/{id}/online/process/export`: the work order as an .xlsx file.
pub async fn export_work_order(call: Call, id: IdPath) -> Answer {
    let file = reply(call.jobs().export_work_order(job_id(id))).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{}\"", file.file_name),
        ))
        .body(file.content))
}

/// 5.6.2.1 `POST /api/app/jobinstance/{id}/{cpm_id}/{sequence}/{cluster_id}/relation/cluster`.
pub async fn save_step_cluster(
    call: Call,
    path: web::Path<(String, String, Sequence, String)>,
) -> Answer {
    let (instance_id, method_id, Sequence(sequence), cluster_id) = path.into_inner();
    let request = pb::SaveStepClusterRequest {
        instance_id,
        method_id,
        sequence,
        cluster_id,
    };
    reply(call.jobs().save_step_cluster(request)).await?;
    ok(true)
}
