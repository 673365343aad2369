//! Inbound gRPC adapter of svc-jobs: reads the caller the doorway layer verified
//! (`common::doorway`), translates proto ⇄ domain in one file per area, and maps rule failures
//! to statuses with a stable reason (`error`). Nothing else.

mod bindings;
mod convert;
mod error;
mod executions;
mod instances;
mod joint_lines;
mod templates;
mod webhooks;
mod work_orders;

use common::{auth::Actor, time::to_unix_ms};
use proto::{
    ErrorReason,
    jobs::v1::{self as pb, jobs_service_server::JobsService as JobsApi},
};
use tonic::Status;

use crate::service::{
    JobsService,
    bindings::{AllBindings, ArtifactBinding, ConfigBinding, ConfigGroup, ScriptBinding},
    executions::{ExecuteAnswer, ExecutionView, RunRequest},
    instances::{CopyInput, InstanceInput, InstanceView},
    joint_lines::NodeInput,
    records::{EventRow, InstanceFilter, JointLineRow, JointTree, Mode, RunTree, WorkOrderRow},
    templates::{MethodChoice, MethodView, TemplateInput, TemplateView},
    webhooks::WebhookView,
};

/// The tonic service over the jobs rules.
#[derive(Clone)]
pub struct JobsGrpc {
    service: JobsService,
}

impl JobsGrpc {
    pub fn new(service: JobsService) -> JobsGrpc {
        JobsGrpc { service }
    }
}

fn work_order_to_proto(row: WorkOrderRow) -> pb::WorkOrder {
    pb::WorkOrder {
        instance_id: row.instance_id,
        doc_id: row.doc_id,
        excel_data_json: row.excel_data,
        process_status: row.process_status,
    }
}

/// The live events of a run, as `watch_execution` streams them.
type EventStream = futures::stream::BoxStream<'static, Result<pb::ExecutionEvent, Status>>;

common::grpc_api! {
    impl JobsApi for JobsGrpc {
        type WatchExecutionStream = EventStream;
    }
    create_template(pb::CreateTemplateRequest) -> pb::Template;
    query_templates(pb::QueryTemplatesRequest) -> pb::TemplatePage;
    list_templates(pb::ListTemplatesRequest) -> pb::ListTemplatesResponse;
    delete_template(pb::IdRequest) -> pb::DeleteResponse;
    replace_template_methods(pb::ReplaceTemplateMethodsRequest) -> pb::ReplaceTemplateMethodsResponse;
    template_methods(pb::IdRequest) -> pb::TemplateMethodsResponse;
    create_instance(pb::CreateInstanceRequest) -> pb::Instance;
    query_instances(pb::QueryInstancesRequest) -> pb::InstancePage;
    list_instances(pb::ListInstancesRequest) -> pb::ListInstancesResponse;
    copy_instance(pb::CopyInstanceRequest) -> pb::Instance;
    delete_instance(pb::IdRequest) -> pb::DeleteResponse;
    instance_details(pb::IdRequest) -> pb::InstanceDetailsResponse;
    save_step_cluster(pb::SaveStepClusterRequest) -> pb::SaveStepClusterResponse;
    instance_cluster_choices(pb::IdRequest) -> pb::ClusterChoicesResponse;
    check_cluster_unused(pb::IdRequest) -> pb::ClusterUnusedResponse;
    save_step_params(pb::SaveStepParamsRequest) -> pb::SaveStepParamsResponse;
    step_params(pb::StepRef) -> pb::StepParamsResponse;
    save_step_scripts(pb::SaveStepScriptsRequest) -> pb::SaveStepScriptsResponse;
    step_scripts(pb::StepRef) -> pb::StepScriptsResponse;
    save_step_configs(pb::SaveStepConfigsRequest) -> pb::SaveStepConfigsResponse;
    step_configs(pb::StepRef) -> pb::StepConfigsResponse;
    step_config_schema(pb::StepRef) -> pb::StepConfigSchemaResponse;
    save_step_artifacts(pb::SaveStepArtifactsRequest) -> pb::SaveStepArtifactsResponse;
    step_artifacts(pb::StepRef) -> pb::StepArtifactsResponse;
    save_step_all(pb::SaveStepAllRequest) -> pb::SaveStepAllResponse;
    create_joint_line(pb::CreateJointLineRequest) -> pb::JointLine;
    query_joint_lines(pb::QueryJointLinesRequest) -> pb::JointLinePage;
    save_joint_line(pb::SaveJointLineRequest) -> pb::JointLine;
    joint_line_structure(pb::IdRequest) -> pb::JointLineStructureResponse;
    save_work_order(pb::SaveWorkOrderRequest) -> pb::WorkOrder;
    export_work_order(pb::IdRequest) -> pb::WorkOrderFile;
    execute(pb::ExecuteRequest) -> pb::ExecuteResponse;
    stop_execution(pb::IdRequest) -> pb::ExecuteResponse;
    get_execution(pb::IdRequest) -> pb::Execution;
    execution_log(pb::ExecutionLogRequest) -> pb::ExecutionLogChunk;
    execute_joint_line(pb::ExecuteJointLineRequest) -> pb::ExecuteResponse;
    retry_execution(pb::RetryExecutionRequest) -> pb::ExecuteResponse;
    rollback(pb::RollbackRequest) -> pb::ExecuteResponse;
    execution_history(pb::ExecutionHistoryRequest) -> pb::ExecutionHistoryPage;
    watch_execution(pb::WatchExecutionRequest) -> EventStream;
    list_webhooks(pb::ListWebhooksRequest) -> pb::ListWebhooksResponse;
    add_webhook(pb::AddWebhookRequest) -> pb::Webhook;
    delete_webhook(pb::IdRequest) -> pb::DeleteResponse;
}
