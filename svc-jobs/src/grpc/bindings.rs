//! What a step deploys: parameters, scripts, configs, artifacts: proto ⇄ rules.

use super::{
    Actor, AllBindings, ArtifactBinding, ConfigBinding, ConfigGroup, ErrorReason, JobsGrpc,
    ScriptBinding, Status, convert::config_node_to_proto, pb,
};

fn config_binding(body: pb::SaveStepConfigsRequest) -> Result<ConfigBinding, Status> {
    let mut groups = Vec::with_capacity(body.groups.len());
    for group in body.groups {
        let configs: serde_json::Value =
            serde_json::from_str(&group.configs_json).map_err(|error| {
                ErrorReason::InvalidField.status(format!("groups.configs is not JSON: {error}"))
            })?;
        groups.push(ConfigGroup {
            dest: group.dest,
            host_ips: group.host_ips,
            configs,
            target_name: group.target_name,
        });
    }
    Ok(ConfigBinding {
        file_id: body.file_id,
        groups,
        template_id: None,
    })
}

fn artifact_binding(artifact: pb::StepArtifact) -> ArtifactBinding {
    ArtifactBinding {
        file_id: artifact.file_id,
        dest: artifact.dest,
        host_ips: artifact.host_ips,
    }
}

fn script_binding(script: pb::StepScript) -> ScriptBinding {
    ScriptBinding {
        id: script.id,
        dest: script.dest,
        host_ips: script.host_ips,
        parameter: script.parameter,
        execute_type: script.execute_type,
    }
}

impl JobsGrpc {
    pub(super) async fn save_step_params(
        &self,
        actor: Actor,
        body: pb::SaveStepParamsRequest,
    ) -> Result<pb::SaveStepParamsResponse, Status> {
        let step = body.step.unwrap_or_default();
        let values: serde_json::Value =
            serde_json::from_str(&body.values_json).map_err(|error| {
                ErrorReason::InvalidField.status(format!("config_value is not JSON: {error}"))
            })?;
        self.service
            .save_step_params(
                &actor,
                &step.instance_id,
                &step.method_id,
                step.sequence,
                values,
            )
            .await?;
        Ok(pb::SaveStepParamsResponse {})
    }

    pub(super) async fn step_params(
        &self,
        actor: Actor,
        step: pb::StepRef,
    ) -> Result<pb::StepParamsResponse, Status> {
        let values = self
            .service
            .step_params(&actor, &step.instance_id, &step.method_id, step.sequence)
            .await?;
        Ok(pb::StepParamsResponse {
            values_json: values.map(|values| values.to_string()),
        })
    }

    pub(super) async fn save_step_scripts(
        &self,
        actor: Actor,
        body: pb::SaveStepScriptsRequest,
    ) -> Result<pb::SaveStepScriptsResponse, Status> {
        let step = body.step.unwrap_or_default();
        let scripts = body.scripts.into_iter().map(script_binding).collect();
        self.service
            .save_step_scripts(
                &actor,
                &step.instance_id,
                &step.method_id,
                step.sequence,
                scripts,
            )
            .await?;
        Ok(pb::SaveStepScriptsResponse {})
    }

    pub(super) async fn step_scripts(
        &self,
        actor: Actor,
        step: pb::StepRef,
    ) -> Result<pb::StepScriptsResponse, Status> {
        let views = self
            .service
            .step_scripts(&actor, &step.instance_id, &step.method_id, step.sequence)
            .await?;
        Ok(pb::StepScriptsResponse {
            scripts: views
                .into_iter()
                .map(|view| {
                    let file = view.file.unwrap_or_default();
                    pb::StepScript {
                        id: view.binding.id,
                        dest: view.binding.dest,
                        host_ips: view.binding.host_ips,
                        parameter: view.binding.parameter,
                        execute_type: view.binding.execute_type,
                        file_name: file.file_name,
                        script_id: file.script_id,
                        script_name: file.script_name,
                    }
                })
                .collect(),
        })
    }

    pub(super) async fn save_step_configs(
        &self,
        actor: Actor,
        body: pb::SaveStepConfigsRequest,
    ) -> Result<pb::SaveStepConfigsResponse, Status> {
        let step = body.step.clone().unwrap_or_default();
        let binding = config_binding(body)?;
        self.service
            .save_step_configs(
                &actor,
                &step.instance_id,
                &step.method_id,
                step.sequence,
                binding,
            )
            .await?;
        Ok(pb::SaveStepConfigsResponse {})
    }

    pub(super) async fn step_configs(
        &self,
        actor: Actor,
        step: pb::StepRef,
    ) -> Result<pb::StepConfigsResponse, Status> {
        let binding = self
            .service
            .step_configs(&actor, &step.instance_id, &step.method_id, step.sequence)
            .await?;
        Ok(match binding {
            None => pb::StepConfigsResponse {
                file_id: None,
                groups: Vec::new(),
                template_id: None,
            },
            Some(binding) => pb::StepConfigsResponse {
                file_id: Some(binding.file_id),
                template_id: binding.template_id,
                groups: binding
                    .groups
                    .into_iter()
                    .map(|group| pb::ConfigGroup {
                        dest: group.dest,
                        host_ips: group.host_ips,
                        configs_json: group.configs.to_string(),
                        target_name: group.target_name,
                    })
                    .collect(),
            },
        })
    }

    pub(super) async fn step_config_schema(
        &self,
        actor: Actor,
        step: pb::StepRef,
    ) -> Result<pb::StepConfigSchemaResponse, Status> {
        let nodes = self
            .service
            .step_config_schema(&actor, &step.instance_id, &step.method_id, step.sequence)
            .await?;
        Ok(pb::StepConfigSchemaResponse {
            nodes: nodes.into_iter().map(config_node_to_proto).collect(),
        })
    }

    pub(super) async fn save_step_artifacts(
        &self,
        actor: Actor,
        body: pb::SaveStepArtifactsRequest,
    ) -> Result<pb::SaveStepArtifactsResponse, Status> {
        let step = body.step.unwrap_or_default();
        let artifacts = body.artifacts.into_iter().map(artifact_binding).collect();
        let (instance_id, instance_name) = self
            .service
            .save_step_artifacts(
                &actor,
                &step.instance_id,
                &step.method_id,
                step.sequence,
                artifacts,
            )
            .await?;
        Ok(pb::SaveStepArtifactsResponse {
            instance_id,
            instance_name,
        })
    }

    pub(super) async fn step_artifacts(
        &self,
        actor: Actor,
        step: pb::StepRef,
    ) -> Result<pb::StepArtifactsResponse, Status> {
        let views = self
            .service
            .step_artifacts(&actor, &step.instance_id, &step.method_id, step.sequence)
            .await?;
        Ok(pb::StepArtifactsResponse {
            artifacts: views
                .into_iter()
                .map(|view| {
                    let origin = view.origin.unwrap_or_default();
                    pb::StepArtifact {
                        file_id: view.binding.file_id,
                        dest: view.binding.dest,
                        host_ips: view.binding.host_ips,
                        file_name: origin.file_name,
                        md5: origin.md5,
                        version_id: origin.version_id,
                        artifact_id: origin.artifact_id,
                        artifact_name: origin.artifact_name,
                        version: origin.version,
                    }
                })
                .collect(),
        })
    }

    pub(super) async fn save_step_all(
        &self,
        actor: Actor,
        body: pb::SaveStepAllRequest,
    ) -> Result<pb::SaveStepAllResponse, Status> {
        let step = body.step.unwrap_or_default();
        let params = match body.params_json {
            Some(text) => Some(serde_json::from_str::<serde_json::Value>(&text).map_err(
                |error| {
                    ErrorReason::InvalidField.status(format!("config_value is not JSON: {error}"))
                },
            )?),
            None => None,
        };
        let all = AllBindings {
            cluster_id: body.cluster_id,
            artifacts: body
                .has_artifacts
                .then(|| body.artifacts.into_iter().map(artifact_binding).collect()),
            configs: body.configs.map(config_binding).transpose()?,
            params,
            scripts: body
                .has_scripts
                .then(|| body.scripts.into_iter().map(script_binding).collect()),
            rolling: body
                .rolling
                .map(|rolling| (rolling.batch_size, u64::from(rolling.pause_seconds))),
        };
        self.service
            .save_step_all(
                &actor,
                &step.instance_id,
                &step.method_id,
                step.sequence,
                all,
            )
            .await?;
        Ok(pb::SaveStepAllResponse {})
    }
}
