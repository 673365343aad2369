//! The data of a step's bindings (contract 5.6.2.x) as stored in its JSON document: shared by
//! the rules in `service` and the engine in `execution`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::db::models::instances::StepRow;

/// A script file bound to a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptBinding {
    /// The script *file* id.
    pub id: String,
    pub dest: String,
    pub host_ips: Vec<String>,
    pub parameter: String,
    pub execute_type: String,
}

/// A stored file pushed to `dest` on the step's hosts (5.6.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactBinding {
    pub file_id: String,
    pub dest: String,
    pub host_ips: Vec<String>,
}

/// Everything 5.6.1 may save at once; absent parts are left as they are.
#[derive(Debug, Clone, Default)]
pub struct AllBindings {
    pub cluster_id: Option<String>,
    pub artifacts: Option<Vec<ArtifactBinding>>,
    pub configs: Option<ConfigBinding>,
    pub params: Option<Value>,
    pub scripts: Option<Vec<ScriptBinding>>,
    /// Hosts per batch (0 = all at once) and seconds between batches.
    pub rolling: Option<(u32, u64)>,
    /// The step's health-gated rollout as the client sent it (an empty object removes it).
    pub rollout: Option<Value>,
}

/// One group of rendered app config: where it goes, on which hosts, with which values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigGroup {
    pub dest: String,
    pub host_ips: Vec<String>,
    /// Values keyed by node id.
    pub configs: Value,
    /// File name written under `dest` (the template's name when not given).
    pub target_name: String,
}

/// The app-config template bound to a step and its groups (5.6.2.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigBinding {
    /// The `.j2` file of the template version.
    pub file_id: String,
    pub groups: Vec<ConfigGroup>,
    /// The template (`configure` artifact) of that version, filled in when saved; 5.8.2.4
    /// answers for it as for the `.j2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
}

/// The JSON document of a step's bindings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepBindings {
    /// Parameter values keyed by node id (5.6.2.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_value: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scripts: Vec<ScriptBinding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actemplates: Option<ConfigBinding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<ArtifactBinding>,
    /// Hosts per batch of a rolling deploy (all at once when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    /// Pause between batches, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_pause_secs: Option<u64>,
    /// Health-gated progressive rollout of the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<super::rollout::Rollout>,
}

impl StepBindings {
    pub(crate) fn of(step: &StepRow) -> StepBindings {
        serde_json::from_str(&step.bindings).unwrap_or_default()
    }
}
