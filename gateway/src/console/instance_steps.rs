//! An instance's steps as its console page shows them (read-only), read with the same calls as
//! the JSON routes 5.10 (steps), 8.1.6 (the cluster's hosts), 5.8.2.2 (artifacts), 5.8.2.3–4
//! (app-config schema and values), 5.8.2.5–6 (parameter schema and values) and 5.8.2.7
//! (scripts). Values are shown by their schema keys; a value under a key containing `password`
//! or `secret` is masked as the run logs mask it.

use std::collections::HashMap;

use proto::{artifact::v1 as artifact_pb, jobs::v1 as pb, resource::v1 as resource_pb};
use serde::Serialize;
use serde_json::Value;

use crate::{
    clients::{Call, reply},
    error::ApiError,
};

/// What a secret value shows instead (as in run logs).
pub const MASK: &str = "******";

/// A host of a step's cluster.
#[derive(Debug, Clone, Serialize)]
pub struct HostView {
    pub ip: String,
    pub name: String,
    /// `user@ip:port`.
    pub login: String,
    pub host_key_pinned: bool,
}

/// A value bound to a step (a parameter or an app-config value), by its schema key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValueView {
    pub key: String,
    pub value: String,
    pub secret: bool,
}

/// A file pushed by a step.
#[derive(Debug, Clone, Serialize)]
pub struct ArtifactView {
    pub file_name: String,
    pub version: Option<String>,
    pub dest: String,
    /// The hosts it goes to; empty: every host of the cluster.
    pub hosts: Vec<String>,
    pub md5: String,
}

/// An app-config group of a step.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigView {
    pub target_name: String,
    pub dest: String,
    pub hosts: Vec<String>,
    pub values: Vec<ValueView>,
}

/// A script a step runs.
#[derive(Debug, Clone, Serialize)]
pub struct ScriptView {
    pub name: String,
    pub file_name: String,
    pub execute_type: String,
    pub parameter: String,
    pub dest: String,
    pub hosts: Vec<String>,
}

/// A step and everything bound to it.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    pub sequence: u32,
    pub component: String,
    pub method: String,
    pub method_id: String,
    pub cluster: Option<String>,
    pub status: Option<String>,
    pub hosts: Vec<HostView>,
    pub artifacts: Vec<ArtifactView>,
    pub configs: Vec<ConfigView>,
    pub params: Vec<ValueView>,
    pub scripts: Vec<ScriptView>,
}

/// Whether values under `key` are secret (SPEC §5: `password` or `secret` in the key).
pub fn is_secret_key(key: &str) -> bool {
    let lower = key.to_lowercase();
    lower.contains("password") || lower.contains("secret")
}

/// Schema node id → key, over the nodes and their children.
fn key_index(nodes: &[artifact_pb::ConfigNode], index: &mut HashMap<String, String>) {
    for node in nodes {
        index.insert(node.id.clone(), node.key.clone());
        key_index(&node.children, index);
    }
}

/// `value` with node ids replaced by keys and every value under a secret key masked.
fn masked(value: &Value, index: &HashMap<String, String>, secret: bool) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(id, inner)| {
                    let key = index.get(id).cloned().unwrap_or_else(|| id.clone());
                    let inner = masked(inner, index, secret || is_secret_key(&key));
                    (key, inner)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| masked(item, index, secret))
                .collect(),
        ),
        Value::Null => Value::Null,
        _ if secret => Value::String(MASK.to_owned()),
        other => other.clone(),
    }
}

/// The values of a document keyed by node id (`histor_data` left out), by key, secrets masked.
pub fn shown_values(nodes: &[artifact_pb::ConfigNode], values: &Value) -> Vec<ValueView> {
    let mut index = HashMap::new();
    key_index(nodes, &mut index);
    let Value::Object(map) = values else {
        return Vec::new();
    };
    let mut shown: Vec<ValueView> = map
        .iter()
        .filter(|(id, _)| id.as_str() != "histor_data")
        .map(|(id, value)| {
            let key = index.get(id).cloned().unwrap_or_else(|| id.clone());
            let secret = is_secret_key(&key);
            let value = match masked(value, &index, secret) {
                Value::String(text) => text,
                other => other.to_string(),
            };
            ValueView { key, value, secret }
        })
        .collect();
    shown.sort_by(|a, b| a.key.cmp(&b.key));
    shown
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// The hosts of a cluster (8.1.6).
async fn cluster_hosts(call: &Call, cluster_id: &str) -> Result<Vec<HostView>, ApiError> {
    let request = resource_pb::ClusterIdRequest {
        cluster_id: cluster_id.to_owned(),
    };
    let answer = reply(call.resource().cluster_hosts(request)).await?;
    Ok(answer
        .hosts
        .into_iter()
        .map(|host| HostView {
            login: format!("{}@{}:{}", host.ssh_user, host.host_ip, host.ssh_port),
            ip: host.host_ip,
            name: host.host_name,
            host_key_pinned: host.host_key_pinned,
        })
        .collect())
}

/// One step with everything bound to it.
async fn step_view(call: &Call, instance_id: &str, step: pb::Step) -> Result<StepView, ApiError> {
    let at = || pb::StepRef {
        instance_id: instance_id.to_owned(),
        method_id: step.method_id.clone(),
        sequence: step.sequence,
    };
    let hosts = match step.cluster_id.as_deref().filter(|id| !id.is_empty()) {
        Some(cluster_id) => cluster_hosts(call, cluster_id).await?,
        None => Vec::new(),
    };
    let artifacts = reply(call.jobs().step_artifacts(at()))
        .await?
        .artifacts
        .into_iter()
        .map(|artifact| ArtifactView {
            file_name: artifact.file_name,
            version: artifact.version,
            dest: artifact.dest,
            hosts: artifact.host_ips,
            md5: artifact.md5,
        })
        .collect();
    let config_schema = reply(call.jobs().step_config_schema(at())).await?.nodes;
    let configs = reply(call.jobs().step_configs(at()))
        .await?
        .groups
        .into_iter()
        .map(|group| ConfigView {
            values: shown_values(&config_schema, &parse(&group.configs_json)),
            target_name: group.target_name,
            dest: group.dest,
            hosts: group.host_ips,
        })
        .collect();
    let method = artifact_pb::MethodRequest {
        method_id: step.method_id.clone(),
    };
    let params_schema = reply(call.artifact().method_schema(method)).await?.nodes;
    let params = reply(call.jobs().step_params(at()))
        .await?
        .values_json
        .map(|text| shown_values(&params_schema, &parse(&text)))
        .unwrap_or_default();
    let scripts = reply(call.jobs().step_scripts(at()))
        .await?
        .scripts
        .into_iter()
        .map(|script| ScriptView {
            name: script.script_name,
            file_name: script.file_name,
            execute_type: script.execute_type,
            parameter: script.parameter,
            dest: script.dest,
            hosts: script.host_ips,
        })
        .collect();
    Ok(StepView {
        sequence: step.sequence,
        component: step.component_name,
        method: step.method_remark,
        method_id: step.method_id,
        cluster: step.cluster_name,
        status: step.status,
        hosts,
        artifacts,
        configs,
        params,
        scripts,
    })
}

/// Every step of an instance, in order, with its bindings.
pub async fn load(
    call: &Call,
    instance_id: &str,
    steps: Vec<pb::Step>,
) -> Result<Vec<StepView>, ApiError> {
    let mut views = Vec::with_capacity(steps.len());
    for step in steps {
        views.push(step_view(call, instance_id, step).await?);
    }
    views.sort_by_key(|step| step.sequence);
    Ok(views)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn node(
        id: &str,
        key: &str,
        children: Vec<artifact_pb::ConfigNode>,
    ) -> artifact_pb::ConfigNode {
        artifact_pb::ConfigNode {
            id: id.into(),
            key: key.into(),
            children,
            ..artifact_pb::ConfigNode::default()
        }
    }

    #[test]
    fn values_show_by_key_and_secrets_are_masked_at_any_depth() {
        let nodes = vec![
            node("n1", "port", vec![]),
            node("n2", "db_Password", vec![]),
            node(
                "n3",
                "users",
                vec![
                    node("n4", "name", vec![]),
                    node("n5", "secret_token", vec![]),
                ],
            ),
        ];
        let values = json!({
            "histor_data": false,
            "n1": "8080",
            "n2": "hunter22",
            "n3": [{"n4": "ann", "n5": "s3cr3t"}],
            "unknown": 5,
        });
        let shown = shown_values(&nodes, &values);
        let pairs: Vec<(&str, &str, bool)> = shown
            .iter()
            .map(|value| (value.key.as_str(), value.value.as_str(), value.secret))
            .collect();
        assert_eq!(
            pairs,
            [
                ("db_Password", MASK, true),
                ("port", "8080", false),
                ("unknown", "5", false),
                (
                    "users",
                    r#"[{"name":"ann","secret_token":"******"}]"#,
                    false
                ),
            ]
        );
        assert!(!format!("{shown:?}").contains("hunter22"));
        assert!(!format!("{shown:?}").contains("s3cr3t"));
        assert_eq!(shown_values(&nodes, &Value::Null), Vec::new());
    }
}
