//! Job instances, copies and the clusters of their steps: proto ⇄ rules.

use super::{
    Actor, CopyInput, InstanceFilter, InstanceInput, InstanceView, JobsGrpc, Status, pb,
    to_unix_ms, work_order_to_proto,
};

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

impl JobsGrpc {
    pub(super) async fn create_instance(
        &self,
        actor: Actor,
        body: pb::CreateInstanceRequest,
    ) -> Result<pb::Instance, Status> {
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
        Ok(instance_to_proto(view))
    }

    pub(super) async fn query_instances(
        &self,
        actor: Actor,
        body: pb::QueryInstancesRequest,
    ) -> Result<pb::InstancePage, Status> {
        let page = common::paging::PageRequest::new(body.page, body.page_size);
        let filter = InstanceFilter {
            name_fragment: body.name.filter(|name| !name.trim().is_empty()),
            application_id: body.application_id.filter(|id| !id.is_empty()),
            product_line_id: None,
        };
        let (count, views) = self.service.query_instances(&actor, filter, page).await?;
        Ok(pb::InstancePage {
            count,
            page: page.page,
            instances: views.into_iter().map(instance_to_proto).collect(),
        })
    }

    pub(super) async fn list_instances(
        &self,
        actor: Actor,
        body: pb::ListInstancesRequest,
    ) -> Result<pb::ListInstancesResponse, Status> {
        let filter = InstanceFilter {
            name_fragment: body.name.filter(|name| !name.trim().is_empty()),
            application_id: body.application_id.filter(|id| !id.is_empty()),
            product_line_id: body.product_line_id.filter(|id| !id.is_empty()),
        };
        let views = self.service.list_instances(&actor, filter).await?;
        Ok(pb::ListInstancesResponse {
            instances: views.into_iter().map(instance_to_proto).collect(),
        })
    }

    pub(super) async fn copy_instance(
        &self,
        actor: Actor,
        body: pb::CopyInstanceRequest,
    ) -> Result<pb::Instance, Status> {
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
        Ok(instance_to_proto(view))
    }

    pub(super) async fn delete_instance(
        &self,
        actor: Actor,
        body: pb::IdRequest,
    ) -> Result<pb::DeleteResponse, Status> {
        let id = body.id;
        self.service.delete_instance(&actor, &id).await?;
        Ok(pb::DeleteResponse { id })
    }

    pub(super) async fn instance_details(
        &self,
        actor: Actor,
        body: pb::IdRequest,
    ) -> Result<pb::InstanceDetailsResponse, Status> {
        let id = body.id;
        let (view, steps) = self.service.instance_details(&actor, &id).await?;
        let work_order = self
            .service
            .work_order(&actor, &id)
            .await?
            .map(work_order_to_proto);
        Ok(pb::InstanceDetailsResponse {
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
        })
    }

    pub(super) async fn save_step_cluster(
        &self,
        actor: Actor,
        body: pb::SaveStepClusterRequest,
    ) -> Result<pb::SaveStepClusterResponse, Status> {
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
        Ok(pb::SaveStepClusterResponse { status })
    }

    pub(super) async fn instance_cluster_choices(
        &self,
        actor: Actor,
        body: pb::IdRequest,
    ) -> Result<pb::ClusterChoicesResponse, Status> {
        let clusters = self
            .service
            .instance_cluster_choices(&actor, &body.id)
            .await?;
        Ok(pb::ClusterChoicesResponse {
            clusters: clusters
                .into_iter()
                .map(|cluster| pb::ClusterChoice {
                    id: cluster.id,
                    name: cluster.name,
                    remark: cluster.remark,
                    app_id: cluster.app_id,
                })
                .collect(),
        })
    }

    pub(super) async fn check_cluster_unused(
        &self,
        actor: Actor,
        body: pb::IdRequest,
    ) -> Result<pb::ClusterUnusedResponse, Status> {
        self.service.check_cluster_unused(&actor, &body.id).await?;
        Ok(pb::ClusterUnusedResponse {})
    }
}
