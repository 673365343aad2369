//! What is bound to a step, read back (contract 5.8.2.2–5.8.2.7 and 5.6.1's all-data read).

use actix_web::{HttpRequest, web};
use proto::jobs::v1 as pb;
use serde_json::Value;

use super::{Answer, IdPath, Sequence, StepPath, ok, step_ref};
use crate::{
    clients::{Call, reply},
    convert::artifact::ConfigNode,
    convert::steps::{
        ConfigGroupValues, StepAllData, StepArtifactItem, StepCluster, StepParams, StepScriptItem,
    },
    error::ApiError,
};

/// 5.8.2.2's list: the files bound to a step, with their artifact versions.
async fn step_artifacts_data(
    call: &Call,
    step: pb::StepRef,
    base: &str,
) -> Result<Vec<StepArtifactItem>, ApiError> {
    let answer = reply(call.jobs().step_artifacts(step)).await?;
    Ok(answer
        .artifacts
        .into_iter()
        .map(|artifact| StepArtifactItem::from_proto(artifact, base))
        .collect())
}

/// 5.8.2.3's list: the schema of the app-config template bound to a step.
async fn step_config_schema_data(
    call: &Call,
    step: pb::StepRef,
) -> Result<Vec<ConfigNode>, ApiError> {
    let answer = reply(call.jobs().step_config_schema(step)).await?;
    Ok(answer.nodes.into_iter().map(ConfigNode::from).collect())
}

/// 5.8.2.4's list: the values of each group, when `file_id` is the bound template's `.j2` or
/// the template itself (any bound template when `file_id` is `None`).
async fn step_config_values_data(
    call: &Call,
    step: pb::StepRef,
    file_id: Option<&str>,
) -> Result<Vec<ConfigGroupValues>, ApiError> {
    let answer = reply(call.jobs().step_configs(step)).await?;
    let matches = match (&answer.file_id, file_id) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(bound), Some(wanted)) => {
            bound == wanted || answer.template_id.as_deref() == Some(wanted)
        }
    };
    if !matches {
        return Ok(Vec::new());
    }
    Ok(answer
        .groups
        .into_iter()
        .map(|group| {
            ConfigGroupValues(
                serde_json::from_str::<Value>(&group.configs_json).unwrap_or(Value::Null),
            )
        })
        .collect())
}

/// 5.8.2.5's list: the parameter schema of a method.
async fn method_params_schema_data(
    call: &Call,
    method_id: String,
) -> Result<Vec<ConfigNode>, ApiError> {
    let request = proto::artifact::v1::MethodRequest { method_id };
    let schema = reply(call.artifact().method_schema(request)).await?;
    Ok(schema.nodes.into_iter().map(ConfigNode::from).collect())
}

/// 5.8.2.6's object: the saved values with `histor_data` false (they are this step's own).
async fn step_params_data(call: &Call, step: pb::StepRef) -> Result<StepParams, ApiError> {
    let answer = reply(call.jobs().step_params(step)).await?;
    let mut data = serde_json::Map::new();
    data.insert("histor_data".to_owned(), Value::Bool(false));
    if let Some(Value::Object(values)) = answer
        .values_json
        .and_then(|text| serde_json::from_str(&text).ok())
    {
        data.extend(values);
    }
    Ok(StepParams(Value::Object(data)))
}

/// 5.8.2.7's list: the scripts bound to a step.
async fn step_scripts_data(
    call: &Call,
    step: pb::StepRef,
) -> Result<Vec<StepScriptItem>, ApiError> {
    let answer = reply(call.jobs().step_scripts(step)).await?;
    Ok(answer
        .scripts
        .into_iter()
        .map(StepScriptItem::from)
        .collect())
}

/// 5.8.2.2 `GET /api/app/jobinstance/{id}/{cpm_id}/{sequence}/artifact/json`.
pub async fn step_artifacts(request: HttpRequest, call: Call, path: StepPath) -> Answer {
    ok(step_artifacts_data(
        &call,
        step_ref(path.into_inner()),
        &super::super::artifact::base_url(&request),
    )
    .await?)
}

/// 5.8.2.3 `GET /api/app/jobinstance/{id}/{cpm_id}/{sequence}/actemplate/config/desc`.
pub async fn step_config_schema(call: Call, path: StepPath) -> Answer {
    ok(step_config_schema_data(&call, step_ref(path.into_inner())).await?)
}

/// 5.8.2.4 `GET /api/app/jobinstance/{id}/{cpm_id}/{sequence}/actemplate/{file_id}/config/value`.
pub async fn step_config_values(
    call: Call,
    path: web::Path<(String, String, Sequence, String)>,
) -> Answer {
    let (instance_id, method_id, sequence, file_id) = path.into_inner();
    ok(step_config_values_data(
        &call,
        step_ref((instance_id, method_id, sequence)),
        Some(&file_id),
    )
    .await?)
}

/// 5.8.2.5 `GET /api/app/jobinstance/{cpm_id}/config/desc`: the parameter schema of a method.
pub async fn method_params_schema(call: Call, method_id: IdPath) -> Answer {
    ok(method_params_schema_data(&call, method_id.into_inner()).await?)
}

/// 5.8.2.6 `GET /api/app/jobinstance/{id}/{cpm_id}/{sequence}/config/value`.
pub async fn step_params(call: Call, path: StepPath) -> Answer {
    ok(step_params_data(&call, step_ref(path.into_inner())).await?)
}

/// 5.8.2.7 `GET /api/app/jobinstance/{id}/{cpm_id}/{sequence}/script/json`.
pub async fn step_scripts(call: Call, path: StepPath) -> Answer {
    ok(step_scripts_data(&call, step_ref(path.into_inner())).await?)
}

/// 5.8.1 `POST /api/app/jobinstance/{id}/{cpm_id}/{sequence}/alldata/read` (and the contract's
/// literal URL ending in "出"): every read-back of a step at once.
pub async fn step_all_data(request: HttpRequest, call: Call, path: StepPath) -> Answer {
    let (instance_id, method_id, sequence) = path.into_inner();
    let step = || step_ref((instance_id.clone(), method_id.clone(), sequence));
    let base = super::super::artifact::base_url(&request);
    let message = pb::IdRequest {
        id: instance_id.clone(),
    };
    let choices = reply(call.jobs().instance_cluster_choices(message)).await?;
    let clusters: Vec<StepCluster> = choices
        .clusters
        .into_iter()
        .map(|cluster| StepCluster {
            id: cluster.id,
            name: cluster.name,
            remark: cluster.remark,
        })
        .collect();
    // The services are asked in the order the legacy answer listed them.
    let artifact = step_artifacts_data(&call, step(), &base).await?;
    let actemplate_desc = step_config_schema_data(&call, step()).await?;
    let actemplate_value = step_config_values_data(&call, step(), None).await?;
    let config_desc = method_params_schema_data(&call, method_id.clone()).await?;
    let config_value = step_params_data(&call, step()).await?;
    let script = step_scripts_data(&call, step()).await?;
    ok(StepAllData {
        actemplate_desc,
        actemplate_value,
        artifact,
        clusters,
        config_desc,
        config_value,
        script,
    })
}
