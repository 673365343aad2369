//! What is bound to a step besides its cluster (contract 5.6.2.2 artifacts, 5.6.2.3 app-config
//! groups, 5.6.2.4 parameters, 5.6.2.5 scripts); `step_reads` reads them back. Values are
//! checked by svc-artifact against the method's schema; script files must exist; host IPs must
//! belong to the step's cluster.

use serde_json::Value;

use super::{Actor, JobsError, JobsResult, JobsService, RecordKind, require_operator};
use crate::domain::{
    audit::{self, Change},
    existing_instance,
    rollout::{CommandCheck, HealthCheck, Rollout},
};
use crate::{
    artifact::{FileOrigin, ScriptFileInfo},
    db::models::instances::{self, StepRow},
};

pub use crate::domain::bindings::{
    AllBindings, ArtifactBinding, ConfigBinding, ConfigGroup, ScriptBinding, StepBindings,
};

/// Execute types of bound scripts (SPEC §5: shell → bash, python → python3).
pub const EXECUTE_TYPES: [&str; 2] = ["shell", "python"];

/// A bound artifact with its file and version (5.8.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactView {
    pub binding: ArtifactBinding,
    pub origin: Option<FileOrigin>,
}

/// A bound script with its file's and script's names (5.8.2.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptView {
    pub binding: ScriptBinding,
    pub file: Option<ScriptFileInfo>,
}

impl JobsService {
    /// The step at `sequence` whose method is `method_id`.
    pub(super) async fn find_step(
        &self,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
    ) -> JobsResult<StepRow> {
        let instance_id = instance_id.to_owned();
        let method_id = method_id.to_owned();
        let sequence = i32::try_from(sequence).map_err(|_| JobsError::Invalid {
            field: "sequence",
            message: "is too large".to_owned(),
        })?;
        self.database
            .run(move |connection| {
                existing_instance(connection, &instance_id)?;
                instances::steps(connection, &instance_id)?
                    .into_iter()
                    .find(|step| step.sequence == sequence && step.method_id == method_id)
                    .ok_or(JobsError::NotFound {
                        kind: RecordKind::Step,
                        id: format!("{method_id} at sequence {sequence}"),
                    })
            })
            .await
    }

    /// A step's bindings with their values opened (as stored when they cannot be: then they are
    /// written back as they were).
    fn opened_bindings(&self, step: &StepRow) -> StepBindings {
        StepBindings::of(step)
            .opened(self.engine.sealer())
            .unwrap_or_else(|_| StepBindings::of(step))
    }

    /// Stores a step's bindings, its parameter and app-config values sealed, and records the
    /// write as `action` with what changed.
    async fn store_bindings(
        &self,
        actor: &Actor,
        action: &'static str,
        step: StepRow,
        bindings: StepBindings,
    ) -> JobsResult<()> {
        let changes = audit::binding_changes(&self.opened_bindings(&step), &bindings);
        let document = bindings.document(self.engine.sealer())?;
        let origin = audit::origin(actor);
        self.write(crate::domain::INSTANCES_WRITE, move |connection| {
            let instance = existing_instance(connection, &step.instance_id)?;
            let mut event = audit::step_event(&origin, action, &instance, &step);
            event.changes = changes;
            instances::update_step(
                connection,
                &StepRow {
                    bindings: document,
                    ..step
                },
            )?;
            audit::append(connection, event)
        })
        .await
    }

    /// Host IPs must belong to the step's cluster (which must then be chosen first).
    async fn check_hosts(
        &self,
        actor: &Actor,
        step: &StepRow,
        host_ips: &[String],
    ) -> JobsResult<()> {
        if host_ips.is_empty() {
            return Ok(());
        }
        let Some(cluster_id) = step.cluster_id.as_ref() else {
            return Err(JobsError::Invalid {
                field: "host_IP",
                message: "needs the step's cluster to be saved first".to_owned(),
            });
        };
        let known = self
            .resource
            .cluster_host_ips(&actor.token, cluster_id)
            .await?;
        if let Some(outsider) = host_ips.iter().find(|ip| !known.contains(ip)) {
            return Err(JobsError::Invalid {
                field: "host_IP",
                message: format!("{outsider} is not a host of the step's cluster"),
            });
        }
        Ok(())
    }

    /// Parameter values must be an object that fits the method's schema.
    async fn check_params(&self, actor: &Actor, step: &StepRow, values: &Value) -> JobsResult<()> {
        if !values.is_object() {
            return Err(JobsError::Invalid {
                field: "config_value",
                message: "must be a JSON object".to_owned(),
            });
        }
        self.artifact
            .validate_method_values(&actor.token, &step.method_id, values)
            .await
            .map(|_| ())
    }

    /// 5.6.2.4: saves the parameter values of a step, checked against its method's schema.
    pub async fn save_step_params(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
        values: Value,
    ) -> JobsResult<()> {
        require_operator(actor)?;
        super::binding_limits::document("config_value", &values)?;
        let step = self.find_step(instance_id, method_id, sequence).await?;
        self.check_params(actor, &step, &values).await?;
        let instance_id = step.instance_id.clone();
        let mut bindings = self.opened_bindings(&step);
        bindings.config_value = Some(values);
        self.store_bindings(actor, "step.save_params", step, bindings)
            .await?;
        self.refresh_status(actor, &instance_id).await.map(|_| ())
    }

    /// Scripts must name existing script files, a known execute type and hosts of the cluster.
    async fn check_scripts(
        &self,
        actor: &Actor,
        step: &StepRow,
        scripts: &[ScriptBinding],
    ) -> JobsResult<()> {
        for script in scripts {
            if script.id.trim().is_empty() {
                return Err(JobsError::Missing {
                    field: "scripts_data.id",
                });
            }
            if !EXECUTE_TYPES.contains(&script.execute_type.as_str()) {
                return Err(JobsError::Invalid {
                    field: "execute_type",
                    message: format!("{:?} must be shell or python", script.execute_type),
                });
            }
            // It reaches the script as argv words (SPEC §8): one that cannot be split is refused.
            crate::execution::shell::split_words(&script.parameter).map_err(|error| {
                JobsError::Invalid {
                    field: "parameter",
                    message: error.to_string(),
                }
            })?;
            self.artifact.script_file(&actor.token, &script.id).await?;
            self.check_hosts(actor, step, &script.host_ips).await?;
        }
        Ok(())
    }

    /// The script of a command health check exists in the script library and its parameter
    /// splits into argv words (whether it is reviewed is decided when a run freezes it).
    async fn check_health_script(&self, actor: &Actor, check: &CommandCheck) -> JobsResult<()> {
        crate::execution::shell::split_words(&check.parameter).map_err(|error| {
            JobsError::Invalid {
                field: "rollout",
                message: format!("is invalid: rollout.health.command.parameter {error}"),
            }
        })?;
        self.artifact
            .script_file(&actor.token, &check.script_id)
            .await?;
        Ok(())
    }

    /// 5.6.2.5: binds script files to a step (replacing the list).
    pub async fn save_step_scripts(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
        scripts: Vec<ScriptBinding>,
    ) -> JobsResult<()> {
        require_operator(actor)?;
        super::binding_limits::scripts(&scripts)?;
        let step = self.find_step(instance_id, method_id, sequence).await?;
        self.check_scripts(actor, &step, &scripts).await?;
        let mut bindings = self.opened_bindings(&step);
        bindings.scripts = scripts;
        self.store_bindings(actor, "step.save_scripts", step, bindings)
            .await
    }

    /// An app-config binding: an existing template, and groups whose values fit its schema, with
    /// a `dest` and hosts of the cluster. Answers it with each group's target name filled in.
    async fn check_configs(
        &self,
        actor: &Actor,
        step: &StepRow,
        binding: ConfigBinding,
    ) -> JobsResult<ConfigBinding> {
        if binding.file_id.trim().is_empty() {
            return Err(JobsError::Missing { field: "file_id" });
        }
        // `file_id` is a template version's `.j2`, or a template (its newest version's `.j2`):
        // the binding keeps the `.j2` svc-artifact resolved, so a later version changes nothing
        // until the step is bound again.
        let schema = self
            .artifact
            .template_schema(&actor.token, binding.file_id.trim())
            .await?;
        let file_id = if schema.subject_id.is_empty() {
            binding.file_id.trim().to_owned()
        } else {
            schema.subject_id.clone()
        };
        let template_id = self
            .artifact
            .file_origin(&actor.token, &file_id)
            .await?
            .artifact_id;
        let mut groups = Vec::with_capacity(binding.groups.len());
        for group in binding.groups {
            if group.dest.trim().is_empty() {
                return Err(JobsError::Missing {
                    field: "groups.dest",
                });
            }
            if !group.configs.is_object() {
                return Err(JobsError::Invalid {
                    field: "groups.configs",
                    message: "must be a JSON object".to_owned(),
                });
            }
            self.artifact
                .validate_template_values(&actor.token, &file_id, &group.configs)
                .await?;
            self.check_hosts(actor, step, &group.host_ips).await?;
            let target_name = match group.target_name.trim() {
                "" => schema.target_name.clone(),
                name => name.to_owned(),
            };
            groups.push(ConfigGroup {
                target_name,
                ..group
            });
        }
        Ok(ConfigBinding {
            file_id,
            groups,
            template_id,
        })
    }

    /// 5.6.2.3: binds an app-config template to a step with its groups; each group's values are
    /// checked against the template's schema (failures name the key path).
    pub async fn save_step_configs(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
        binding: ConfigBinding,
    ) -> JobsResult<()> {
        require_operator(actor)?;
        super::binding_limits::configs(&binding)?;
        let step = self.find_step(instance_id, method_id, sequence).await?;
        let binding = self.check_configs(actor, &step, binding).await?;
        let mut bindings = self.opened_bindings(&step);
        bindings.actemplates = Some(binding);
        self.store_bindings(actor, "step.save_configs", step, bindings)
            .await
    }

    /// Artifacts must be existing files with a `dest`, going to hosts of the cluster.
    async fn check_artifacts(
        &self,
        actor: &Actor,
        step: &StepRow,
        artifacts: &[ArtifactBinding],
    ) -> JobsResult<()> {
        for artifact in artifacts {
            if artifact.file_id.trim().is_empty() {
                return Err(JobsError::Missing {
                    field: "artifacts.file_id",
                });
            }
            if artifact.dest.trim().is_empty() {
                return Err(JobsError::Missing {
                    field: "artifacts.dest",
                });
            }
            let origin = self
                .artifact
                .file_origin(&actor.token, &artifact.file_id)
                .await?;
            if origin.artifact_id.is_none() {
                // A script's file, say: 5.8.2.2 could not name its artifact and version.
                return Err(JobsError::Invalid {
                    field: "artifacts.file_id",
                    message: format!(
                        "{:?} ({}) is not a file of an artifact version",
                        artifact.file_id, origin.file_name
                    ),
                });
            }
            self.check_hosts(actor, step, &artifact.host_ips).await?;
        }
        Ok(())
    }

    /// 5.6.2.2: binds stored files to a step (replacing the list). Answers the instance's id and
    /// name.
    pub async fn save_step_artifacts(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
        artifacts: Vec<ArtifactBinding>,
    ) -> JobsResult<(String, String)> {
        require_operator(actor)?;
        super::binding_limits::artifacts(&artifacts)?;
        let step = self.find_step(instance_id, method_id, sequence).await?;
        self.check_artifacts(actor, &step, &artifacts).await?;
        let instance = self.instance_of(&step).await?;
        let mut bindings = self.opened_bindings(&step);
        bindings.artifacts = artifacts;
        self.store_bindings(actor, "step.save_artifacts", step, bindings)
            .await?;
        Ok((instance.id, instance.name))
    }

    async fn instance_of(&self, step: &StepRow) -> JobsResult<instances::InstanceRow> {
        let lookup = step.instance_id.clone();
        self.database
            .run(move |connection| existing_instance(connection, &lookup))
            .await
    }

    /// 5.6.1: saves any of a step's cluster, artifacts, app-config groups, parameters and scripts
    /// in one request: everything is checked first (against the new cluster when one is given),
    /// then everything lands in one write, or nothing does.
    pub async fn save_step_all(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
        all: AllBindings,
    ) -> JobsResult<()> {
        require_operator(actor)?;
        super::binding_limits::all(&all)?;
        let mut step = self.find_step(instance_id, method_id, sequence).await?;
        let previous = step.clone();
        let instance = self.instance_of(&step).await?;
        if let Some(cluster_id) = all
            .cluster_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
        {
            step.cluster_id = Some(self.checked_cluster(actor, &instance, cluster_id).await?.id);
        }
        let mut bindings = self.opened_bindings(&step);
        if let Some(artifacts) = all.artifacts {
            self.check_artifacts(actor, &step, &artifacts).await?;
            bindings.artifacts = artifacts;
        }
        if let Some(configs) = all.configs {
            bindings.actemplates = Some(self.check_configs(actor, &step, configs).await?);
        }
        if let Some(values) = all.params {
            self.check_params(actor, &step, &values).await?;
            bindings.config_value = Some(values);
        }
        if let Some(scripts) = all.scripts {
            self.check_scripts(actor, &step, &scripts).await?;
            bindings.scripts = scripts;
        }
        if let Some((batch_size, pause_secs)) = all.rolling {
            if pause_secs > 3600 {
                return Err(JobsError::Invalid {
                    field: "rolling.pause_seconds",
                    message: "must be at most 3600".to_owned(),
                });
            }
            bindings.batch_size = (batch_size > 0).then_some(batch_size);
            bindings.batch_pause_secs = (batch_size > 0 && pause_secs > 0).then_some(pause_secs);
        }
        if let Some(rollout) = all.rollout {
            bindings.rollout = if rollout.as_object().is_some_and(|map| map.is_empty()) {
                None
            } else {
                let rollout = Rollout::parse(&rollout).map_err(|error| JobsError::Invalid {
                    field: "rollout",
                    message: format!("is invalid: {} {}", error.field, error.message),
                })?;
                if let Some(HealthCheck::Command(check)) = &rollout.health {
                    self.check_health_script(actor, check).await?;
                }
                Some(rollout)
            };
        }
        let mut changes: Vec<Change> = Vec::new();
        changes.extend(audit::changed(
            "cluster_id",
            previous.cluster_id.as_deref(),
            step.cluster_id.as_deref(),
        ));
        changes.extend(audit::binding_changes(
            &self.opened_bindings(&previous),
            &bindings,
        ));
        let document = bindings.document(self.engine.sealer())?;
        let written = StepRow {
            bindings: document,
            ..step
        };
        let update = written.clone();
        let origin = audit::origin(actor);
        let recorded = instance.clone();
        self.write(crate::domain::INSTANCES_WRITE, move |connection| {
            instances::update_step(connection, &update)?;
            let mut event = audit::step_event(&origin, "step.save", &recorded, &update);
            event.changes = changes;
            audit::append(connection, event)
        })
        .await?;
        self.settle_step_cluster(actor, previous, written, "step.save")
            .await?;
        self.refresh_status(actor, &instance.id).await.map(|_| ())
    }
}
