//! Catalog reads of the contract: 1.1 / 3.1 product lines, 1.2 / 3.2 applications of a product
//! line, 5.1 / 8.1.2 environments.

use actix_web::{HttpResponse, web};
use common::time::TimeRenderer;
use proto::resource::v1 as pb;

use crate::{
    clients::{Caller, Clients, reply},
    convert::catalog::{EnvItem, IdName},
    envelope::Envelope,
    error::ApiError,
};

/// 1.1 / 3.1 `GET /api/app/productline/select`.
pub async fn product_line_select(
    caller: Caller,
    clients: web::Data<Clients>,
) -> Result<HttpResponse, ApiError> {
    let request = pb::ListProductLinesRequest {};
    let answer = reply(clients.resource(&caller).list_product_lines(request)).await?;
    let items: Vec<IdName> = answer.product_lines.into_iter().map(IdName::from).collect();
    Ok(HttpResponse::Ok().json(Envelope::ok(items)))
}

/// 1.2 / 3.2 `GET /api/app/applications/{id}/select_by_pl`.
pub async fn applications_of_product_line(
    caller: Caller,
    clients: web::Data<Clients>,
    product_line_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let request = pb::ListApplicationsRequest {
        product_line_id: Some(product_line_id.into_inner()),
    };
    let answer = reply(clients.resource(&caller).list_applications(request)).await?;
    let items: Vec<IdName> = answer.applications.into_iter().map(IdName::from).collect();
    Ok(HttpResponse::Ok().json(Envelope::ok(items)))
}

/// 5.1 / 8.1.2 `GET /api/resource/envs/select`.
pub async fn env_select(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
) -> Result<HttpResponse, ApiError> {
    let answer = reply(clients.resource(&caller).list_envs(pb::ListEnvsRequest {})).await?;
    let items: Vec<EnvItem> = answer
        .envs
        .into_iter()
        .map(|env| EnvItem::from_proto(env, &times))
        .collect();
    Ok(HttpResponse::Ok().json(Envelope::ok(items)))
}
