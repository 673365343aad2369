//! `POST /api/auth/login` (SPEC §1): username and password → token, expiry, username, roles.

use actix_web::{HttpResponse, web};
use common::time::TimeRenderer;
use proto::resource::v1 as pb;

use crate::{
    body::LegacyJson,
    clients::{Clients, grpc_request},
    convert::catalog::{LoginBody, LoginData},
    envelope::Envelope,
    error::ApiError,
};

pub async fn login(
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    LegacyJson(body): LegacyJson<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let request = grpc_request(
        pb::LoginRequest {
            username: body.username,
            password: body.password,
        },
        None,
    );
    let answer = clients.resource.clone().login(request).await?.into_inner();
    Ok(HttpResponse::Ok().json(Envelope::ok(LoginData::from_proto(answer, &times))))
}
