//! Deployment configuration of contract sections 1, 4, 5 and 7: job templates (4.1, 4.5, 5.3 and
//! a create route beyond the contract), job instances (1.3 / 7.1, 5.2, 5.5, 5.7, 5.9, 5.10), the
//! cluster of a step (5.6.2.1), and joint lines (1.4–1.7).

use actix_web::{HttpRequest, HttpResponse, web};
use common::time::TimeRenderer;
use proto::jobs::v1 as pb;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    body::{LegacyJson, page_params},
    clients::{Caller, Clients, reply},
    convert::{
        catalog::LegacyId,
        jobs::{
            CopyBody, CreatedTemplate, GradedBody, GradedMethodItem, InstanceBody, InstanceDetails,
            InstanceItem, JointLineBody, JointLineItem, JointNodeItem, JointStructure, MethodItem,
            SaveJointLineBody, TemplateBody, TemplateItem, TemplateSelectItem,
        },
    },
    envelope::Page,
    error::ApiError,
};

use super::{Answer, ok};

fn page<T: serde::Serialize>(count: i64, page: u32, results: Vec<T>) -> Answer {
    Ok(HttpResponse::Ok().json(Page::new(count, page, results)))
}

/// `POST /api/app/jobtemplate/create` (beyond the contract, which has no create route).
pub async fn create_template(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    LegacyJson(body): LegacyJson<TemplateBody>,
) -> Answer {
    let request = pb::CreateTemplateRequest {
        name: body.name,
        remark: body.remark.unwrap_or_default(),
        r#type: body.template_type.unwrap_or_default(),
        deploy_type: body.deploy_type.unwrap_or_default(),
        application_id: body.application_id.into_string(),
        jobt_rollback_id: body.jobt_rollback_id.map(LegacyId::into_string),
    };
    let template = reply(clients.jobs(&caller).create_template(request)).await?;
    let application_id = template.application_id.clone();
    ok(CreatedTemplate {
        item: TemplateItem::from_proto(template, &times),
        application_id,
    })
}

/// Query of 4.1 and 5.5.
#[derive(Debug, Deserialize)]
pub struct NameAppQuery {
    name: Option<String>,
    application_id: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

/// 4.1 `GET /api/app/jobtemplate/aos_json?name=&application_id=`.
pub async fn query_templates(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    query: web::Query<NameAppQuery>,
) -> Answer {
    let query = query.into_inner();
    let (page_number, page_size) = page_params(query.page.as_deref(), query.page_size.as_deref())?;
    let request = pb::QueryTemplatesRequest {
        name: query.name,
        application_id: query.application_id,
        page: page_number,
        page_size,
    };
    let answer = reply(clients.jobs(&caller).query_templates(request)).await?;
    page(
        answer.count,
        answer.page,
        answer
            .templates
            .into_iter()
            .map(|template| TemplateItem::from_proto(template, &times))
            .collect(),
    )
}

/// 5.3 `GET /api/app/jobtemplate/ordinary/select`.
pub async fn template_select(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
) -> Answer {
    let request = pb::ListTemplatesRequest {};
    let answer = reply(clients.jobs(&caller).list_templates(request)).await?;
    ok(answer
        .templates
        .into_iter()
        .map(|template| TemplateSelectItem::from_proto(template, &times))
        .collect::<Vec<_>>())
}

/// 4.5 `DELETE` (and `POST`) `/api/app/jobtemplate/{id}`.
pub async fn delete_template(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    reply(clients.jobs(&caller).delete_template(pb::IdRequest {
        id: id.into_inner(),
    }))
    .await?;
    ok(true)
}

/// 4.2 `POST /api/app/jobtemplate/{id}/graded`: replaces the template's ordered methods.
pub async fn replace_template_methods(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
    LegacyJson(body): LegacyJson<GradedBody>,
) -> Answer {
    let request = pb::ReplaceTemplateMethodsRequest {
        template_id: id.into_inner(),
        methods: body
            .method
            .into_iter()
            .map(|method| pb::TemplateMethod {
                sequence: method.sequence,
                component_id: method.component_id.into_string(),
                method_id: method.method_id.into_string(),
                ..pb::TemplateMethod::default()
            })
            .collect(),
    };
    let answer = reply(clients.jobs(&caller).replace_template_methods(request)).await?;
    ok(json!({ "id": answer.id, "is_rollback": answer.is_rollback }))
}

/// 4.3 `GET /api/app/jobtemplate/{id}/graded_content`.
pub async fn template_methods(
    request: HttpRequest,
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    let base = super::artifact::base_url(&request);
    let answer = reply(clients.jobs(&caller).template_methods(pb::IdRequest {
        id: id.into_inner(),
    }))
    .await?;
    ok(answer
        .methods
        .into_iter()
        .map(|method| GradedMethodItem::from_proto(method, &base))
        .collect::<Vec<_>>())
}

/// 5.2 `POST /api/app/jobinstance/create`.
pub async fn create_instance(
    caller: Caller,
    clients: web::Data<Clients>,
    LegacyJson(body): LegacyJson<InstanceBody>,
) -> Answer {
    let request = pb::CreateInstanceRequest {
        name: body.name,
        remark: body.remark.unwrap_or_default(),
        env_id: body.env_id.into_string(),
        application_id: body.application_id.into_string(),
        job_template_id: body.job_template_id.into_string(),
        module_id: body.module_id.map(LegacyId::into_string),
    };
    let instance = reply(clients.jobs(&caller).create_instance(request)).await?;
    ok(json!({ "id": instance.id }))
}

/// 5.5 `GET /api/app/jobinstance/aos_json?name=&application_id=`.
pub async fn query_instances(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    query: web::Query<NameAppQuery>,
) -> Answer {
    let query = query.into_inner();
    let (page_number, page_size) = page_params(query.page.as_deref(), query.page_size.as_deref())?;
    let request = pb::QueryInstancesRequest {
        name: query.name,
        application_id: query.application_id,
        page: page_number,
        page_size,
    };
    let answer = reply(clients.jobs(&caller).query_instances(request)).await?;
    page(
        answer.count,
        answer.page,
        answer
            .instances
            .into_iter()
            .map(|instance| InstanceItem::from_proto(instance, &times))
            .collect(),
    )
}

/// Query of 1.3 / 7.1.
#[derive(Debug, Deserialize)]
pub struct InstanceListQuery {
    product_line_id: Option<String>,
    application_id: Option<String>,
    name: Option<String>,
}

/// 1.3 / 7.1 `GET /api/app/jobinstance/jobi_list_one` (unpaginated).
pub async fn list_instances(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    query: web::Query<InstanceListQuery>,
) -> Answer {
    let query = query.into_inner();
    let request = pb::ListInstancesRequest {
        product_line_id: query.product_line_id,
        application_id: query.application_id,
        name: query.name,
    };
    let answer = reply(clients.jobs(&caller).list_instances(request)).await?;
    ok(answer
        .instances
        .into_iter()
        .map(|instance| InstanceItem::from_proto(instance, &times))
        .collect::<Vec<_>>())
}

/// 5.7 `POST /api/app/jobinstance/{id}/copy`.
pub async fn copy_instance(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
    LegacyJson(body): LegacyJson<CopyBody>,
) -> Answer {
    let request = pb::CopyInstanceRequest {
        id: id.into_inner(),
        name: body.name,
        remark: body.remark.unwrap_or_default(),
        env_id: body.env_id.map(LegacyId::into_string),
        module_id: body.module_id.map(LegacyId::into_string),
    };
    let copy = reply(clients.jobs(&caller).copy_instance(request)).await?;
    ok(json!({ "new_name": copy.name, "new_id": copy.id }))
}

/// 5.9 `DELETE /api/app/jobinstance/{id}`.
pub async fn delete_instance(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    reply(clients.jobs(&caller).delete_instance(pb::IdRequest {
        id: id.into_inner(),
    }))
    .await?;
    ok(Value::Null)
}

/// 5.10 / 7.2 `GET /api/app/jobinstance/{id}/details`: the instance with its steps, and the work
/// order fields (null until a work order is saved).
pub async fn instance_details(
    request: HttpRequest,
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    id: web::Path<String>,
) -> Answer {
    let base = super::artifact::base_url(&request);
    let answer = reply(clients.jobs(&caller).instance_details(pb::IdRequest {
        id: id.into_inner(),
    }))
    .await?;
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
        instance: InstanceItem::from_proto(instance, &times),
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
pub async fn save_work_order(
    caller: Caller,
    clients: web::Data<Clients>,
    LegacyJson(body): LegacyJson<WorkOrderBody>,
) -> Answer {
    let request = pb::SaveWorkOrderRequest {
        instance_id: body.job_instance_id.into_string(),
        doc_id: body.doc_id,
        excel_data_json: body.excel_data.to_string(),
        app_id: body.app_id.map(LegacyId::into_string),
    };
    let order = reply(clients.jobs(&caller).save_work_order(request)).await?;
    ok(
        json!({ "current_flow_node": null, "doc_id": order.doc_id, "process_status": order.process_status }),
    )
}

/// `GET /api/app/jobinstance/{id}/online/process/export`: the work order as an .xlsx file.
pub async fn export_work_order(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    let file = reply(clients.jobs(&caller).export_work_order(pb::IdRequest {
        id: id.into_inner(),
    }))
    .await?;
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
    caller: Caller,
    clients: web::Data<Clients>,
    path: web::Path<(String, String, Sequence, String)>,
) -> Answer {
    let (instance_id, method_id, Sequence(sequence), cluster_id) = path.into_inner();
    let request = pb::SaveStepClusterRequest {
        instance_id,
        method_id,
        sequence,
        cluster_id,
    };
    reply(clients.jobs(&caller).save_step_cluster(request)).await?;
    ok(true)
}

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
    page(
        answer.count,
        answer.page,
        answer
            .joint_lines
            .into_iter()
            .map(|line| JointLineItem::from_proto(line, &times))
            .collect(),
    )
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
    ok(json!({ "id": line.id }))
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

/// The `{sequence}` segment of a step URL: a failure names it when it is not a number.
#[derive(Debug, Clone, Copy)]
pub struct Sequence(u32);

impl<'de> Deserialize<'de> for Sequence {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map(Sequence).map_err(|_| {
            serde::de::Error::custom(format!("sequence {text:?} is not a non-negative integer"))
        })
    }
}

fn step_ref(path: (String, String, Sequence)) -> pb::StepRef {
    let (instance_id, method_id, Sequence(sequence)) = path;
    pb::StepRef {
        instance_id,
        method_id,
        sequence,
    }
}

/// 5.8.2.2's list: the files bound to a step, with their artifact versions.
async fn step_artifacts_data(
    clients: &Clients,
    caller: &Caller,
    step: pb::StepRef,
    base: &str,
) -> Result<Value, ApiError> {
    let answer = reply(clients.jobs(caller).step_artifacts(step)).await?;
    Ok(Value::Array(
        answer
            .artifacts
            .into_iter()
            .map(|artifact| {
                json!({
                    "status": artifact.file_name,
                    "artifact_name": artifact.artifact_name,
                    "artifact_version_name": artifact.version,
                    "download_path": crate::convert::artifact::download_path(base, &artifact.file_id),
                    "dest": artifact.dest,
                    "artifact_id": artifact.artifact_id,
                    "host_IP": artifact.host_ips,
                    "filename": artifact.file_name,
                    "version": artifact.version,
                    "file_id": artifact.file_id,
                    "artifact_version_id": artifact.version_id,
                    "md5": artifact.md5,
                })
            })
            .collect(),
    ))
}

/// 5.8.2.3's list: the schema of the app-config template bound to a step.
async fn step_config_schema_data(
    clients: &Clients,
    caller: &Caller,
    step: pb::StepRef,
) -> Result<Value, ApiError> {
    let answer = reply(clients.jobs(caller).step_config_schema(step)).await?;
    Ok(Value::Array(
        answer
            .nodes
            .into_iter()
            .map(crate::convert::artifact::node_json)
            .collect(),
    ))
}

/// 5.8.2.4's list: the values of each group, when `file_id` is the bound template's `.j2` or
/// the template itself (any bound template when `file_id` is `None`).
async fn step_config_values_data(
    clients: &Clients,
    caller: &Caller,
    step: pb::StepRef,
    file_id: Option<&str>,
) -> Result<Value, ApiError> {
    let answer = reply(clients.jobs(caller).step_configs(step)).await?;
    let matches = match (&answer.file_id, file_id) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(bound), Some(wanted)) => {
            bound == wanted || answer.template_id.as_deref() == Some(wanted)
        }
    };
    if !matches {
        return Ok(Value::Array(Vec::new()));
    }
    Ok(Value::Array(
        answer
            .groups
            .into_iter()
            .map(|group| serde_json::from_str::<Value>(&group.configs_json).unwrap_or(Value::Null))
            .collect(),
    ))
}

/// 5.8.2.5's list: the parameter schema of a method.
async fn method_params_schema_data(
    clients: &Clients,
    caller: &Caller,
    method_id: String,
) -> Result<Value, ApiError> {
    let request = proto::artifact::v1::MethodRequest { method_id };
    let schema = reply(clients.artifact(caller).method_schema(request)).await?;
    Ok(Value::Array(
        schema
            .nodes
            .into_iter()
            .map(crate::convert::artifact::node_json)
            .collect(),
    ))
}

/// 5.8.2.6's object: the saved values with `histor_data` false (they are this step's own).
async fn step_params_data(
    clients: &Clients,
    caller: &Caller,
    step: pb::StepRef,
) -> Result<Value, ApiError> {
    let answer = reply(clients.jobs(caller).step_params(step)).await?;
    let mut data = serde_json::Map::new();
    data.insert("histor_data".to_owned(), Value::Bool(false));
    if let Some(Value::Object(values)) = answer
        .values_json
        .and_then(|text| serde_json::from_str(&text).ok())
    {
        data.extend(values);
    }
    Ok(Value::Object(data))
}

/// 5.8.2.7's list: the scripts bound to a step.
async fn step_scripts_data(
    clients: &Clients,
    caller: &Caller,
    step: pb::StepRef,
) -> Result<Value, ApiError> {
    let answer = reply(clients.jobs(caller).step_scripts(step)).await?;
    Ok(Value::Array(
        answer
            .scripts
            .into_iter()
            .map(|script| {
                json!({
                    "execute_type": script.execute_type,
                    "dest": script.dest,
                    "script_file_name": script.file_name,
                    "host_IP": script.host_ips,
                    "script_name": script.script_name,
                    "script_file_id": script.id,
                    "script_id": script.script_id,
                    "parameter": script.parameter,
                })
            })
            .collect(),
    ))
}

type StepPath = web::Path<(String, String, Sequence)>;

/// 5.8.2.2 `GET /api/app/jobinstance/{id}/{cpm_id}/{sequence}/artifact/json`.
pub async fn step_artifacts(
    request: HttpRequest,
    caller: Caller,
    clients: web::Data<Clients>,
    path: StepPath,
) -> Answer {
    ok(step_artifacts_data(
        &clients,
        &caller,
        step_ref(path.into_inner()),
        &super::artifact::base_url(&request),
    )
    .await?)
}

/// 5.8.2.3 `GET /api/app/jobinstance/{id}/{cpm_id}/{sequence}/actemplate/config/desc`.
pub async fn step_config_schema(
    caller: Caller,
    clients: web::Data<Clients>,
    path: StepPath,
) -> Answer {
    ok(step_config_schema_data(&clients, &caller, step_ref(path.into_inner())).await?)
}

/// 5.8.2.4 `GET /api/app/jobinstance/{id}/{cpm_id}/{sequence}/actemplate/{file_id}/config/value`.
pub async fn step_config_values(
    caller: Caller,
    clients: web::Data<Clients>,
    path: web::Path<(String, String, Sequence, String)>,
) -> Answer {
    let (instance_id, method_id, sequence, file_id) = path.into_inner();
    ok(step_config_values_data(
        &clients,
        &caller,
        step_ref((instance_id, method_id, sequence)),
        Some(&file_id),
    )
    .await?)
}

/// 5.8.2.5 `GET /api/app/jobinstance/{cpm_id}/config/desc`: the parameter schema of a method.
pub async fn method_params_schema(
    caller: Caller,
    clients: web::Data<Clients>,
    method_id: web::Path<String>,
) -> Answer {
    ok(method_params_schema_data(&clients, &caller, method_id.into_inner()).await?)
}

/// 5.8.2.6 `GET /api/app/jobinstance/{id}/{cpm_id}/{sequence}/config/value`.
pub async fn step_params(caller: Caller, clients: web::Data<Clients>, path: StepPath) -> Answer {
    ok(step_params_data(&clients, &caller, step_ref(path.into_inner())).await?)
}

/// 5.8.2.7 `GET /api/app/jobinstance/{id}/{cpm_id}/{sequence}/script/json`.
pub async fn step_scripts(caller: Caller, clients: web::Data<Clients>, path: StepPath) -> Answer {
    ok(step_scripts_data(&clients, &caller, step_ref(path.into_inner())).await?)
}

/// 5.8.1 `POST /api/app/jobinstance/{id}/{cpm_id}/{sequence}/alldata/read` (and the contract's
/// literal URL ending in "出"): every read-back of a step at once.
pub async fn step_all_data(
    request: HttpRequest,
    caller: Caller,
    clients: web::Data<Clients>,
    path: StepPath,
) -> Answer {
    let (instance_id, method_id, sequence) = path.into_inner();
    let step = || step_ref((instance_id.clone(), method_id.clone(), sequence));
    let base = super::artifact::base_url(&request);
    let message = pb::IdRequest {
        id: instance_id.clone(),
    };
    let choices = reply(clients.jobs(&caller).instance_cluster_choices(message)).await?;
    let clusters: Vec<Value> = choices
        .clusters
        .into_iter()
        .map(|cluster| json!({"remark": cluster.remark, "id": cluster.id, "name": cluster.name}))
        .collect();
    ok(json!({
        "clusters": clusters,
        "artifact": step_artifacts_data(&clients, &caller, step(), &base).await?,
        "actemplate_desc": step_config_schema_data(&clients, &caller, step()).await?,
        "actemplate_value": step_config_values_data(&clients, &caller, step(), None).await?,
        "config_desc": method_params_schema_data(&clients, &caller, method_id.clone()).await?,
        "config_value": step_params_data(&clients, &caller, step()).await?,
        "script": step_scripts_data(&clients, &caller, step()).await?,
    }))
}

/// Body of 5.6.2.4.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ParamsBody {
    #[schema(value_type = crate::openapi::contract::ParamValues)]
    pub config_value: Value,
}

/// 5.6.2.4 `POST /api/app/jobinstance/{id}/{cpm_id}/{sequence}/config/update`.
pub async fn save_step_params(
    caller: Caller,
    clients: web::Data<Clients>,
    path: StepPath,
    LegacyJson(body): LegacyJson<ParamsBody>,
) -> Answer {
    let request = pb::SaveStepParamsRequest {
        step: Some(step_ref(path.into_inner())),
        values_json: body.config_value.to_string(),
    };
    reply(clients.jobs(&caller).save_step_params(request)).await?;
    ok(true)
}

/// One script of 5.6.2.5's body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ScriptBody {
    pub id: LegacyId,
    #[serde(default)]
    #[schema(max_length = 1024)]
    pub dest: String,
    #[serde(default, rename = "host_IP")]
    pub host_ip: Vec<String>,
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub parameter: String,
    #[serde(default)]
    #[schema(max_length = 64)]
    pub execute_type: String,
}

/// Body of 5.6.2.5.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ScriptsBody {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub script_id: Option<Value>,
    pub scripts_data: Vec<ScriptBody>,
}

/// 5.6.2.5 `POST /api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/script`.
pub async fn save_step_scripts(
    caller: Caller,
    clients: web::Data<Clients>,
    path: StepPath,
    LegacyJson(body): LegacyJson<ScriptsBody>,
) -> Answer {
    let request = pb::SaveStepScriptsRequest {
        step: Some(step_ref(path.into_inner())),
        scripts: body.scripts_data.into_iter().map(script_proto).collect(),
    };
    reply(clients.jobs(&caller).save_step_scripts(request)).await?;
    ok(true)
}

/// One group of 5.6.2.3's body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ConfigGroupBody {
    #[serde(default)]
    #[schema(max_length = 1024)]
    pub dest: String,
    #[serde(default, rename = "host_IP")]
    pub host_ip: Vec<String>,
    #[serde(default)]
    #[schema(value_type = crate::openapi::contract::ParamValues)]
    pub configs: Value,
    #[serde(default)]
    #[schema(max_length = 1024)]
    pub targetname: String,
}

/// Body of 5.6.2.3.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ConfigsBody {
    pub file_id: LegacyId,
    #[serde(default)]
    pub groups: Vec<ConfigGroupBody>,
}

/// 5.6.2.3 `POST /api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/actemplate`.
pub async fn save_step_configs(
    caller: Caller,
    clients: web::Data<Clients>,
    path: StepPath,
    LegacyJson(body): LegacyJson<ConfigsBody>,
) -> Answer {
    let request = configs_proto(step_ref(path.into_inner()), body);
    reply(clients.jobs(&caller).save_step_configs(request)).await?;
    ok(true)
}

/// One artifact of 5.6.2.2's body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ArtifactBody {
    pub file_id: LegacyId,
    #[serde(default)]
    #[schema(max_length = 1024)]
    pub dest: String,
    #[serde(default, rename = "host_IP")]
    pub host_ip: Vec<String>,
}

/// Body of 5.6.2.2.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ArtifactsBody {
    pub artifacts: Vec<ArtifactBody>,
}

/// 5.6.2.2 `POST /api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/artifact`: answers
/// `[true, {id, name}]` of the instance, as the legacy platform did.
pub async fn save_step_artifacts(
    caller: Caller,
    clients: web::Data<Clients>,
    path: StepPath,
    LegacyJson(body): LegacyJson<ArtifactsBody>,
) -> Answer {
    let request = pb::SaveStepArtifactsRequest {
        step: Some(step_ref(path.into_inner())),
        artifacts: body.artifacts.into_iter().map(artifact_proto).collect(),
    };
    let answer = reply(clients.jobs(&caller).save_step_artifacts(request)).await?;
    ok(json!([true, {"id": answer.instance_id, "name": answer.instance_name}]))
}

/// `cluster` of 5.6.1's body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ClusterPart {
    pub cluster_id: LegacyId,
}

/// `config` of 5.6.1's body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ParamsPart {
    #[schema(value_type = crate::openapi::contract::ParamValues)]
    pub config_value: Value,
}

/// `scripts` of 5.6.1's body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ScriptsPart {
    #[serde(default)]
    pub scripts_data: Vec<ScriptBody>,
}

/// Body of 5.6.1: every part optional; absent parts stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AllBody {
    #[serde(default)]
    pub cluster: Option<ClusterPart>,
    #[serde(default)]
    pub artifacts: Option<Vec<ArtifactBody>>,
    #[serde(default)]
    pub actemplates: Option<ConfigsBody>,
    #[serde(default)]
    pub config: Option<ParamsPart>,
    #[serde(default)]
    pub scripts: Option<ScriptsPart>,
    /// Beyond the contract: a rolling deploy of the step (SPEC §5).
    #[serde(default)]
    pub rolling: Option<RollingPart>,
}

/// `{"batch_size": hosts per batch (0 = all), "pause_seconds": pause between batches}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RollingPart {
    #[serde(default)]
    pub batch_size: u32,
    #[serde(default)]
    pub pause_seconds: u32,
}

fn script_proto(script: ScriptBody) -> pb::StepScript {
    pb::StepScript {
        id: script.id.into_string(),
        dest: script.dest,
        host_ips: script.host_ip,
        parameter: script.parameter,
        execute_type: script.execute_type,
        ..pb::StepScript::default()
    }
}

fn artifact_proto(artifact: ArtifactBody) -> pb::StepArtifact {
    pb::StepArtifact {
        file_id: artifact.file_id.into_string(),
        dest: artifact.dest,
        host_ips: artifact.host_ip,
        ..pb::StepArtifact::default()
    }
}

fn configs_proto(step: pb::StepRef, body: ConfigsBody) -> pb::SaveStepConfigsRequest {
    pb::SaveStepConfigsRequest {
        step: Some(step),
        file_id: body.file_id.into_string(),
        groups: body
            .groups
            .into_iter()
            .map(|group| pb::ConfigGroup {
                dest: group.dest,
                host_ips: group.host_ip,
                configs_json: if group.configs.is_null() {
                    "{}".to_owned()
                } else {
                    group.configs.to_string()
                },
                target_name: group.targetname,
            })
            .collect(),
    }
}

/// 5.6.1 `POST /api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/alldata`: cluster,
/// artifacts, app-config groups, parameters and scripts of a step in one request, all or nothing.
pub async fn save_step_all(
    caller: Caller,
    clients: web::Data<Clients>,
    path: StepPath,
    LegacyJson(body): LegacyJson<AllBody>,
) -> Answer {
    let step = step_ref(path.into_inner());
    let request = pb::SaveStepAllRequest {
        cluster_id: body.cluster.map(|cluster| cluster.cluster_id.into_string()),
        has_artifacts: body.artifacts.is_some(),
        artifacts: body
            .artifacts
            .unwrap_or_default()
            .into_iter()
            .map(artifact_proto)
            .collect(),
        configs: body
            .actemplates
            .map(|configs| configs_proto(step.clone(), configs)),
        params_json: body.config.map(|config| config.config_value.to_string()),
        has_scripts: body.scripts.is_some(),
        scripts: body
            .scripts
            .map(|scripts| scripts.scripts_data)
            .unwrap_or_default()
            .into_iter()
            .map(script_proto)
            .collect(),
        rolling: body.rolling.map(|rolling| pb::Rolling {
            batch_size: rolling.batch_size,
            pause_seconds: rolling.pause_seconds,
        }),
        step: Some(step),
    };
    reply(clients.jobs(&caller).save_step_all(request)).await?;
    ok(true)
}
