//! Inbound gRPC adapter of svc-jobs: reads the caller the doorway layer verified
//! (`common::doorway`), translates proto ⇄ domain (the RPC table here, the records' messages in
//! `convert`, runs in `executions`), and maps rule failures to statuses with a stable reason
//! (`error`). Nothing else.

mod convert;
mod error;
mod executions;

use common::{auth::Actor, doorway::converted, paging::PageRequest};
use futures::StreamExt;
use proto::jobs::v1::{self as pb, jobs_service_server::JobsService as JobsApi};
use tonic::Status;

use crate::service::executions::RunRequest;
use crate::service::{
    JobsService,
    bindings::AllBindings,
    records::{InstanceFilter, Mode, RunTree},
};
use crate::service::{approvals::masked_steps, records::ApprovalFilter};
use convert::{
    approval_to_proto, config_binding, json_of, schedule_input, schedule_to_proto,
    step_configs_to_proto,
};
use executions::{KeyedCall, execution_to_proto, execution_view_to_proto};

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

/// The live events of a run, as `watch_execution` streams them.
type EventStream = futures::stream::BoxStream<'static, Result<pb::ExecutionEvent, Status>>;

/// The filter of a listing of instances: blank criteria are left out.
fn instance_filter(
    name: Option<String>,
    application_id: Option<String>,
    product_line_id: Option<String>,
) -> InstanceFilter {
    InstanceFilter {
        name_fragment: name.filter(|name| !name.trim().is_empty()),
        application_id: application_id.filter(|id| !id.is_empty()),
        product_line_id: product_line_id.filter(|id| !id.is_empty()),
    }
}

common::grpc_api! {
    impl JobsApi for JobsGrpc {
        type WatchExecutionStream = EventStream;
    }

    // Job templates and their component methods.
    create_template(&self, actor: Actor, body: pb::CreateTemplateRequest) -> pb::Template {
        self.service.create_template(&actor, body.into()).await?.into()
    }
    query_templates(&self, actor: Actor, body: pb::QueryTemplatesRequest) -> pb::TemplatePage {
        let page = PageRequest::new(body.page, body.page_size);
        let (name, application_id) = (body.name.as_deref(), body.application_id.as_deref());
        let query = self.service.query_templates(&actor, name, application_id, page);
        let (count, views) = query.await?;
        pb::TemplatePage { count, page: page.page, templates: converted(views) }
    }
    list_templates(
        &self,
        actor: Actor,
        _: pb::ListTemplatesRequest,
    ) -> pb::ListTemplatesResponse {
        let views = self.service.list_templates(&actor).await?;
        pb::ListTemplatesResponse { templates: converted(views) }
    }
    delete_template(&self, actor: Actor, body: pb::IdRequest) -> pb::DeleteResponse {
        self.service.delete_template(&actor, &body.id).await?;
        pb::DeleteResponse { id: body.id }
    }
    replace_template_methods(
        &self,
        actor: Actor,
        body: pb::ReplaceTemplateMethodsRequest,
    ) -> pb::ReplaceTemplateMethodsResponse {
        let choices = converted(body.methods);
        let replaced = self.service.replace_template_methods(&actor, &body.template_id, choices);
        let is_rollback = replaced.await?;
        pb::ReplaceTemplateMethodsResponse { id: body.template_id, is_rollback }
    }
    template_methods(&self, actor: Actor, body: pb::IdRequest) -> pb::TemplateMethodsResponse {
        let methods = self.service.template_methods(&actor, &body.id).await?;
        pb::TemplateMethodsResponse { methods: converted(methods) }
    }

    // Job instances, copies and the clusters of their steps.
    create_instance(&self, actor: Actor, body: pb::CreateInstanceRequest) -> pb::Instance {
        self.service.create_instance(&actor, body.into()).await?.into()
    }
    query_instances(&self, actor: Actor, body: pb::QueryInstancesRequest) -> pb::InstancePage {
        let page = PageRequest::new(body.page, body.page_size);
        let filter = instance_filter(body.name, body.application_id, None);
        let (count, views) = self.service.query_instances(&actor, filter, page).await?;
        pb::InstancePage { count, page: page.page, instances: converted(views) }
    }
    list_instances(
        &self,
        actor: Actor,
        body: pb::ListInstancesRequest,
    ) -> pb::ListInstancesResponse {
        let filter = instance_filter(body.name, body.application_id, body.product_line_id);
        let views = self.service.list_instances(&actor, filter).await?;
        pb::ListInstancesResponse { instances: converted(views) }
    }
    copy_instance(&self, actor: Actor, body: pb::CopyInstanceRequest) -> pb::Instance {
        let id = body.id.clone();
        self.service.copy_instance(&actor, &id, body.into()).await?.into()
    }
    delete_instance(&self, actor: Actor, body: pb::IdRequest) -> pb::DeleteResponse {
        self.service.delete_instance(&actor, &body.id).await?;
        pb::DeleteResponse { id: body.id }
    }
    instance_details(
        &self,
        actor: Actor,
        body: pb::IdRequest,
    ) -> pb::InstanceDetailsResponse {
        let (view, steps) = self.service.instance_details(&actor, &body.id).await?;
        let work_order = self.service.work_order(&actor, &body.id).await?;
        pb::InstanceDetailsResponse {
            work_order: work_order.map(Into::into),
            instance: Some(view.into()),
            steps: converted(steps),
        }
    }
    save_step_cluster(
        &self,
        actor: Actor,
        body: pb::SaveStepClusterRequest,
    ) -> pb::SaveStepClusterResponse {
        let (instance_id, method_id) = (&body.instance_id, &body.method_id);
        let cluster_id = &body.cluster_id;
        let sequence = body.sequence;
        let saved =
            self.service.save_step_cluster(&actor, instance_id, method_id, sequence, cluster_id);
        pb::SaveStepClusterResponse { status: saved.await? }
    }
    instance_cluster_choices(
        &self,
        actor: Actor,
        body: pb::IdRequest,
    ) -> pb::ClusterChoicesResponse {
        let clusters = self.service.instance_cluster_choices(&actor, &body.id).await?;
        let clusters = clusters.into_iter().map(|cluster| pb::ClusterChoice {
            id: cluster.id,
            name: cluster.name,
            remark: cluster.remark,
            app_id: cluster.app_id,
        });
        pb::ClusterChoicesResponse { clusters: clusters.collect() }
    }
    check_cluster_unused(&self, actor: Actor, body: pb::IdRequest) -> pb::ClusterUnusedResponse {
        self.service.check_cluster_unused(&actor, &body.id).await?;
        pb::ClusterUnusedResponse {}
    }

    // What a step deploys: parameters, scripts, configs, artifacts.
    save_step_params(
        &self,
        actor: Actor,
        body: pb::SaveStepParamsRequest,
    ) -> pb::SaveStepParamsResponse {
        let step = body.step.unwrap_or_default();
        let (instance_id, method_id) = (&step.instance_id, &step.method_id);
        let values = json_of(&body.values_json, "config_value")?;
        let saved =
            self.service.save_step_params(&actor, instance_id, method_id, step.sequence, values);
        saved.await?;
        pb::SaveStepParamsResponse {}
    }
    step_params(&self, actor: Actor, step: pb::StepRef) -> pb::StepParamsResponse {
        let (instance_id, method_id) = (&step.instance_id, &step.method_id);
        let values = self.service.step_params(&actor, instance_id, method_id, step.sequence).await?;
        pb::StepParamsResponse { values_json: values.map(|values| values.to_string()) }
    }
    save_step_scripts(
        &self,
        actor: Actor,
        body: pb::SaveStepScriptsRequest,
    ) -> pb::SaveStepScriptsResponse {
        let step = body.step.unwrap_or_default();
        let (instance_id, method_id) = (&step.instance_id, &step.method_id);
        let scripts = converted(body.scripts);
        let saved =
            self.service.save_step_scripts(&actor, instance_id, method_id, step.sequence, scripts);
        saved.await?;
        pb::SaveStepScriptsResponse {}
    }
    step_scripts(&self, actor: Actor, step: pb::StepRef) -> pb::StepScriptsResponse {
        let (instance_id, method_id) = (&step.instance_id, &step.method_id);
        let views = self.service.step_scripts(&actor, instance_id, method_id, step.sequence);
        pb::StepScriptsResponse { scripts: converted(views.await?) }
    }
    save_step_configs(
        &self,
        actor: Actor,
        body: pb::SaveStepConfigsRequest,
    ) -> pb::SaveStepConfigsResponse {
        let step = body.step.clone().unwrap_or_default();
        let (instance_id, method_id) = (&step.instance_id, &step.method_id);
        let binding = config_binding(body)?;
        let saved =
            self.service.save_step_configs(&actor, instance_id, method_id, step.sequence, binding);
        saved.await?;
        pb::SaveStepConfigsResponse {}
    }
    step_configs(&self, actor: Actor, step: pb::StepRef) -> pb::StepConfigsResponse {
        let (instance_id, method_id) = (&step.instance_id, &step.method_id);
        let binding = self.service.step_configs(&actor, instance_id, method_id, step.sequence);
        step_configs_to_proto(binding.await?)
    }
    step_config_schema(&self, actor: Actor, step: pb::StepRef) -> pb::StepConfigSchemaResponse {
        let (instance_id, method_id) = (&step.instance_id, &step.method_id);
        let nodes = self.service.step_config_schema(&actor, instance_id, method_id, step.sequence);
        pb::StepConfigSchemaResponse { nodes: converted(nodes.await?) }
    }
    save_step_artifacts(
        &self,
        actor: Actor,
        body: pb::SaveStepArtifactsRequest,
    ) -> pb::SaveStepArtifactsResponse {
        let step = body.step.unwrap_or_default();
        let (instance_id, method_id) = (&step.instance_id, &step.method_id);
        let (sequence, artifacts) = (step.sequence, converted(body.artifacts));
        let saved =
            self.service.save_step_artifacts(&actor, instance_id, method_id, sequence, artifacts);
        let (instance_id, instance_name) = saved.await?;
        pb::SaveStepArtifactsResponse { instance_id, instance_name }
    }
    step_artifacts(&self, actor: Actor, step: pb::StepRef) -> pb::StepArtifactsResponse {
        let (instance_id, method_id) = (&step.instance_id, &step.method_id);
        let views = self.service.step_artifacts(&actor, instance_id, method_id, step.sequence);
        pb::StepArtifactsResponse { artifacts: converted(views.await?) }
    }
    save_step_all(&self, actor: Actor, body: pb::SaveStepAllRequest) -> pb::SaveStepAllResponse {
        let step = body.step.unwrap_or_default();
        let params = body.params_json.as_deref();
        let params = params.map(|text| json_of(text, "config_value")).transpose()?;
        let all = AllBindings {
            cluster_id: body.cluster_id,
            artifacts: body.has_artifacts.then(|| converted(body.artifacts)),
            configs: body.configs.map(config_binding).transpose()?,
            params,
            scripts: body.has_scripts.then(|| converted(body.scripts)),
            rolling: body
                .rolling
                .map(|rolling| (rolling.batch_size, u64::from(rolling.pause_seconds))),
            rollout: body
                .rollout_json
                .as_deref()
                .map(|text| json_of(text, "rollout"))
                .transpose()?,
        };
        let (instance_id, method_id) = (&step.instance_id, &step.method_id);
        let saved = self.service.save_step_all(&actor, instance_id, method_id, step.sequence, all);
        saved.await?;
        pb::SaveStepAllResponse {}
    }

    // Joint lines, graphs of instances run in order.
    create_joint_line(&self, actor: Actor, body: pb::CreateJointLineRequest) -> pb::JointLine {
        let (name, remark) = (&body.name, &body.remark);
        let created = self.service.create_joint_line(&actor, name, remark, &body.product_line_id);
        created.await?.into()
    }
    query_joint_lines(
        &self,
        actor: Actor,
        body: pb::QueryJointLinesRequest,
    ) -> pb::JointLinePage {
        let page = PageRequest::new(body.page, body.page_size);
        let (name, product_line_id) = (body.name.as_deref(), body.product_line_id.as_deref());
        let query = self.service.query_joint_lines(&actor, name, product_line_id, page);
        let (count, rows) = query.await?;
        pb::JointLinePage { count, page: page.page, joint_lines: converted(rows) }
    }
    save_joint_line(&self, actor: Actor, body: pb::SaveJointLineRequest) -> pb::JointLine {
        let nodes = converted(body.nodes);
        self.service.save_joint_line(&actor, &body.id, nodes).await?.into()
    }
    joint_line_structure(
        &self,
        actor: Actor,
        body: pb::IdRequest,
    ) -> pb::JointLineStructureResponse {
        let (line, nodes) = self.service.joint_line_structure(&actor, &body.id).await?;
        pb::JointLineStructureResponse {
            joint_line: Some(line.into()),
            nodes: converted(nodes),
        }
    }

    // Work orders and their export.
    save_work_order(&self, actor: Actor, body: pb::SaveWorkOrderRequest) -> pb::WorkOrder {
        let excel_data = json_of(&body.excel_data_json, "excel_data")?;
        let (instance_id, doc_id) = (&body.instance_id, body.doc_id.as_deref());
        let app_id = body.app_id.as_deref();
        let saved = self.service.save_work_order(&actor, instance_id, doc_id, excel_data, app_id);
        saved.await?.into()
    }
    export_work_order(&self, actor: Actor, body: pb::IdRequest) -> pb::WorkOrderFile {
        let (file_name, content) = self.service.export_work_order(&actor, &body.id).await?;
        pb::WorkOrderFile { file_name, content }
    }

    // Runs of instances and joint lines, their logs, history and live events.
    execute(&self, call: KeyedCall, body: pb::ExecuteRequest) -> pb::ExecuteResponse {
        let mode = match pb::ExecuteMode::try_from(body.mode) {
            Ok(pb::ExecuteMode::NextStep) => Mode::NextStep,
            _ => Mode::All,
        };
        let instance_id = &body.instance_id;
        let request = RunRequest::Instance { instance_id, mode, use_tad_host: body.use_tad_host };
        let plan_id = body.plan_id.as_deref();
        call.start_planned(&self.service, request, plan_id, body.wait).await?.into()
    }
    plan_instance(&self, actor: Actor, body: pb::PlanRequest) -> pb::InstancePlan {
        let plan = self.service.plan_instance(&actor, &body.instance_id, body.use_tad_host).await?;
        let plan_json = serde_json::to_string(&plan)
            .map_err(|error| proto::ErrorReason::InternalError.status(format!("the plan: {error}")))?;
        pb::InstancePlan { plan_id: plan.plan_id, plan_json }
    }
    plan_joint_line(&self, actor: Actor, body: pb::PlanJointLineRequest) -> pb::JointLinePlan {
        let (id, use_tad_host) = (&body.joint_line_id, body.use_tad_host);
        let plan = self.service.plan_joint_line(&actor, id, use_tad_host).await?;
        let plan_json = serde_json::to_string(&plan)
            .map_err(|error| proto::ErrorReason::InternalError.status(format!("the plan: {error}")))?;
        pb::JointLinePlan { plan_id: plan.plan_id, plan_json }
    }
    stop_execution(&self, actor: Actor, body: pb::IdRequest) -> pb::ExecuteResponse {
        self.service.stop_execution(&actor, &body.id).await?.into()
    }
    get_execution(&self, actor: Actor, body: pb::IdRequest) -> pb::Execution {
        execution_view_to_proto(self.service.execution(&actor, &body.id).await?)
    }
    execution_log(&self, actor: Actor, body: pb::ExecutionLogRequest) -> pb::ExecutionLogChunk {
        let (execution_id, host_task_id) = (&body.execution_id, &body.host_task_id);
        let read = self.service.execution_log(&actor, execution_id, host_task_id, body.offset);
        let chunk = read.await?;
        pb::ExecutionLogChunk {
            host_task_id: chunk.host_task_id,
            offset: chunk.offset,
            next_offset: chunk.next_offset,
            text: chunk.text,
            done: chunk.done,
        }
    }
    execute_joint_line(
        &self,
        call: KeyedCall,
        body: pb::ExecuteJointLineRequest,
    ) -> pb::ExecuteResponse {
        let (joint_line_id, use_tad_host) = (&body.joint_line_id, body.use_tad_host);
        let request = RunRequest::JointLine { joint_line_id, use_tad_host };
        let plan_id = body.plan_id.as_deref();
        call.start_planned(&self.service, request, plan_id, body.wait).await?.into()
    }
    create_schedule(&self, actor: Actor, body: pb::CreateScheduleRequest) -> pb::Schedule {
        schedule_to_proto(self.service.create_schedule(&actor, schedule_input(body)).await?)
    }
    list_schedules(&self, actor: Actor, body: pb::ListSchedulesRequest) -> pb::SchedulePage {
        let page = PageRequest::new(body.page, body.page_size);
        let (count, rows) = self.service.list_schedules(&actor, page).await?;
        pb::SchedulePage { count, results: rows.into_iter().map(schedule_to_proto).collect() }
    }
    set_schedule_enabled(&self, actor: Actor, body: pb::SetScheduleEnabledRequest) -> pb::Schedule {
        let row = self.service.set_schedule_enabled(&actor, &body.id, body.enabled).await?;
        schedule_to_proto(row)
    }
    delete_schedule(&self, actor: Actor, body: pb::IdRequest) -> pb::DeleteResponse {
        self.service.delete_schedule(&actor, &body.id).await?;
        pb::DeleteResponse::default()
    }
    list_approvals(&self, actor: Actor, body: pb::ListApprovalsRequest) -> pb::ApprovalPage {
        let page = PageRequest::new(body.page, body.page_size);
        let filter = ApprovalFilter {
            status: body.status.filter(|status| !status.is_empty()),
            ..ApprovalFilter::default()
        };
        let (count, rows) = self.service.list_approvals(&actor, filter, page).await?;
        let results = rows.into_iter().map(approval_to_proto).collect();
        pb::ApprovalPage { count, results }
    }
    get_approval(&self, actor: Actor, body: pb::IdRequest) -> pb::ApprovalDetails {
        let (row, frozen) = self.service.approval(&actor, &body.id).await?;
        let compared = self.service.frozen_comparisons(&frozen).await?;
        let mut plans = Vec::with_capacity(frozen.len());
        for ((instance_id, steps), comparison) in frozen.into_iter().zip(compared) {
            let comparison_json = serde_json::to_string(&comparison).map_err(|error| {
                proto::ErrorReason::InternalError.status(format!("the comparison: {error}"))
            })?;
            plans.push(pb::FrozenInstancePlan {
                instance_id,
                steps_json: masked_steps(&steps).to_string(),
                comparison_json,
            });
        }
        pb::ApprovalDetails { request: Some(approval_to_proto(row)), plans }
    }
    approve_request(&self, actor: Actor, body: pb::DecideRequest) -> pb::ApprovalDecision {
        let decision = self.service.approve(&actor, &body.id, body.comment.as_deref()).await?;
        pb::ApprovalDecision {
            request: Some(approval_to_proto(decision.request)),
            message: decision.message,
        }
    }
    reject_request(&self, actor: Actor, body: pb::DecideRequest) -> pb::ApprovalDecision {
        let comment = body.comment.as_deref().unwrap_or_default();
        let decision = self.service.reject(&actor, &body.id, comment).await?;
        pb::ApprovalDecision {
            request: Some(approval_to_proto(decision.request)),
            message: decision.message,
        }
    }
    retry_execution(
        &self,
        call: KeyedCall,
        body: pb::RetryExecutionRequest,
    ) -> pb::ExecuteResponse {
        let request = RunRequest::Retry { execution_id: &body.execution_id };
        call.start(&self.service, request, body.wait).await?.into()
    }
    rollback(&self, call: KeyedCall, body: pb::RollbackRequest) -> pb::ExecuteResponse {
        let (instance_id, use_tad_host) = (&body.instance_id, body.use_tad_host);
        let request = RunRequest::Rollback { instance_id, use_tad_host };
        call.start(&self.service, request, body.wait).await?.into()
    }
    execution_history(
        &self,
        actor: Actor,
        body: pb::ExecutionHistoryRequest,
    ) -> pb::ExecutionHistoryPage {
        let page = PageRequest::new(body.page, body.page_size);
        let history = self.service.execution_history(&actor, &body.instance_id, page);
        let (count, runs) = history.await?;
        let results = runs.into_iter().map(|(run, artifacts)| pb::Execution {
            artifacts: converted(artifacts),
            ..execution_to_proto(RunTree { run, steps: Vec::new(), host_tasks: Vec::new() })
        });
        let count = u64::try_from(count).unwrap_or(0);
        pb::ExecutionHistoryPage { count, page: page.page, results: results.collect() }
    }
    watch_execution(&self, actor: Actor, body: pb::WatchExecutionRequest) -> EventStream {
        let (execution_id, after_seq) = (&body.execution_id, body.after_seq);
        let receiver = self.service.watch_execution(&actor, execution_id, after_seq).await?;
        tokio_stream::wrappers::ReceiverStream::new(receiver)
            .map(|event| event.map(Into::into).map_err(Status::from))
            .boxed()
    }

    // Webhooks added by admins.
    list_webhooks(&self, actor: Actor, _: pb::ListWebhooksRequest) -> pb::ListWebhooksResponse {
        let webhooks = self.service.list_webhooks(&actor).await?;
        pb::ListWebhooksResponse { webhooks: converted(webhooks) }
    }
    add_webhook(&self, actor: Actor, body: pb::AddWebhookRequest) -> pb::Webhook {
        self.service.add_webhook(&actor, &body.url).await?.into()
    }
    delete_webhook(&self, actor: Actor, body: pb::IdRequest) -> pb::DeleteResponse {
        self.service.delete_webhook(&actor, &body.id).await?;
        pb::DeleteResponse::default()
    }

    // The audit trail (issue 20).
    query_audit(
        &self,
        actor: common::auth::Actor,
        body: proto::audit::v1::AuditQuery,
    ) -> proto::audit::v1::AuditPage {
        common::audit_rpc::query(self.service.database(), &actor.claims, body).await?
    }
}
