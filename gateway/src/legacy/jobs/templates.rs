//! Job templates (contract 4.1, 4.2, 4.5, 5.3 and a create route beyond the contract).

use actix_web::{HttpRequest, web};
use common::time::TimeRenderer;
use proto::jobs::v1 as pb;

use super::{Answer, NameAppQuery, ok, ok_each, page_of};
use crate::{
    body::LegacyJson,
    body::page_params,
    clients::Caller,
    clients::Clients,
    clients::reply,
    convert::catalog::LegacyId,
    convert::jobs::{
        CreatedTemplate, GradedBody, GradedMethodItem, GradedTemplate, TemplateBody, TemplateItem,
        TemplateSelectItem,
    },
};
/// `POST /api/app/jobtemplate/create` (beyond the contract, which has no create route).
pub async fn create_template(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    LegacyJson(body): LegacyJson<TemplateBody>,
) -> Answer {
    let request = pb::CreateTemplateRequest {
        name: body.name,
        remark: body.remark.unwrap_or_default(),
        r#type: body.template_type.unwrap_or_default(),
        deploy_type: body.deploy_type.unwrap_or_default(),
        application_id: body.application_id.into_string(),
        jobt_rollback_id: body.jobt_rollback_id.map(LegacyId::into_string),
    };
    let template = reply(clients.jobs(&caller).create_template(request)).await?;
    let application_id = template.application_id.clone();
    ok(CreatedTemplate {
        item: TemplateItem::from_proto(template, &times),
        application_id,
    })
}

/// 4.1 `GET /api/app/jobtemplate/aos_json?name=&application_id=`.
pub async fn query_templates(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    query: web::Query<NameAppQuery>,
) -> Answer {
    let query = query.into_inner();
    let (page_number, page_size) = page_params(query.page.as_deref(), query.page_size.as_deref())?;
    let request = pb::QueryTemplatesRequest {
        name: query.name,
        application_id: query.application_id,
        page: page_number,
        page_size,
    };
    let answer = reply(clients.jobs(&caller).query_templates(request)).await?;
    page_of(answer.count, answer.page, answer.templates, |template| {
        TemplateItem::from_proto(template, &times)
    })
}

/// 5.3 `GET /api/app/jobtemplate/ordinary/select`.
pub async fn template_select(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
) -> Answer {
    let request = pb::ListTemplatesRequest {};
    let answer = reply(clients.jobs(&caller).list_templates(request)).await?;
    ok_each(answer.templates, |template| {
        TemplateSelectItem::from_proto(template, &times)
    })
}

/// 4.5 `DELETE` (and `POST`) `/api/app/jobtemplate/{id}`.
pub async fn delete_template(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    reply(clients.jobs(&caller).delete_template(pb::IdRequest {
        id: id.into_inner(),
    }))
    .await?;
    ok(true)
}

/// 4.2 `POST /api/app/jobtemplate/{id}/graded`: replaces the template's ordered methods.
pub async fn replace_template_methods(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
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
    let answer = reply(clients.jobs(&caller).replace_template_methods(request)).await?;
    ok(GradedTemplate {
        id: answer.id,
        is_rollback: answer.is_rollback,
    })
}

/// 4.3 `GET /api/app/jobtemplate/{id}/graded_content`.
pub async fn template_methods(
    request: HttpRequest,
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    let base = super::super::artifact::base_url(&request);
    let answer = reply(clients.jobs(&caller).template_methods(pb::IdRequest {
        id: id.into_inner(),
    }))
    .await?;
    ok_each(answer.methods, |method| {
        GradedMethodItem::from_proto(method, &base)
    })
}
