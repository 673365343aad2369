//! What is bound to a step besides its cluster (contract 5.6.2.2 artifacts, 5.6.2.3 app-config
//! groups, 5.6.2.4 parameters, 5.6.2.5 scripts) and their read-backs (5.8.2.2–5.8.2.4, 5.8.2.6,
//! 5.8.2.7). Values are checked by svc-artifact against the
//! method's schema; script files must exist; host IPs must belong to the step's cluster.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    Actor, JobsError, JobsResult, JobsService, RecordKind, require_operator, require_reader,
};
use crate::{
    artifact::{FileOrigin, ScriptFileInfo},
    db::models::instances::{self, StepRow},
};

/// Execute types of bound scripts (SPEC §5: shell → bash, python → python3).
pub const EXECUTE_TYPES: [&str; 2] = ["shell", "python"];

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

/// A bound artifact with its file and version (5.8.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactView {
    pub binding: ArtifactBinding,
    pub origin: Option<FileOrigin>,
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
}

/// A bound script with its file's and script's names (5.8.2.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptView {
    pub binding: ScriptBinding,
    pub file: Option<ScriptFileInfo>,
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
}

impl StepBindings {
    fn of(step: &StepRow) -> StepBindings {
        serde_json::from_str(&step.bindings).unwrap_or_default()
    }
}

impl JobsService {
    /// The step at `sequence` whose method is `method_id`.
    async fn find_step(
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
                if instances::find(connection, &instance_id)?.is_none() {
                    return Err(JobsError::NotFound {
                        kind: RecordKind::Instance,
                        id: instance_id,
                    });
                }
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

    async fn store_bindings(&self, step: StepRow, bindings: StepBindings) -> JobsResult<()> {
        let document = serde_json::to_string(&bindings).map_err(|error| JobsError::Invalid {
            field: "bindings",
            message: error.to_string(),
        })?;
        self.database
            .transaction(move |connection| {
                Ok::<_, JobsError>(instances::update_step(
                    connection,
                    &StepRow {
                        bindings: document,
                        ..step
                    },
                )?)
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
        let Some(cluster_id) = &step.cluster_id else {
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
        if !values.is_object() {
            return Err(JobsError::Invalid {
                field: "config_value",
                message: "must be a JSON object".to_owned(),
            });
        }
        let step = self.find_step(instance_id, method_id, sequence).await?;
        self.artifact
            .validate_method_values(&actor.token, &step.method_id, &values)
            .await?;
        let mut bindings = StepBindings::of(&step);
        bindings.config_value = Some(values);
        self.store_bindings(step, bindings).await
    }

    /// 5.8.2.6: the saved parameter values of a step (`None` before any were saved).
    pub async fn step_params(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
    ) -> JobsResult<Option<Value>> {
        require_reader(actor)?;
        let step = self.find_step(instance_id, method_id, sequence).await?;
        Ok(StepBindings::of(&step).config_value)
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
        let step = self.find_step(instance_id, method_id, sequence).await?;
        for script in &scripts {
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
            self.artifact.script_file(&actor.token, &script.id).await?;
            self.check_hosts(actor, &step, &script.host_ips).await?;
        }
        let mut bindings = StepBindings::of(&step);
        bindings.scripts = scripts;
        self.store_bindings(step, bindings).await
    }

    /// 5.8.2.7: the scripts bound to a step, with their file and script names.
    pub async fn step_scripts(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
    ) -> JobsResult<Vec<ScriptView>> {
        require_reader(actor)?;
        let step = self.find_step(instance_id, method_id, sequence).await?;
        let mut views = Vec::new();
        for binding in StepBindings::of(&step).scripts {
            let file = match self.artifact.script_file(&actor.token, &binding.id).await {
                Ok(file) => Some(file),
                Err(JobsError::Upstream(status)) if status.code() == tonic::Code::NotFound => None,
                Err(error) => return Err(error),
            };
            views.push(ScriptView { binding, file });
        }
        Ok(views)
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
        if binding.file_id.trim().is_empty() {
            return Err(JobsError::Missing { field: "file_id" });
        }
        let step = self.find_step(instance_id, method_id, sequence).await?;
        let schema = self
            .artifact
            .template_schema(&actor.token, &binding.file_id)
            .await?;
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
                .validate_template_values(&actor.token, &binding.file_id, &group.configs)
                .await?;
            self.check_hosts(actor, &step, &group.host_ips).await?;
            let target_name = match group.target_name.trim() {
                "" => schema.target_name.clone(),
                name => name.to_owned(),
            };
            groups.push(ConfigGroup {
                target_name,
                ..group
            });
        }
        let mut bindings = StepBindings::of(&step);
        bindings.actemplates = Some(ConfigBinding {
            file_id: binding.file_id,
            groups,
        });
        self.store_bindings(step, bindings).await
    }

    /// 5.8.2.3: the schema of the app-config template bound to a step (empty when none is).
    pub async fn step_config_schema(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
    ) -> JobsResult<Vec<proto::artifact::v1::ConfigNode>> {
        require_reader(actor)?;
        let step = self.find_step(instance_id, method_id, sequence).await?;
        match StepBindings::of(&step).actemplates {
            Some(binding) => Ok(self
                .artifact
                .template_schema(&actor.token, &binding.file_id)
                .await?
                .nodes),
            None => Ok(Vec::new()),
        }
    }

    /// 5.6.2.3 / 5.8.2.4: the app-config binding of a step.
    pub async fn step_configs(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
    ) -> JobsResult<Option<ConfigBinding>> {
        require_reader(actor)?;
        let step = self.find_step(instance_id, method_id, sequence).await?;
        Ok(StepBindings::of(&step).actemplates)
    }

    /// 5.6.2.2: binds stored files to a step (replacing the list): each must exist, have a
    /// `dest`, and go to hosts of the step's cluster. Answers the instance's id and name.
    pub async fn save_step_artifacts(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
        artifacts: Vec<ArtifactBinding>,
    ) -> JobsResult<(String, String)> {
        require_operator(actor)?;
        let step = self.find_step(instance_id, method_id, sequence).await?;
        for artifact in &artifacts {
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
            self.artifact
                .file_origin(&actor.token, &artifact.file_id)
                .await?;
            self.check_hosts(actor, &step, &artifact.host_ips).await?;
        }
        let lookup = step.instance_id.clone();
        let instance = self
            .database
            .run(move |connection| Ok::<_, JobsError>(instances::find(connection, &lookup)?))
            .await?
            .ok_or_else(|| JobsError::NotFound {
                kind: RecordKind::Instance,
                id: step.instance_id.clone(),
            })?;
        let mut bindings = StepBindings::of(&step);
        bindings.artifacts = artifacts;
        self.store_bindings(step, bindings).await?;
        Ok((instance.id, instance.name))
    }

    /// 5.8.2.2: the files bound to a step, with their artifact versions.
    pub async fn step_artifacts(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
    ) -> JobsResult<Vec<ArtifactView>> {
        require_reader(actor)?;
        let step = self.find_step(instance_id, method_id, sequence).await?;
        let mut views = Vec::new();
        for binding in StepBindings::of(&step).artifacts {
            let origin = match self
                .artifact
                .file_origin(&actor.token, &binding.file_id)
                .await
            {
                Ok(origin) => Some(origin),
                Err(JobsError::Upstream(status)) if status.code() == tonic::Code::NotFound => None,
                Err(error) => return Err(error),
            };
            views.push(ArtifactView { binding, origin });
        }
        Ok(views)
    }
}
