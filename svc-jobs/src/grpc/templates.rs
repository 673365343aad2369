//! Job templates and their component methods: proto ⇄ rules.

use super::{
    CallerExt, JobsGrpc, MethodChoice, MethodView, Request, Response, Status, TemplateInput,
    TemplateView, pb, to_unix_ms,
};

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

impl JobsGrpc {
    pub(super) async fn create_template(
        &self,
        request: Request<pb::CreateTemplateRequest>,
    ) -> Result<Response<pb::Template>, Status> {
        let actor = request.actor()?;
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

    pub(super) async fn query_templates(
        &self,
        request: Request<pb::QueryTemplatesRequest>,
    ) -> Result<Response<pb::TemplatePage>, Status> {
        let actor = request.actor()?;
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

    pub(super) async fn list_templates(
        &self,
        request: Request<pb::ListTemplatesRequest>,
    ) -> Result<Response<pb::ListTemplatesResponse>, Status> {
        let actor = request.actor()?;
        let views = self.service.list_templates(&actor).await?;
        Ok(Response::new(pb::ListTemplatesResponse {
            templates: views.into_iter().map(template_to_proto).collect(),
        }))
    }

    pub(super) async fn delete_template(
        &self,
        request: Request<pb::IdRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        let actor = request.actor()?;
        let id = request.into_inner().id;
        self.service.delete_template(&actor, &id).await?;
        Ok(Response::new(pb::DeleteResponse { id }))
    }

    pub(super) async fn replace_template_methods(
        &self,
        request: Request<pb::ReplaceTemplateMethodsRequest>,
    ) -> Result<Response<pb::ReplaceTemplateMethodsResponse>, Status> {
        let actor = request.actor()?;
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

    pub(super) async fn template_methods(
        &self,
        request: Request<pb::IdRequest>,
    ) -> Result<Response<pb::TemplateMethodsResponse>, Status> {
        let actor = request.actor()?;
        let methods = self
            .service
            .template_methods(&actor, &request.into_inner().id)
            .await?;
        Ok(Response::new(pb::TemplateMethodsResponse {
            methods: methods.into_iter().map(method_to_proto).collect(),
        }))
    }
}
