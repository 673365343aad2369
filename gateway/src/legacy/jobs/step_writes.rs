//! What is bound to a step, saved (contract 5.6.1, 5.6.2.2–5.6.2.5).

use proto::jobs::v1 as pb;
use serde::Deserialize;
use serde_json::Value;

use super::{Answer, StepPath, ok, step_ref};
use crate::{
    body::LegacyJson,
    clients::{Call, reply},
    convert::catalog::{IdName, LegacyId},
    convert::steps::SavedStepArtifacts,
};
/// Body of 5.6.2.4.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ParamsBody {
    #[schema(value_type = crate::openapi::contract::ParamValues)]
    pub config_value: Value,
}

/// 5.6.2.4 `POST /api/app/jobinstance/{id}/{cpm_id}/{sequence}/config/update`.
pub async fn save_step_params(
    call: Call,
    path: StepPath,
    LegacyJson(body): LegacyJson<ParamsBody>,
) -> Answer {
    let request = pb::SaveStepParamsRequest {
        step: Some(step_ref(path.into_inner())),
        values_json: body.config_value.to_string(),
    };
    reply(call.jobs().save_step_params(request)).await?;
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
    call: Call,
    path: StepPath,
    LegacyJson(body): LegacyJson<ScriptsBody>,
) -> Answer {
    let request = pb::SaveStepScriptsRequest {
        step: Some(step_ref(path.into_inner())),
        scripts: body.scripts_data.into_iter().map(script_proto).collect(),
    };
    reply(call.jobs().save_step_scripts(request)).await?;
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
    call: Call,
    path: StepPath,
    LegacyJson(body): LegacyJson<ConfigsBody>,
) -> Answer {
    let request = configs_proto(step_ref(path.into_inner()), body);
    reply(call.jobs().save_step_configs(request)).await?;
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
    call: Call,
    path: StepPath,
    LegacyJson(body): LegacyJson<ArtifactsBody>,
) -> Answer {
    let request = pb::SaveStepArtifactsRequest {
        step: Some(step_ref(path.into_inner())),
        artifacts: body.artifacts.into_iter().map(artifact_proto).collect(),
    };
    let answer = reply(call.jobs().save_step_artifacts(request)).await?;
    ok(SavedStepArtifacts(
        true,
        IdName {
            id: answer.instance_id,
            name: answer.instance_name,
        },
    ))
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
    /// Beyond the contract: a health-gated progressive rollout of the step (`{}` removes it):
    /// `batches` (host counts or percentages done so far, e.g. `[1, "10%", "50%", "100%"]`) or
    /// `batch_size`, `pause_seconds`, `health` (`{"http": {"url": "http://{host}:8080/health",
    /// "expect_status", "timeout_seconds", "retries", "interval_seconds"}}`, or `{"command":
    /// {"script_id", "parameter", "timeout_seconds", "retries", "interval_seconds"}}` running a
    /// reviewed script on the host), `max_failed_hosts` (a count or `"P%"`), `on_failure`
    /// (`stop` or `rollback`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub rollout: Option<serde_json::Value>,
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
    call: Call,
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
        rollout_json: body.rollout.map(|rollout| rollout.to_string()),
        step: Some(step),
    };
    reply(call.jobs().save_step_all(request)).await?;
    ok(true)
}
