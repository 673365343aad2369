//! The dry runs of 6.1 and 2.1 (issue 21) as `POST /api/app/jobinstance/{id}/plan` and
//! `POST /api/app/jointline/{id}/plan` answer them: read from the jobs service's JSON into these
//! types (the OpenAPI schemas), field for field.

use serde::{Deserialize, Serialize};

/// What 6.1 of the instance would do now, without doing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InstancePlanView {
    /// The same inputs give the same id; send it with 6.1 to run exactly this.
    pub plan_id: String,
    pub instance_id: String,
    pub use_tad_host: bool,
    /// The last successful run compared with (null: the instance never succeeded).
    pub compared_with: Option<String>,
    pub steps: Vec<PlannedStepView>,
    /// What would stop or hold the run (empty: 6.1 would start now).
    pub blockers: Vec<BlockerView>,
}

/// What 2.1 of the joint line would do now, without doing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JointLinePlanView {
    /// The same inputs give the same id; send it with 2.1 to run exactly this.
    pub plan_id: String,
    pub jointline_id: String,
    pub use_tad_host: bool,
    /// The nodes in the joint line's order, each with its parents and its instance's plan.
    pub nodes: Vec<PlannedNodeView>,
    /// Every node's blockers, each naming its node and instance (empty: 2.1 would start now).
    pub blockers: Vec<BlockerView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlannedNodeView {
    pub sequence: i64,
    /// The sequences of the nodes it waits for.
    pub parents: Vec<i64>,
    /// Its instance's plan, as the instance's plan route answers it.
    pub plan: InstancePlanView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BlockerView {
    /// `unreviewed_script`, `unknown_host_key`, `approval_required` or `window_closed`.
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlannedStepView {
    pub sequence: i32,
    pub component_id: String,
    pub method_id: String,
    pub method_name: String,
    pub cluster_id: String,
    pub hosts: Vec<String>,
    /// The hosts of each batch, in order.
    pub batches: Vec<Vec<String>>,
    pub artifacts: Vec<PlannedArtifactView>,
    pub configs: Vec<ConfigDiffView>,
    /// Parameters that differ from the last successful run (secrets as `******`).
    pub params: Vec<ParamChangeView>,
    pub scripts: Vec<PlannedScriptView>,
    pub timeout_secs: u64,
    /// The step's health-gated rollout as saved in 5.6.1 (`batches` or `batch_size`,
    /// `pause_seconds`, `health`, `max_failed_hosts`, `on_failure`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub rollout: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlannedArtifactView {
    pub file_name: String,
    pub version: Option<String>,
    pub md5: String,
    pub dest: String,
    pub hosts: Vec<String>,
    /// Hosts where the last successful run left another file (or none) at this path.
    pub changed_hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfigDiffView {
    pub path: String,
    pub hosts: Vec<String>,
    pub changed: bool,
    /// Unified diff against what the last successful run rendered (empty when equal).
    pub diff: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ParamChangeView {
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlannedScriptView {
    pub script_name: String,
    pub file_name: String,
    pub parameter: String,
    pub hosts: Vec<String>,
    /// Only reviewed scripts run.
    pub reviewed: bool,
}

/// The body of the plan route (`{"use_tad_host": false}`; an empty body means false).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    #[serde(default)]
    pub use_tad_host: Option<bool>,
}
