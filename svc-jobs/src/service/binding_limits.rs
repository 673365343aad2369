//! Length and character limits of what is bound to a step (SPEC §8 "Every input has a limit"),
//! checked before any lookup: paths, host IPs, script parameters, parameter and app-config values,
//! rolling batch sizes. Failures name the field as the legacy body spells it.

use common::limits::{self, LimitError};
use serde_json::Value;

use crate::domain::bindings::{AllBindings, ArtifactBinding, ConfigBinding, ScriptBinding};

/// Most hosts in a rolling batch (larger batches are all hosts at once anyway).
pub const MAX_BATCH_SIZE: u32 = 1000;

fn host_ips(field: &'static str, ips: &[String]) -> Result<(), LimitError> {
    limits::items(field, ips.len(), limits::MAX_ITEMS)?;
    limits::check_all(field, ips.iter().map(String::as_str), limits::TOKEN)
}

/// Scripts of 5.6.2.5 / 5.6.1.
pub fn scripts(scripts: &[ScriptBinding]) -> Result<(), LimitError> {
    limits::items("scripts_data", scripts.len(), limits::MAX_ITEMS)?;
    for script in scripts {
        limits::check("scripts_data.id", script.id.trim(), limits::ID)?;
        limits::check("scripts_data.dest", &script.dest, limits::PATH)?;
        host_ips("host_IP", &script.host_ips)?;
        limits::check("parameter", &script.parameter, limits::PARAMETER)?;
        limits::check("execute_type", &script.execute_type, limits::TOKEN)?;
    }
    Ok(())
}

/// Artifacts of 5.6.2.2 / 5.6.1.
pub fn artifacts(artifacts: &[ArtifactBinding]) -> Result<(), LimitError> {
    limits::items("artifacts", artifacts.len(), limits::MAX_ITEMS)?;
    for artifact in artifacts {
        limits::check("artifacts.file_id", artifact.file_id.trim(), limits::ID)?;
        limits::check("artifacts.dest", &artifact.dest, limits::PATH)?;
        host_ips("host_IP", &artifact.host_ips)?;
    }
    Ok(())
}

/// The app-config binding of 5.6.2.3 / 5.6.1.
pub fn configs(binding: &ConfigBinding) -> Result<(), LimitError> {
    limits::check("file_id", binding.file_id.trim(), limits::ID)?;
    limits::items("groups", binding.groups.len(), limits::MAX_ITEMS)?;
    for group in &binding.groups {
        limits::check("groups.dest", &group.dest, limits::PATH)?;
        limits::check("groups.targetname", &group.target_name, limits::PATH)?;
        host_ips("host_IP", &group.host_ips)?;
        document("groups.configs", &group.configs)?;
    }
    Ok(())
}

/// A JSON document of values (parameters, app-config values): bounded as a whole, each string
/// within [`limits::VALUE`].
pub fn document(field: &'static str, values: &Value) -> Result<(), LimitError> {
    let size = values.to_string().len();
    if size > limits::DOCUMENT.max {
        return Err(LimitError::new(
            field,
            format!(
                "must be at most {} bytes of JSON (got {size})",
                limits::DOCUMENT.max
            ),
        ));
    }
    limits::json_values(field, values, limits::VALUE)
}

/// Everything 5.6.1 may save.
pub fn all(all: &AllBindings) -> Result<(), LimitError> {
    if let Some(cluster_id) = &all.cluster_id {
        limits::check("cluster_id", cluster_id.trim(), limits::ID)?;
    }
    if let Some(list) = &all.artifacts {
        artifacts(list)?;
    }
    if let Some(binding) = &all.configs {
        configs(binding)?;
    }
    if let Some(values) = &all.params {
        document("config_value", values)?;
    }
    if let Some(list) = &all.scripts {
        scripts(list)?;
    }
    if let Some((batch_size, _)) = all.rolling {
        limits::range("rolling.batch_size", batch_size, 0, MAX_BATCH_SIZE)?;
    }
    if let Some(rollout) = &all.rollout {
        document("rollout", rollout)?;
    }
    Ok(())
}
