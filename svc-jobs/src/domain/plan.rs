//! The snapshot a run freezes for each step (hosts, files, rendered configs, package, parameter
//! values, scripts): built by `execution::plan`, sealed by `sealed`, run by `execution`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A script of a step that may not run (not reviewed): its name, file and role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisabledScript<'a> {
    pub script_name: &'a str,
    pub file_name: &'a str,
    /// `script` (one of the step's) or `health check script` (its rollout's).
    pub role: &'static str,
}

/// The method package a step unpacks and runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackagePlan {
    pub file_id: String,
    pub md5: String,
    pub entrypoint: String,
}

/// A stored file pushed to `dest` on some hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactPlan {
    pub file_id: String,
    pub file_name: String,
    pub md5: String,
    pub version: Option<String>,
    pub dest: String,
    /// Hosts it goes to; empty means every host of the step.
    pub host_ips: Vec<String>,
}

/// A rendered app-config file written to `dest/target_name` on some hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigPlan {
    pub dest: String,
    pub target_name: String,
    pub host_ips: Vec<String>,
    pub text: String,
}

/// A bound script run after the method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptPlan {
    pub file_id: String,
    pub file_name: String,
    pub script_name: String,
    pub dest: String,
    pub host_ips: Vec<String>,
    pub parameter: String,
    pub execute_type: String,
    /// Only reviewed (`able`) versions run; a disabled one fails the step before any host.
    pub able: bool,
}

/// Everything one step of a run does, frozen when the run starts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepPlan {
    pub sequence: i32,
    pub component_id: String,
    pub method_id: String,
    pub method_name: String,
    pub cluster_id: String,
    /// The cluster's hosts at snapshot time, in order.
    pub hosts: Vec<String>,
    pub package: Option<PackagePlan>,
    /// Parameter values keyed by parameter key (`params.json`).
    pub params: Value,
    pub artifacts: Vec<ArtifactPlan>,
    pub configs: Vec<ConfigPlan>,
    pub scripts: Vec<ScriptPlan>,
    /// Time one command may take, in seconds (0: the service's default).
    pub timeout_secs: u64,
    /// Hosts worked on per batch (rolling deploy); 0 means all at once.
    #[serde(default)]
    pub batch_size: u32,
    /// Pause between batches, in seconds.
    #[serde(default)]
    pub batch_pause_secs: u64,
    /// Health-gated progressive rollout (replaces `batch_size` and `batch_pause_secs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<super::rollout::Rollout>,
    /// The step of this run this one rolls back (a rollout's rollback: the previous successful
    /// snapshot of that step on the hosts the run touched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<i32>,
}

impl StepPlan {
    /// Whether a binding limited to `host_ips` applies to `host`.
    pub fn applies(host_ips: &[String], host: &str) -> bool {
        host_ips.is_empty() || host_ips.iter().any(|ip| ip == host)
    }

    /// The first script that may not run, if any: one of the step's scripts, or the script of
    /// its rollout's health check.
    pub fn disabled_script(&self) -> Option<DisabledScript<'_>> {
        let health_script = match self
            .rollout
            .as_ref()
            .and_then(|rollout| rollout.health.as_ref())
        {
            Some(super::rollout::HealthCheck::Command(check)) => check.script.as_ref(),
            _ => None,
        };
        self.scripts
            .iter()
            .find(|script| !script.able)
            .map(|script| DisabledScript {
                script_name: &script.script_name,
                file_name: &script.file_name,
                role: "script",
            })
            .or_else(|| {
                health_script
                    .filter(|script| !script.able)
                    .map(|script| DisabledScript {
                        script_name: &script.script_name,
                        file_name: &script.file_name,
                        role: "health check script",
                    })
            })
    }

    /// Values that must never appear in a log line: parameter values whose key contains
    /// `password` or `secret`.
    pub fn secret_values(&self) -> Vec<String> {
        let mut found = Vec::new();
        collect_secrets(&self.params, false, &mut found);
        found
    }
}

/// Whether a values document (keyed by parameter key) holds a secret value: one under a key that
/// contains `password` or `secret`, at any depth.
pub fn holds_secret(values: &Value) -> bool {
    let mut found = Vec::new();
    collect_secrets(values, false, &mut found);
    !found.is_empty()
}

fn collect_secrets(value: &Value, secret_key: bool, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let lower = key.to_lowercase();
                let is_secret =
                    secret_key || lower.contains("password") || lower.contains("secret");
                collect_secrets(inner, is_secret, found);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_secrets(item, secret_key, found);
            }
        }
        Value::String(text) if secret_key && !text.is_empty() => found.push(text.clone()),
        Value::Number(number) if secret_key => found.push(number.to_string()),
        _ => {}
    }
}
