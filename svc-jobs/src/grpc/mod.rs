//! Inbound gRPC adapter of svc-jobs: verifies the caller's token, translates proto ⇄ domain, and
//! maps rule failures to statuses with a stable reason. Nothing else.

use common::{
    auth::{AUTHORIZATION, JwtKeys},
    time::to_unix_ms,
};
use proto::{
    ErrorReason,
    jobs::v1::{self as pb, jobs_service_server::JobsService as JobsApi},
};
use tonic::{Request, Response, Status};

use crate::{
    db::models::{
        instances::InstanceFilter, joint_lines::JointLineRow, runs::EventRow,
        work_orders::WorkOrderRow,
    },
    execution::{Mode, RunTree, joint::JointTree},
    service::{
        Actor, GraphFault, JobsError, JobsService, RecordKind,
        bindings::{AllBindings, ArtifactBinding, ConfigBinding, ConfigGroup, ScriptBinding},
        executions::{ExecuteAnswer, ExecutionView},
        instances::{CopyInput, InstanceInput, InstanceView},
        joint_lines::NodeInput,
        templates::{MethodChoice, MethodView, TemplateInput, TemplateView},
        webhooks::WebhookView,
    },
};

/// The tonic service over the jobs rules.
#[derive(Clone)]
pub struct JobsGrpc {
    service: JobsService,
    jwt: JwtKeys,
}

impl JobsGrpc {
    pub fn new(service: JobsService, jwt: JwtKeys) -> JobsGrpc {
        JobsGrpc { service, jwt }
    }

    /// The verified caller: signature, expiry, and (user tokens) an active session. The header
    /// is read now, so the future holds nothing of the request.
    fn caller<T>(
        &self,
        request: &Request<T>,
    ) -> impl std::future::Future<Output = Result<Actor, Status>> + Send + 'static {
        let header = request
            .metadata()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let jwt = self.jwt.clone();
        async move {
            jwt.authenticate(header.as_deref()).await.map_err(|error| {
                let reason = if error.is_unavailable() {
                    ErrorReason::ServiceUnavailable
                } else {
                    ErrorReason::Unauthorized
                };
                reason.status(error.to_string())
            })
        }
    }
}

fn not_found_reason(kind: RecordKind) -> ErrorReason {
    match kind {
        RecordKind::Template => ErrorReason::TemplateNotFound,
        RecordKind::Instance => ErrorReason::InstanceNotFound,
        RecordKind::Step => ErrorReason::StepNotFound,
        RecordKind::JointLine => ErrorReason::JointLineNotFound,
        RecordKind::Application => ErrorReason::ApplicationNotFound,
        RecordKind::Env => ErrorReason::EnvNotFound,
        RecordKind::ProductLine => ErrorReason::ProductLineNotFound,
        RecordKind::Module => ErrorReason::ModuleNotFound,
        RecordKind::Cluster => ErrorReason::ClusterNotFound,
        RecordKind::WorkOrder => ErrorReason::WorkOrderNotFound,
        RecordKind::Component => ErrorReason::ComponentNotFound,
        RecordKind::Method => ErrorReason::MethodNotFound,
        RecordKind::Execution => ErrorReason::ExecutionNotFound,
        RecordKind::HostTask => ErrorReason::HostTaskNotFound,
        RecordKind::Webhook => ErrorReason::WebhookNotFound,
    }
}

impl From<JobsError> for Status {
    fn from(error: JobsError) -> Status {
        if let JobsError::Upstream(status) = error {
            return status;
        }
        let message = error.to_string();
        let reason = match &error {
            JobsError::Missing { .. } => ErrorReason::MissingField,
            JobsError::Invalid { .. } => ErrorReason::InvalidField,
            JobsError::NotFound { kind, .. } => not_found_reason(*kind),
            JobsError::InUse {
                kind: RecordKind::Template,
                ..
            } => ErrorReason::TemplateInUse,
            JobsError::InUse {
                kind: RecordKind::Cluster,
                ..
            } => ErrorReason::ClusterInUse,
            JobsError::InUse { .. } => ErrorReason::InstanceInUse,
            JobsError::Mismatch { .. } => ErrorReason::ClusterOutsideInstance,
            JobsError::Graph { fault, .. } => match fault {
                GraphFault::DuplicateSequence => ErrorReason::DuplicateSequence,
                GraphFault::UnknownParent => ErrorReason::UnknownParent,
                GraphFault::Cycle => ErrorReason::JointLineCycle,
            },
            JobsError::Forbidden(_) => ErrorReason::Forbidden,
            JobsError::Unauthenticated(_) => ErrorReason::Unauthorized,
            JobsError::RunActive { .. } => ErrorReason::ExecutionRunning,
            JobsError::NotRunning { .. } => ErrorReason::ExecutionNotRunning,
            JobsError::Conflict { .. } => ErrorReason::ExecutionConflict,
            JobsError::Unavailable(_) => ErrorReason::ServiceUnavailable,
            JobsError::NotReady { .. } => ErrorReason::InstanceNotReady,
            JobsError::Upstream(_)
            | JobsError::Database(_)
            | JobsError::Export(_)
            | JobsError::Sealing { .. } => {
                tracing::error!(error = %message, "jobs request failed");
                ErrorReason::InternalError
            }
        };
        reason.status(message)
    }
}

fn template_to_proto(view: TemplateView) -> pb::Template {
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

fn method_to_proto(view: MethodView) -> pb::TemplateMethod {
    pb::TemplateMethod {
        sequence: u32::try_from(view.row.sequence).unwrap_or_default(),
        component_id: view.row.component_id,
        method_id: view.row.method_id,
        component_name: view.component_name,
        method_name: view.method_name,
        method_remark: view.method_remark,
        method_file_id: view.method_file_id,
        is_display_script: view.is_display_script,
    }
}

fn instance_to_proto(view: InstanceView) -> pb::Instance {
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

fn work_order_to_proto(row: WorkOrderRow) -> pb::WorkOrder {
    pb::WorkOrder {
        instance_id: row.instance_id,
        doc_id: row.doc_id,
        excel_data_json: row.excel_data,
        process_status: row.process_status,
    }
}

fn joint_line_to_proto(row: JointLineRow) -> pb::JointLine {
    pb::JointLine {
        id: row.id,
        name: row.name,
        remark: row.remark,
        product_line_id: row.product_line_id,
        creator: row.creator,
        create_time_ms: to_unix_ms(row.create_time),
        mender: row.mender,
        update_time_ms: to_unix_ms(row.update_time),
    }
}

#[tonic::async_trait]
impl JobsApi for JobsGrpc {
    async fn create_template(
        &self,
        request: Request<pb::CreateTemplateRequest>,
    ) -> Result<Response<pb::Template>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let view = self
            .service
            .create_template(
                &actor,
                TemplateInput {
                    name: body.name,
                    remark: body.remark,
                    template_type: body.r#type,
                    deploy_type: body.deploy_type,
                    application_id: body.application_id,
                    rollback_template_id: body.jobt_rollback_id,
                },
            )
            .await?;
        Ok(Response::new(template_to_proto(view)))
    }

    async fn query_templates(
        &self,
        request: Request<pb::QueryTemplatesRequest>,
    ) -> Result<Response<pb::TemplatePage>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let page = common::paging::PageRequest::new(body.page, body.page_size);
        let (count, views) = self
            .service
            .query_templates(
                &actor,
                body.name.as_deref(),
                body.application_id.as_deref(),
                page,
            )
            .await?;
        Ok(Response::new(pb::TemplatePage {
            count,
            page: page.page,
            templates: views.into_iter().map(template_to_proto).collect(),
        }))
    }

    async fn list_templates(
        &self,
        request: Request<pb::ListTemplatesRequest>,
    ) -> Result<Response<pb::ListTemplatesResponse>, Status> {
        let actor = self.caller(&request).await?;
        let views = self.service.list_templates(&actor).await?;
        Ok(Response::new(pb::ListTemplatesResponse {
            templates: views.into_iter().map(template_to_proto).collect(),
        }))
    }

    async fn delete_template(
        &self,
        request: Request<pb::IdRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = self.caller(&request).await?;
        let id = request.into_inner().id;
        self.service.delete_template(&actor, &id).await?;
        Ok(Response::new(pb::DeleteResponse { id }))
    }

    async fn create_instance(
        &self,
        request: Request<pb::CreateInstanceRequest>,
    ) -> Result<Response<pb::Instance>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let view = self
            .service
            .create_instance(
                &actor,
                InstanceInput {
                    name: body.name,
                    remark: body.remark,
                    env_id: body.env_id,
                    application_id: body.application_id,
                    job_template_id: body.job_template_id,
                    module_id: body.module_id,
                },
            )
            .await?;
        Ok(Response::new(instance_to_proto(view)))
    }

    async fn query_instances(
        &self,
        request: Request<pb::QueryInstancesRequest>,
    ) -> Result<Response<pb::InstancePage>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let page = common::paging::PageRequest::new(body.page, body.page_size);
        let filter = InstanceFilter {
            name_fragment: body.name.filter(|name| !name.trim().is_empty()),
            application_id: body.application_id.filter(|id| !id.is_empty()),
            product_line_id: None,
        };
        let (count, views) = self.service.query_instances(&actor, filter, page).await?;
        Ok(Response::new(pb::InstancePage {
            count,
            page: page.page,
            instances: views.into_iter().map(instance_to_proto).collect(),
        }))
    }

    async fn list_instances(
        &self,
        request: Request<pb::ListInstancesRequest>,
    ) -> Result<Response<pb::ListInstancesResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let filter = InstanceFilter {
            name_fragment: body.name.filter(|name| !name.trim().is_empty()),
            application_id: body.application_id.filter(|id| !id.is_empty()),
            product_line_id: body.product_line_id.filter(|id| !id.is_empty()),
        };
        let views = self.service.list_instances(&actor, filter).await?;
        Ok(Response::new(pb::ListInstancesResponse {
            instances: views.into_iter().map(instance_to_proto).collect(),
        }))
    }

    async fn copy_instance(
        &self,
        request: Request<pb::CopyInstanceRequest>,
    ) -> Result<Response<pb::Instance>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let view = self
            .service
            .copy_instance(
                &actor,
                &body.id,
                CopyInput {
                    name: body.name,
                    remark: Some(body.remark),
                    env_id: body.env_id,
                    module_id: body.module_id,
                },
            )
            .await?;
        Ok(Response::new(instance_to_proto(view)))
    }

    async fn delete_instance(
        &self,
        request: Request<pb::IdRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = self.caller(&request).await?;
        let id = request.into_inner().id;
        self.service.delete_instance(&actor, &id).await?;
        Ok(Response::new(pb::DeleteResponse { id }))
    }

    async fn instance_details(
        &self,
        request: Request<pb::IdRequest>,
    ) -> Result<Response<pb::InstanceDetailsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let id = request.into_inner().id;
        let (view, steps) = self.service.instance_details(&actor, &id).await?;
        let work_order = self
            .service
            .work_order(&actor, &id)
            .await?
            .map(work_order_to_proto);
        Ok(Response::new(pb::InstanceDetailsResponse {
            work_order,
            instance: Some(instance_to_proto(view)),
            steps: steps
                .into_iter()
                .map(|step| pb::Step {
                    sequence: u32::try_from(step.row.sequence).unwrap_or_default(),
                    component_id: step.row.component_id,
                    method_id: step.row.method_id,
                    cluster_id: step.row.cluster_id,
                    cluster_name: step.cluster.as_ref().map(|cluster| cluster.name.clone()),
                    cluster_remark: step.cluster.as_ref().map(|cluster| cluster.remark.clone()),
                    status: step.status,
                    component_name: step.component_name,
                    method_remark: step.method_remark,
                    method_file_id: step.method_file_id,
                    is_display_script: step.is_display_script,
                })
                .collect(),
        }))
    }

    async fn save_step_cluster(
        &self,
        request: Request<pb::SaveStepClusterRequest>,
    ) -> Result<Response<pb::SaveStepClusterResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let status = self
            .service
            .save_step_cluster(
                &actor,
                &body.instance_id,
                &body.method_id,
                body.sequence,
                &body.cluster_id,
            )
            .await?;
        Ok(Response::new(pb::SaveStepClusterResponse { status }))
    }

    async fn instance_cluster_choices(
        &self,
        request: Request<pb::IdRequest>,
    ) -> Result<Response<pb::ClusterChoicesResponse>, Status> {
        let actor = self.caller(&request).await?;
        let clusters = self
            .service
            .instance_cluster_choices(&actor, &request.into_inner().id)
            .await?;
        Ok(Response::new(pb::ClusterChoicesResponse {
            clusters: clusters
                .into_iter()
                .map(|cluster| pb::ClusterChoice {
                    id: cluster.id,
                    name: cluster.name,
                    remark: cluster.remark,
                    app_id: cluster.app_id,
                })
                .collect(),
        }))
    }

    async fn check_cluster_unused(
        &self,
        request: Request<pb::IdRequest>,
    ) -> Result<Response<pb::ClusterUnusedResponse>, Status> {
        let actor = self.caller(&request).await?;
        self.service
            .check_cluster_unused(&actor, &request.into_inner().id)
            .await?;
        Ok(Response::new(pb::ClusterUnusedResponse {}))
    }

    async fn create_joint_line(
        &self,
        request: Request<pb::CreateJointLineRequest>,
    ) -> Result<Response<pb::JointLine>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let row = self
            .service
            .create_joint_line(&actor, &body.name, &body.remark, &body.product_line_id)
            .await?;
        Ok(Response::new(joint_line_to_proto(row)))
    }

    async fn query_joint_lines(
        &self,
        request: Request<pb::QueryJointLinesRequest>,
    ) -> Result<Response<pb::JointLinePage>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let page = common::paging::PageRequest::new(body.page, body.page_size);
        let (count, rows) = self
            .service
            .query_joint_lines(
                &actor,
                body.name.as_deref(),
                body.product_line_id.as_deref(),
                page,
            )
            .await?;
        Ok(Response::new(pb::JointLinePage {
            count,
            page: page.page,
            joint_lines: rows.into_iter().map(joint_line_to_proto).collect(),
        }))
    }

    async fn save_joint_line(
        &self,
        request: Request<pb::SaveJointLineRequest>,
    ) -> Result<Response<pb::JointLine>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let nodes = body
            .nodes
            .into_iter()
            .map(|node| NodeInput {
                instance_id: node.instance_id,
                sequence: node.sequence,
                parents: node.parents,
                top: node.top,
                left: node.left,
            })
            .collect();
        let row = self
            .service
            .save_joint_line(&actor, &body.id, nodes)
            .await?;
        Ok(Response::new(joint_line_to_proto(row)))
    }

    async fn joint_line_structure(
        &self,
        request: Request<pb::IdRequest>,
    ) -> Result<Response<pb::JointLineStructureResponse>, Status> {
        let actor = self.caller(&request).await?;
        let (line, nodes) = self
            .service
            .joint_line_structure(&actor, &request.into_inner().id)
            .await?;
        Ok(Response::new(pb::JointLineStructureResponse {
            joint_line: Some(joint_line_to_proto(line)),
            nodes: nodes
                .into_iter()
                .map(|node| pb::JointNode {
                    instance_id: node.row.instance_id,
                    sequence: node.row.sequence,
                    parents: node.parents.iter().map(ToString::to_string).collect(),
                    top: node.row.canvas_top,
                    left: node.row.canvas_left,
                    instance_name: node.instance_name,
                    status: node.status,
                })
                .collect(),
        }))
    }

    async fn save_work_order(
        &self,
        request: Request<pb::SaveWorkOrderRequest>,
    ) -> Result<Response<pb::WorkOrder>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let excel_data: serde_json::Value =
            serde_json::from_str(&body.excel_data_json).map_err(|error| {
                ErrorReason::InvalidField.status(format!("excel_data is not JSON: {error}"))
            })?;
        let row = self
            .service
            .save_work_order(
                &actor,
                &body.instance_id,
                body.doc_id.as_deref(),
                excel_data,
                body.app_id.as_deref(),
            )
            .await?;
        Ok(Response::new(work_order_to_proto(row)))
    }

    async fn export_work_order(
        &self,
        request: Request<pb::IdRequest>,
    ) -> Result<Response<pb::WorkOrderFile>, Status> {
        let actor = self.caller(&request).await?;
        let (file_name, content) = self
            .service
            .export_work_order(&actor, &request.into_inner().id)
            .await?;
        Ok(Response::new(pb::WorkOrderFile { file_name, content }))
    }

    async fn execute(
        &self,
        request: Request<pb::ExecuteRequest>,
    ) -> Result<Response<pb::ExecuteResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let mode = match pb::ExecuteMode::try_from(body.mode) {
            Ok(pb::ExecuteMode::NextStep) => Mode::NextStep,
            _ => Mode::All,
        };
        let answer = self
            .service
            .execute(
                &actor,
                &body.instance_id,
                mode,
                body.use_tad_host,
                body.wait,
            )
            .await?;
        Ok(Response::new(execute_answer(answer)))
    }

    async fn stop_execution(
        &self,
        request: Request<pb::IdRequest>,
    ) -> Result<Response<pb::ExecuteResponse>, Status> {
        let actor = self.caller(&request).await?;
        let answer = self
            .service
            .stop_execution(&actor, &request.into_inner().id)
            .await?;
        Ok(Response::new(execute_answer(answer)))
    }

    async fn get_execution(
        &self,
        request: Request<pb::IdRequest>,
    ) -> Result<Response<pb::Execution>, Status> {
        let actor = self.caller(&request).await?;
        let view = self
            .service
            .execution(&actor, &request.into_inner().id)
            .await?;
        Ok(Response::new(match view {
            ExecutionView::Run(tree) => execution_to_proto(tree),
            ExecutionView::Joint(tree) => joint_to_proto(tree),
        }))
    }

    async fn execution_log(
        &self,
        request: Request<pb::ExecutionLogRequest>,
    ) -> Result<Response<pb::ExecutionLogChunk>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let chunk = self
            .service
            .execution_log(&actor, &body.execution_id, &body.host_task_id, body.offset)
            .await?;
        Ok(Response::new(pb::ExecutionLogChunk {
            host_task_id: chunk.host_task_id,
            offset: chunk.offset,
            next_offset: chunk.next_offset,
            text: chunk.text,
            done: chunk.done,
        }))
    }

    async fn execute_joint_line(
        &self,
        request: Request<pb::ExecuteJointLineRequest>,
    ) -> Result<Response<pb::ExecuteResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let answer = self
            .service
            .execute_joint_line(&actor, &body.joint_line_id, body.use_tad_host, body.wait)
            .await?;
        Ok(Response::new(execute_answer(answer)))
    }

    async fn retry_execution(
        &self,
        request: Request<pb::RetryExecutionRequest>,
    ) -> Result<Response<pb::ExecuteResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let answer = self
            .service
            .retry_execution(&actor, &body.execution_id, body.wait)
            .await?;
        Ok(Response::new(execute_answer(answer)))
    }

    async fn rollback(
        &self,
        request: Request<pb::RollbackRequest>,
    ) -> Result<Response<pb::ExecuteResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let answer = self
            .service
            .rollback(&actor, &body.instance_id, body.use_tad_host, body.wait)
            .await?;
        Ok(Response::new(execute_answer(answer)))
    }

    async fn execution_history(
        &self,
        request: Request<pb::ExecutionHistoryRequest>,
    ) -> Result<Response<pb::ExecutionHistoryPage>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let page = common::paging::PageRequest::new(body.page, body.page_size);
        let (count, runs) = self
            .service
            .execution_history(&actor, &body.instance_id, page)
            .await?;
        Ok(Response::new(pb::ExecutionHistoryPage {
            count: u64::try_from(count).unwrap_or(0),
            page: page.page,
            results: runs
                .into_iter()
                .map(|(run, artifacts)| pb::Execution {
                    artifacts: artifacts
                        .into_iter()
                        .map(|artifact| pb::ExecutionArtifact {
                            file_id: artifact.file_id,
                            file_name: artifact.file_name,
                            version: artifact.version,
                            md5: artifact.md5,
                        })
                        .collect(),
                    ..execution_to_proto(RunTree {
                        run,
                        steps: Vec::new(),
                        host_tasks: Vec::new(),
                    })
                })
                .collect(),
        }))
    }

    async fn list_webhooks(
        &self,
        request: Request<pb::ListWebhooksRequest>,
    ) -> Result<Response<pb::ListWebhooksResponse>, Status> {
        let actor = self.caller(&request).await?;
        let webhooks = self.service.list_webhooks(&actor).await?;
        Ok(Response::new(pb::ListWebhooksResponse {
            webhooks: webhooks.into_iter().map(webhook_to_proto).collect(),
        }))
    }

    async fn add_webhook(
        &self,
        request: Request<pb::AddWebhookRequest>,
    ) -> Result<Response<pb::Webhook>, Status> {
        let actor = self.caller(&request).await?;
        let webhook = self
            .service
            .add_webhook(&actor, &request.into_inner().url)
            .await?;
        Ok(Response::new(webhook_to_proto(webhook)))
    }

    async fn delete_webhook(
        &self,
        request: Request<pb::IdRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = self.caller(&request).await?;
        self.service
            .delete_webhook(&actor, &request.into_inner().id)
            .await?;
        Ok(Response::new(pb::DeleteResponse::default()))
    }

    type WatchExecutionStream =
        futures::stream::BoxStream<'static, Result<pb::ExecutionEvent, Status>>;

    async fn watch_execution(
        &self,
        request: Request<pb::WatchExecutionRequest>,
    ) -> Result<Response<Self::WatchExecutionStream>, Status> {
        use futures::StreamExt;
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let receiver = self
            .service
            .watch_execution(&actor, &body.execution_id, body.after_seq)
            .await?;
        let stream = tokio_stream::wrappers::ReceiverStream::new(receiver)
            .map(|event| event.map(event_to_proto).map_err(Status::from))
            .boxed();
        Ok(Response::new(stream))
    }

    async fn replace_template_methods(
        &self,
        request: Request<pb::ReplaceTemplateMethodsRequest>,
    ) -> Result<Response<pb::ReplaceTemplateMethodsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
        let choices = body
            .methods
            .into_iter()
            .map(|method| MethodChoice {
                sequence: method.sequence,
                component_id: method.component_id,
                method_id: method.method_id,
            })
            .collect();
        let is_rollback = self
            .service
            .replace_template_methods(&actor, &body.template_id, choices)
            .await?;
        Ok(Response::new(pb::ReplaceTemplateMethodsResponse {
            id: body.template_id,
            is_rollback,
        }))
    }

    async fn template_methods(
        &self,
        request: Request<pb::IdRequest>,
    ) -> Result<Response<pb::TemplateMethodsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let methods = self
            .service
            .template_methods(&actor, &request.into_inner().id)
            .await?;
        Ok(Response::new(pb::TemplateMethodsResponse {
            methods: methods.into_iter().map(method_to_proto).collect(),
        }))
    }

    async fn save_step_params(
        &self,
        request: Request<pb::SaveStepParamsRequest>,
    ) -> Result<Response<pb::SaveStepParamsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
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
        Ok(Response::new(pb::SaveStepParamsResponse {}))
    }

    async fn step_params(
        &self,
        request: Request<pb::StepRef>,
    ) -> Result<Response<pb::StepParamsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let step = request.into_inner();
        let values = self
            .service
            .step_params(&actor, &step.instance_id, &step.method_id, step.sequence)
            .await?;
        Ok(Response::new(pb::StepParamsResponse {
            values_json: values.map(|values| values.to_string()),
        }))
    }

    async fn save_step_scripts(
        &self,
        request: Request<pb::SaveStepScriptsRequest>,
    ) -> Result<Response<pb::SaveStepScriptsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
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
        Ok(Response::new(pb::SaveStepScriptsResponse {}))
    }

    async fn step_scripts(
        &self,
        request: Request<pb::StepRef>,
    ) -> Result<Response<pb::StepScriptsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let step = request.into_inner();
        let views = self
            .service
            .step_scripts(&actor, &step.instance_id, &step.method_id, step.sequence)
            .await?;
        Ok(Response::new(pb::StepScriptsResponse {
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
        }))
    }

    async fn save_step_configs(
        &self,
        request: Request<pb::SaveStepConfigsRequest>,
    ) -> Result<Response<pb::SaveStepConfigsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
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
        Ok(Response::new(pb::SaveStepConfigsResponse {}))
    }

    async fn step_configs(
        &self,
        request: Request<pb::StepRef>,
    ) -> Result<Response<pb::StepConfigsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let step = request.into_inner();
        let binding = self
            .service
            .step_configs(&actor, &step.instance_id, &step.method_id, step.sequence)
            .await?;
        Ok(Response::new(match binding {
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
        }))
    }

    async fn step_config_schema(
        &self,
        request: Request<pb::StepRef>,
    ) -> Result<Response<pb::StepConfigSchemaResponse>, Status> {
        let actor = self.caller(&request).await?;
        let step = request.into_inner();
        let nodes = self
            .service
            .step_config_schema(&actor, &step.instance_id, &step.method_id, step.sequence)
            .await?;
        Ok(Response::new(pb::StepConfigSchemaResponse { nodes }))
    }

    async fn save_step_artifacts(
        &self,
        request: Request<pb::SaveStepArtifactsRequest>,
    ) -> Result<Response<pb::SaveStepArtifactsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
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
        Ok(Response::new(pb::SaveStepArtifactsResponse {
            instance_id,
            instance_name,
        }))
    }

    async fn step_artifacts(
        &self,
        request: Request<pb::StepRef>,
    ) -> Result<Response<pb::StepArtifactsResponse>, Status> {
        let actor = self.caller(&request).await?;
        let step = request.into_inner();
        let views = self
            .service
            .step_artifacts(&actor, &step.instance_id, &step.method_id, step.sequence)
            .await?;
        Ok(Response::new(pb::StepArtifactsResponse {
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
        }))
    }

    async fn save_step_all(
        &self,
        request: Request<pb::SaveStepAllRequest>,
    ) -> Result<Response<pb::SaveStepAllResponse>, Status> {
        let actor = self.caller(&request).await?;
        let body = request.into_inner();
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
        Ok(Response::new(pb::SaveStepAllResponse {}))
    }
}

fn execute_answer(answer: ExecuteAnswer) -> pb::ExecuteResponse {
    pb::ExecuteResponse {
        execution_id: answer.execution_id,
        result: answer.result,
        msg: answer.msg,
        status: answer.status,
    }
}

fn execution_to_proto(tree: RunTree) -> pb::Execution {
    let RunTree {
        run,
        steps,
        host_tasks,
    } = tree;
    pb::Execution {
        id: run.id,
        instance_id: run.instance_id,
        kind: run.kind,
        status: run.status,
        use_tad_host: run.use_tad_host,
        started_by: run.started_by,
        message: run.message,
        create_time_ms: to_unix_ms(run.create_time),
        start_time_ms: run.start_time.map(to_unix_ms),
        end_time_ms: run.end_time.map(to_unix_ms),
        steps: steps
            .into_iter()
            .map(|(step, plan)| pb::ExecutionStep {
                sequence: step.sequence,
                component_id: step.component_id,
                method_id: step.method_id,
                method_name: plan.map(|plan| plan.method_name).unwrap_or_default(),
                cluster_id: step.cluster_id,
                hosts: host_tasks
                    .iter()
                    .filter(|task| task.sequence == step.sequence)
                    .map(|task| pb::HostTask {
                        id: task.id.clone(),
                        host_ip: task.host_ip.clone(),
                        status: task.status.clone(),
                        exit_code: task.exit_code,
                        message: task.message.clone(),
                        log_size: task.log_size,
                        start_time_ms: task.start_time.map(to_unix_ms),
                        end_time_ms: task.end_time.map(to_unix_ms),
                    })
                    .collect(),
                status: step.status,
                message: step.message,
                start_time_ms: step.start_time.map(to_unix_ms),
                end_time_ms: step.end_time.map(to_unix_ms),
            })
            .collect(),
        artifacts: Vec::new(),
        nodes: Vec::new(),
    }
}

fn joint_to_proto(tree: JointTree) -> pb::Execution {
    let JointTree { run, nodes } = tree;
    pb::Execution {
        id: run.id,
        instance_id: String::new(),
        kind: "joint".to_owned(),
        status: run.status,
        use_tad_host: run.use_tad_host,
        started_by: run.started_by,
        message: run.message,
        create_time_ms: to_unix_ms(run.create_time),
        start_time_ms: run.start_time.map(to_unix_ms),
        end_time_ms: run.end_time.map(to_unix_ms),
        steps: Vec::new(),
        artifacts: Vec::new(),
        nodes: nodes
            .into_iter()
            .map(|(node, instance_name)| pb::JointRunNode {
                sequence: node.sequence,
                parents: serde_json::from_str(&node.parents).unwrap_or_default(),
                instance_id: node.instance_id,
                instance_name,
                execution_id: node.run_id,
                status: node.status,
                message: node.message,
            })
            .collect(),
    }
}

/// A stored event as the stream sends it: log chunks become `{host_task, offset, text}`.
fn event_to_proto(event: EventRow) -> pb::ExecutionEvent {
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

fn webhook_to_proto(view: WebhookView) -> pb::Webhook {
    pb::Webhook {
        id: view.row.id,
        url: view.row.url,
        source: view.source.to_owned(),
        creator: view.row.creator,
        create_time_ms: if view.source == "config" {
            0
        } else {
            to_unix_ms(view.row.create_time)
        },
    }
}
