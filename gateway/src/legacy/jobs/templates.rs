//! Job templates (contract 4.1, 4.2, 4.5, 5.3 and a create route beyond the contract).

use actix_web::HttpRequest;
use proto::jobs::v1 as pb;

use super::{Answer, IdPath, ok, ok_each};
use crate::{
    body::LegacyJson,
    clients::{Call, reply},
    convert::catalog::LegacyId,
    convert::jobs::{
        CreatedTemplate, GradedBody, GradedMethodItem, GradedTemplate, TemplateBody, TemplateItem,
        TemplateSelectItem,
    },
    legacy::{job_id, paged_list},
};
/// `POST /api/app/jobtemplate/create` (beyond the contract, which has no create route).
pub async fn create_template(call: Call, LegacyJson(body): LegacyJson<TemplateBody>) -> Answer {
    let request = pb::CreateTemplateRequest {
        name: body.name,
        remark: body.remark.unwrap_or_default(),
        r#type: body.template_type.unwrap_or_default(),
        deploy_type: body.deploy_type.unwrap_or_default(),
        application_id: body.application_id.into_string(),
        jobt_rollback_id: body.jobt_rollback_id.map(LegacyId::into_string),
    };
    let template = reply(call.jobs().create_template(request)).await?;
    let application_id = template.application_id.clone();
    ok(CreatedTemplate {
        item: TemplateItem::from_proto(template, &call.times),
        application_id,
    })
}

paged_list!(
    /// 4.1 `GET /api/app/jobtemplate/aos_json?name=&application_id=`.
    query_templates: jobs.query_templates(pb::QueryTemplatesRequest) => templates as TemplateItem::from_proto,
    TemplateQuery { name: name, application_id: application_id }
);

/// 5.3 `GET /api/app/jobtemplate/ordinary/select`.
pub async fn template_select(call: Call) -> Answer {
    let request = pb::ListTemplatesRequest {};
    let answer = reply(call.jobs().list_templates(request)).await?;
    ok_each(answer.templates, |template| {
        TemplateSelectItem::from_proto(template, &call.times)
    })
}

/// 4.5 `DELETE` (and `POST`) `/api/app/jobtemplate/{id}`.
pub async fn delete_template(call: Call, id: IdPath) -> Answer {
    reply(call.jobs().delete_template(job_id(id))).await?;
    ok(true)
}

/// 4.2 `POST /api/app/jobtemplate/{id}/graded`: replaces the template's ordered methods.
pub async fn replace_template_methods(
    call: Call,
    id: IdPath,
    LegacyJson(body): LegacyJson<GradedBody>,
) -> Answer {
    let request = pb::ReplaceTemplateMethodsRequest {
        template_id: id.into_inner(),
        methods: body
            .method
            .into_iter()
            .map(|method| pb::TemplateMethod {
                sequence: method.sequence,
                component_id: method.component_id.into_string(),
                method_id: method.method_id.into_string(),
                ..pb::TemplateMethod::default()
            })
            .collect(),
    };
    let answer = reply(call.jobs().replace_template_methods(request)).await?;
    ok(GradedTemplate {
        id: answer.id,
        is_rollback: answer.is_rollback,
    })
}

/// 4.3 `GET /api/app/jobtemplate/{id}/graded_content`.
pub async fn template_methods(request: HttpRequest, call: Call, id: IdPath) -> Answer {
    let base = super::super::artifact::base_url(&request);
    let answer = reply(call.jobs().template_methods(job_id(id))).await?;
    ok_each(answer.methods, |method| {
        GradedMethodItem::from_proto(method, &base)
    })
}
