//! The snapshot a run freezes for each step when it starts: the cluster's hosts, the artifact
//! files with their md5 and version, the rendered app configs, the method package and its
//! parameter values by key, and the scripts (with whether they may run). Stored as JSON on the
//! run's step row; the executor works only from it.

use serde_json::Value;

use crate::{
    artifact::{ArtifactDirectory, Catalog},
    db::models::instances::StepRow,
    domain::{
        JobsError, JobsResult, RecordKind,
        bindings::{ScriptBinding, StepBindings},
        rollout::{CheckScript, HealthCheck, Rollout},
    },
    resource::ResourceDirectory,
};

pub use crate::domain::plan::{ArtifactPlan, ConfigPlan, PackagePlan, ScriptPlan, StepPlan};

/// What the snapshot builder asks of the other services.
pub struct Planner<'a> {
    pub resource: &'a ResourceDirectory,
    pub artifact: &'a ArtifactDirectory,
    pub token: &'a str,
    pub catalog: &'a Catalog,
    /// Opens the step's sealed values.
    pub sealer: &'a crate::sealed::Sealer,
}

impl Planner<'_> {
    /// Freezes one step of an instance.
    pub async fn plan(&self, instance_id: &str, step: &StepRow) -> JobsResult<StepPlan> {
        let not_ready = |message: String| JobsError::NotReady {
            instance_id: instance_id.to_owned(),
            message,
        };
        let cluster_id = step
            .cluster_id
            .clone()
            .ok_or_else(|| not_ready(format!("step {} has no cluster", step.sequence)))?;
        let (component, method) = self
            .catalog
            .method(&step.component_id, &step.method_id)
            .ok_or_else(|| JobsError::NotFound {
                kind: RecordKind::Method,
                id: step.method_id.clone(),
            })?;
        let bindings = StepBindings::of(step).opened(self.sealer)?;
        let hosts = self
            .resource
            .cluster_host_ips(self.token, &cluster_id)
            .await?;
        if hosts.is_empty() {
            return Err(not_ready(format!(
                "the cluster of step {} has no hosts",
                step.sequence
            )));
        }
        let package = if method.file_id.is_empty() {
            None
        } else {
            let origin = self
                .artifact
                .file_origin(self.token, &method.file_id)
                .await?;
            Some(PackagePlan {
                file_id: method.file_id.clone(),
                md5: origin.md5,
                entrypoint: method.entrypoint.clone(),
            })
        };
        let params = match (&bindings.config_value, method.has_params) {
            (Some(values), true) => {
                self.artifact
                    .validate_method_values(self.token, &method.id, values)
                    .await?
            }
            (None, true) if method.requires_params => {
                return Err(not_ready(format!(
                    "step {} has no values for the required parameters of method {}",
                    step.sequence, method.name
                )));
            }
            _ => Value::Object(Default::default()),
        };
        let mut artifacts = Vec::with_capacity(bindings.artifacts.len());
        for binding in &bindings.artifacts {
            let origin = self
                .artifact
                .file_origin(self.token, &binding.file_id)
                .await?;
            artifacts.push(ArtifactPlan {
                file_id: binding.file_id.clone(),
                file_name: origin.file_name,
                md5: origin.md5,
                version: origin.version,
                dest: binding.dest.clone(),
                host_ips: binding.host_ips.clone(),
            });
        }
        let mut configs = Vec::new();
        if let Some(binding) = &bindings.actemplates {
            for group in &binding.groups {
                let rendered = self
                    .artifact
                    .render_template(self.token, &binding.file_id, &group.configs)
                    .await?;
                let target_name = if group.target_name.trim().is_empty() {
                    rendered.target_name
                } else {
                    group.target_name.clone()
                };
                configs.push(ConfigPlan {
                    dest: group.dest.clone(),
                    target_name,
                    host_ips: group.host_ips.clone(),
                    text: rendered.text,
                });
            }
        }
        let mut scripts = Vec::with_capacity(bindings.scripts.len());
        for binding in &bindings.scripts {
            scripts.push(self.plan_script(binding).await?);
        }
        Ok(StepPlan {
            sequence: step.sequence,
            component_id: component.id.clone(),
            method_id: method.id.clone(),
            method_name: method.name.clone(),
            cluster_id,
            hosts,
            package,
            params,
            artifacts,
            configs,
            scripts,
            timeout_secs: u64::from(method.timeout_secs),
            batch_size: bindings.batch_size.unwrap_or(0),
            batch_pause_secs: bindings.batch_pause_secs.unwrap_or(0),
            rollout: self.freeze_rollout(bindings.rollout.clone()).await?,
            rollback_of: None,
        })
    }

    /// A rollout as a run freezes it: the script of a command health check with its name and
    /// whether it is reviewed (a run whose check script is not reviewed fails before any host).
    async fn freeze_rollout(&self, rollout: Option<Rollout>) -> JobsResult<Option<Rollout>> {
        let Some(mut rollout) = rollout else {
            return Ok(None);
        };
        if let Some(HealthCheck::Command(check)) = &mut rollout.health {
            let file = self
                .artifact
                .script_file(self.token, &check.script_id)
                .await?;
            let execute_type = if file.file_name.ends_with(".py") {
                "python"
            } else {
                "shell"
            };
            check.script = Some(CheckScript {
                file_name: file.file_name,
                script_name: file.script_name,
                execute_type: execute_type.to_owned(),
                able: file.able,
            });
        }
        Ok(Some(rollout))
    }

    async fn plan_script(&self, binding: &ScriptBinding) -> JobsResult<ScriptPlan> {
        let file = self.artifact.script_file(self.token, &binding.id).await?;
        Ok(ScriptPlan {
            file_id: binding.id.clone(),
            file_name: file.file_name,
            script_name: file.script_name,
            dest: binding.dest.clone(),
            host_ips: binding.host_ips.clone(),
            parameter: binding.parameter.clone(),
            execute_type: binding.execute_type.clone(),
            able: file.able,
        })
    }
}

/// Reads from the script library whether each script of `plans` (a step's, a health check's)
/// may run now. A snapshot run again (a rollback) froze the review state of its day: it runs only
/// the scripts still reviewed, so a revoked review stops it as it stops a new deploy.
pub async fn refresh_reviews(
    artifact: &ArtifactDirectory,
    token: &str,
    plans: &mut [StepPlan],
) -> JobsResult<()> {
    // A script bound to several hosts or steps is asked for once.
    let mut reviewed: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
    let mut able = async |file_id: &str| -> JobsResult<bool> {
        if let Some(able) = reviewed.get(file_id) {
            return Ok(*able);
        }
        let able = artifact.script_file(token, file_id).await?.able;
        reviewed.insert(file_id.to_owned(), able);
        Ok(able)
    };
    for plan in plans {
        for script in &mut plan.scripts {
            script.able = able(&script.file_id).await?;
        }
        let health = plan
            .rollout
            .as_mut()
            .and_then(|rollout| rollout.health.as_mut());
        if let Some(HealthCheck::Command(check)) = health {
            let now = able(&check.script_id).await?;
            if let Some(script) = &mut check.script {
                script.able = now;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secret_values_are_found_by_key_at_any_depth() {
        let plan = StepPlan {
            sequence: 1,
            params: json!({"db": {"Password": "p4ss", "user": "u"}, "api_secret": ["s1"], "port": 80}),
            ..StepPlan::default()
        };
        let mut secrets = plan.secret_values();
        secrets.sort();
        assert_eq!(secrets, vec!["p4ss".to_owned(), "s1".to_owned()]);
    }
}
