//! The read-backs of what is bound to a step (contract 5.8.2.2–5.8.2.4, 5.8.2.6, 5.8.2.7), each
//! read through the read cache under the instances' generation (every write of a step, its
//! bindings or its instance bumps it) and the generation of what svc-artifact shows of it. The
//! parameter and app-config values stay sealed in the cache and are opened per read; an answer
//! that holds a secret value (by its key, SPEC §5) is withheld from every gateway's kept answers.

use common::read_cache::{ARTIFACT_CATALOG, ARTIFACT_SCRIPTS, ARTIFACT_VERSIONS, withhold};
use serde_json::Value;

use super::bindings::{ArtifactView, ConfigBinding, ScriptView, StepBindings};
use super::{Actor, JobsError, JobsResult, JobsService, require_reader};
use crate::domain::{ConfigNode, INSTANCES_SCOPE, plan::holds_secret};

/// 5.8.2.2 shows the bound files with their artifact versions.
const STEP_ARTIFACTS: &[&str] = &[INSTANCES_SCOPE, ARTIFACT_VERSIONS];
/// 5.8.2.3 and 5.8.2.4 show the bound app-config template (its schema names the values' keys).
const STEP_CONFIGS: &[&str] = &[INSTANCES_SCOPE, ARTIFACT_VERSIONS];
/// 5.8.2.6: the method's schema names the parameters' keys.
const STEP_PARAMS: &[&str] = &[INSTANCES_SCOPE, ARTIFACT_CATALOG];
/// 5.8.2.7 shows the bound scripts' names and whether each is approved.
const STEP_SCRIPTS: &[&str] = &[INSTANCES_SCOPE, ARTIFACT_SCRIPTS];

/// The name of a read-back of one step.
fn step_read(what: &str, instance_id: &str, method_id: &str, sequence: u32) -> String {
    format!("{what}\n{instance_id}\n{method_id}\n{sequence}")
}

/// A step's values as the cache keeps them: sealed, and whether any of them is secret.
#[derive(Clone)]
struct SealedValues<T> {
    sealed: Option<T>,
    secret: bool,
}

impl JobsService {
    /// 5.8.2.6: the saved parameter values of a step (`None` before any were saved).
    pub async fn step_params(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
    ) -> JobsResult<Option<Value>> {
        require_reader(actor)?;
        let read = step_read("params", instance_id, method_id, sequence);
        let load = self.sealed_params(actor, instance_id, method_id, sequence);
        let kept = self.reads.read_through(STEP_PARAMS, &read, load).await?;
        if kept.secret {
            withhold();
        }
        kept.sealed
            .map(|sealed| self.engine.sealer().open_values(sealed))
            .transpose()
    }

    async fn sealed_params(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
    ) -> JobsResult<SealedValues<Value>> {
        let step = self.find_step(instance_id, method_id, sequence).await?;
        let sealer = self.engine.sealer();
        let Some(stored) = StepBindings::of(&step).config_value else {
            return Ok(SealedValues {
                sealed: None,
                secret: false,
            });
        };
        let opened = sealer.open_values(stored.clone())?;
        // The keys are the method's (the values are by node id); values it cannot name are
        // taken as secret.
        let secret = match self
            .artifact
            .validate_method_values(&actor.token, &step.method_id, &opened)
            .await
        {
            Ok(by_key) => holds_secret(&by_key),
            Err(_) => true,
        };
        Ok(SealedValues {
            sealed: Some(sealer.seal_values(stored)?),
            secret,
        })
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
        let read = step_read("scripts", instance_id, method_id, sequence);
        let load = async {
            let step = self.find_step(instance_id, method_id, sequence).await?;
            let mut views = Vec::new();
            for binding in StepBindings::of(&step).scripts {
                let file = match self.artifact.script_file(&actor.token, &binding.id).await {
                    Ok(file) => Some(file),
                    Err(error) if not_found(&error) => None,
                    Err(error) => return Err(error),
                };
                views.push(ScriptView { binding, file });
            }
            Ok(views)
        };
        self.reads.read_through(STEP_SCRIPTS, &read, load).await
    }

    /// 5.8.2.3: the schema of the app-config template bound to a step (empty when none is).
    pub async fn step_config_schema(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
    ) -> JobsResult<Vec<ConfigNode>> {
        require_reader(actor)?;
        let read = step_read("config schema", instance_id, method_id, sequence);
        let load = async {
            let step = self.find_step(instance_id, method_id, sequence).await?;
            match StepBindings::of(&step).actemplates {
                Some(binding) => Ok(self
                    .artifact
                    .template_schema(&actor.token, &binding.file_id)
                    .await?
                    .nodes),
                None => Ok(Vec::new()),
            }
        };
        self.reads.read_through(STEP_CONFIGS, &read, load).await
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
        let read = step_read("configs", instance_id, method_id, sequence);
        let load = self.sealed_configs(actor, instance_id, method_id, sequence);
        let kept = self.reads.read_through(STEP_CONFIGS, &read, load).await?;
        if kept.secret {
            withhold();
        }
        let sealer = self.engine.sealer();
        let Some(mut binding) = kept.sealed else {
            return Ok(None);
        };
        for group in &mut binding.groups {
            group.configs = sealer.open_values(group.configs.take())?;
        }
        Ok(Some(binding))
    }

    async fn sealed_configs(
        &self,
        actor: &Actor,
        instance_id: &str,
        method_id: &str,
        sequence: u32,
    ) -> JobsResult<SealedValues<ConfigBinding>> {
        let step = self.find_step(instance_id, method_id, sequence).await?;
        let sealer = self.engine.sealer();
        let Some(mut binding) = StepBindings::of(&step).actemplates else {
            return Ok(SealedValues {
                sealed: None,
                secret: false,
            });
        };
        let mut secret = false;
        for group in &mut binding.groups {
            let opened = sealer.open_values(group.configs.clone())?;
            // The keys are the template's; values it cannot name are taken as secret.
            secret |= match self
                .artifact
                .validate_template_values(&actor.token, &binding.file_id, &opened)
                .await
            {
                Ok(by_key) => holds_secret(&by_key),
                Err(_) => true,
            };
            group.configs = sealer.seal_values(group.configs.take())?;
        }
        Ok(SealedValues {
            sealed: Some(binding),
            secret,
        })
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
        let read = step_read("artifacts", instance_id, method_id, sequence);
        let load = async {
            let step = self.find_step(instance_id, method_id, sequence).await?;
            let mut views = Vec::new();
            for binding in StepBindings::of(&step).artifacts {
                let origin = match self
                    .artifact
                    .file_origin(&actor.token, &binding.file_id)
                    .await
                {
                    Ok(origin) => Some(origin),
                    Err(error) if not_found(&error) => None,
                    Err(error) => return Err(error),
                };
                views.push(ArtifactView { binding, origin });
            }
            Ok(views)
        };
        self.reads.read_through(STEP_ARTIFACTS, &read, load).await
    }
}

/// Whether svc-artifact answered that what was asked for does not exist (a binding shows it
/// without its names then).
fn not_found(error: &JobsError) -> bool {
    matches!(error, JobsError::Upstream(status) if status.code() == tonic::Code::NotFound)
}
