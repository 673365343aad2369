//! Job templates and their component methods: proto ⇄ rules.

use super::{
    Actor, JobsGrpc, MethodChoice, MethodView, Status, TemplateInput, TemplateView, pb, to_unix_ms,
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
        actor: Actor,
        body: pb::CreateTemplateRequest,
    ) -> Result<pb::Template, Status> {
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
        Ok(template_to_proto(view))
    }

    pub(super) async fn query_templates(
        &self,
        actor: Actor,
        body: pb::QueryTemplatesRequest,
    ) -> Result<pb::TemplatePage, Status> {
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
        Ok(pb::TemplatePage {
            count,
            page: page.page,
            templates: views.into_iter().map(template_to_proto).collect(),
        })
    }

    pub(super) async fn list_templates(
        &self,
        actor: Actor,
        _: pb::ListTemplatesRequest,
    ) -> Result<pb::ListTemplatesResponse, Status> {
        let views = self.service.list_templates(&actor).await?;
        Ok(pb::ListTemplatesResponse {
            templates: views.into_iter().map(template_to_proto).collect(),
        })
    }

    pub(super) async fn delete_template(
        &self,
        actor: Actor,
        body: pb::IdRequest,
    ) -> Result<pb::DeleteResponse, Status> {
        let id = body.id;
        self.service.delete_template(&actor, &id).await?;
        Ok(pb::DeleteResponse { id })
    }

    pub(super) async fn replace_template_methods(
        &self,
        actor: Actor,
        body: pb::ReplaceTemplateMethodsRequest,
    ) -> Result<pb::ReplaceTemplateMethodsResponse, Status> {
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
        Ok(pb::ReplaceTemplateMethodsResponse {
            id: body.template_id,
            is_rollback,
        })
    }

    pub(super) async fn template_methods(
        &self,
        actor: Actor,
        body: pb::IdRequest,
    ) -> Result<pb::TemplateMethodsResponse, Status> {
        let methods = self.service.template_methods(&actor, &body.id).await?;
        Ok(pb::TemplateMethodsResponse {
            methods: methods.into_iter().map(method_to_proto).collect(),
        })
    }
}
