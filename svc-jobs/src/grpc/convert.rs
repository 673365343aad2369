//! The jobs records as proto messages, and the proto messages the rules take, one `From` each.

use common::time::to_unix_ms;
use proto::{ErrorReason, jobs::v1 as pb};
use tonic::Status;

use crate::{
    domain::plan::ArtifactPlan,
    service::{
        bindings::{
            ArtifactBinding, ArtifactView, ConfigBinding, ConfigGroup, ScriptBinding, ScriptView,
        },
        executions::ExecuteAnswer,
        instances::{CopyInput, InstanceInput, InstanceView, StepView},
        joint_lines::{NodeInput, NodeView},
        records::{ApprovalRow, EventRow, JointLineRow, ScheduleRow, WorkOrderRow},
        schedules::ScheduleInput,
        templates::{MethodChoice, MethodView, TemplateInput, TemplateView},
        webhooks::WebhookView,
    },
};

/// The JSON text of the field `field`, or `invalid_field` saying why it is not JSON.
pub(super) fn json_of(text: &str, field: &str) -> Result<serde_json::Value, Status> {
    serde_json::from_str(text)
        .map_err(|error| ErrorReason::InvalidField.status(format!("{field} is not JSON: {error}")))
}

/// The configs a step deploys, each group's configs parsed from their JSON text.
pub(super) fn config_binding(body: pb::SaveStepConfigsRequest) -> Result<ConfigBinding, Status> {
    let mut groups = Vec::with_capacity(body.groups.len());
    for group in body.groups {
        groups.push(ConfigGroup {
            configs: json_of(&group.configs_json, "groups.configs")?,
            dest: group.dest,
            host_ips: group.host_ips,
            target_name: group.target_name,
        });
    }
    Ok(ConfigBinding {
        file_id: body.file_id,
        groups,
        template_id: None,
    })
}

/// The configs a step deploys as the answer shows them (empty when none are saved).
pub(super) fn step_configs_to_proto(binding: Option<ConfigBinding>) -> pb::StepConfigsResponse {
    let Some(binding) = binding else {
        return pb::StepConfigsResponse {
            file_id: None,
            groups: Vec::new(),
            template_id: None,
        };
    };
    pb::StepConfigsResponse {
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
    }
}

common::proto_from! {
    pb::CreateTemplateRequest as body => TemplateInput {
        name, remark, deploy_type, application_id;
        template_type: body.r#type,
        rollback_template_id: body.jobt_rollback_id,
    }
    pb::TemplateMethod as method => MethodChoice { sequence, component_id, method_id }
    pb::CreateInstanceRequest as body => InstanceInput {
        name, remark, env_id, application_id, job_template_id, module_id,
    }
    pb::CopyInstanceRequest as body => CopyInput {
        name, env_id, module_id;
        remark: Some(body.remark),
    }
    pb::StepScript as script => ScriptBinding { id, dest, host_ips, parameter, execute_type }
    pb::StepArtifact as artifact => ArtifactBinding { file_id, dest, host_ips }
    pb::JointNode as node => NodeInput { instance_id, sequence, parents, top, left }
    WorkOrderRow as row => pb::WorkOrder {
        instance_id, doc_id, process_status;
        excel_data_json: row.excel_data,
    }
    JointLineRow as row => pb::JointLine [times] {
        id, name, remark, product_line_id, creator, mender
    }
    ExecuteAnswer as answer => pb::ExecuteResponse { execution_id, result, msg, status, request_id }
    ArtifactPlan as artifact => pb::ExecutionArtifact { file_id, file_name, version, md5 }
    MethodView as view => pb::TemplateMethod {
        component_name, method_name, method_remark, method_file_id, is_display_script;
        sequence: u32::try_from(view.row.sequence).unwrap_or_default(),
        component_id: view.row.component_id,
        method_id: view.row.method_id,
    }
    NodeView as node => pb::JointNode {
        instance_name, status;
        parents: node.parents.iter().map(ToString::to_string).collect(),
        instance_id: node.row.instance_id,
        sequence: node.row.sequence,
        top: node.row.canvas_top,
        left: node.row.canvas_left,
    }
    StepView as step => pb::Step {
        status, component_name, method_remark, method_file_id, is_display_script;
        sequence: u32::try_from(step.row.sequence).unwrap_or_default(),
        component_id: step.row.component_id,
        method_id: step.row.method_id,
        cluster_id: step.row.cluster_id,
        cluster_name: step.cluster.as_ref().map(|cluster| cluster.name.clone()),
        cluster_remark: step.cluster.as_ref().map(|cluster| cluster.remark.clone()),
    }
}

impl From<TemplateView> for pb::Template {
    fn from(view: TemplateView) -> pb::Template {
        let row = view.row;
        pb::Template {
            id: row.id,
            name: row.name,
            remark: row.remark,
            r#type: row.template_type,
            status: row.status,
            deploy_type: row.deploy_type,
            application_id: row.application_id,
            jobt_rollback_id: row.rollback_template_id,
            jobt_rollback_name: view.rollback_template_name,
            creator: row.creator,
            create_time_ms: to_unix_ms(row.create_time),
            mender: row.mender,
            update_time_ms: to_unix_ms(row.update_time),
        }
    }
}

impl From<InstanceView> for pb::Instance {
    fn from(view: InstanceView) -> pb::Instance {
        let row = view.row;
        pb::Instance {
            id: row.id,
            name: row.name,
            remark: row.remark,
            status: row.status,
            env_id: row.env_id,
            env_name: view.env_name,
            application_id: row.application_id,
            application_name: view.application_name,
            product_line_id: row.product_line_id,
            product_line_name: view.product_line_name,
            module_id: row.module_id,
            module_name: view.module_name,
            job_template_id: row.job_template_id,
            job_template_name: view.job_template_name,
            deploy_type: view.deploy_type,
            creator: row.creator,
            create_time_ms: to_unix_ms(row.create_time),
            mender: row.mender,
            update_time_ms: to_unix_ms(row.update_time),
        }
    }
}

impl From<ScriptView> for pb::StepScript {
    fn from(view: ScriptView) -> pb::StepScript {
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
    }
}

impl From<ArtifactView> for pb::StepArtifact {
    fn from(view: ArtifactView) -> pb::StepArtifact {
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
    }
}

impl From<WebhookView> for pb::Webhook {
    fn from(view: WebhookView) -> pb::Webhook {
        let from_config = view.source == "config";
        pb::Webhook {
            id: view.row.id,
            url: view.row.url,
            source: view.source.to_owned(),
            creator: view.row.creator,
            create_time_ms: if from_config {
                0
            } else {
                to_unix_ms(view.row.create_time)
            },
        }
    }
}

impl From<EventRow> for pb::ExecutionEvent {
    /// A stored event as the stream sends it: log chunks become `{host_task, offset, text}`.
    fn from(event: EventRow) -> pb::ExecutionEvent {
        let data_json = if event.kind == "log" {
            serde_json::json!({
                "host_task": event.host_task_id,
                "offset": event.log_offset,
                "text": event.payload,
            })
            .to_string()
        } else {
            event.payload
        };
        pb::ExecutionEvent {
            seq: u64::try_from(event.seq).unwrap_or(0),
            kind: event.kind,
            data_json,
        }
    }
}

/// A deployment request as sent.
pub(super) fn approval_to_proto(row: ApprovalRow) -> pb::Approval {
    pb::Approval {
        id: row.id,
        kind: row.kind,
        target_id: row.target_id,
        env_id: row.env_id,
        application_id: row.application_id,
        status: row.status,
        requested_by: row.requested_by,
        create_time_ms: to_unix_ms(row.create_time),
        expires_at_ms: to_unix_ms(row.expires_at),
        decided_by: row.decided_by,
        comment: row.comment,
        reason: row.reason,
        not_before_ms: row.not_before.map(to_unix_ms),
        execution_id: row.execution_id,
        use_tad_host: row.use_tad_host,
    }
}

/// A schedule as sent.
pub(super) fn schedule_to_proto(row: ScheduleRow) -> pb::Schedule {
    pb::Schedule {
        id: row.id,
        target_kind: row.target_kind,
        target_id: row.target_id,
        cron: row.cron,
        timezone: row.timezone,
        use_tad_host: row.use_tad_host,
        enabled: row.enabled,
        creator: row.creator,
        create_time_ms: to_unix_ms(row.create_time),
        next_fire_ms: row.next_fire.map(to_unix_ms),
        last_fire_ms: row.last_fire.map(to_unix_ms),
        last_execution_id: row.last_execution_id,
        last_message: row.last_message,
    }
}

/// A schedule as asked.
pub(super) fn schedule_input(request: pb::CreateScheduleRequest) -> ScheduleInput {
    ScheduleInput {
        instance_id: request.instance_id,
        jointline_id: request.jointline_id,
        cron: request.cron,
        timezone: request.timezone,
        enabled: request.enabled,
        use_tad_host: request.use_tad_host,
    }
}
