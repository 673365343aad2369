//! `POST /api/auth/login` (SPEC §1): username and password → token, expiry, username, roles;
//! `POST /api/auth/logout` ends the presented token's session (SPEC §8); `GET /api/auth/me` says
//! whose the presented token is and its roles (what the console may show). Login input is
//! unauthenticated: its body is capped at [`LOGIN_BODY_BYTES`] and over-long fields are refused
//! here, before any call, lookup or hashing.

use actix_web::{HttpResponse, web};
use common::time::TimeRenderer;
use proto::{ErrorReason, resource::v1 as pb};

use crate::{
    body::{BodyLimit, LegacyJson},
    clients::{Caller, Clients, reply},
    convert::catalog::{Identity, LoggedOut, LoginBody, LoginData},
    envelope::Envelope,
    error::ApiError,
};

/// Largest login body: a 128-character username and a 1 KiB password fit with room to spare.
pub const LOGIN_BODY_BYTES: usize = 8 * 1024;
/// Longest username accepted at login (as every name).
pub const MAX_USERNAME_CHARS: usize = 128;
/// Longest password accepted at login.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The body limit of the login route.
pub fn login_body_limit() -> web::Data<BodyLimit> {
    web::Data::new(BodyLimit(LOGIN_BODY_BYTES))
}

/// The caps of the login fields (the console's login form has the same).
pub(crate) fn check_login(body: &LoginBody) -> Result<(), ApiError> {
    if body.username.trim().chars().count() > MAX_USERNAME_CHARS {
        return Err(ApiError::new(
            ErrorReason::InvalidField,
            format!("field username must be at most {MAX_USERNAME_CHARS} characters"),
        ));
    }
    if body.password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::new(
            ErrorReason::InvalidField,
            format!("field password must be at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

pub async fn login(
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    LegacyJson(body): LegacyJson<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    check_login(&body)?;
    let request = pb::LoginRequest {
        username: body.username,
        password: body.password,
    };
    let answer = reply(clients.resource(None).login(request)).await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(LoginData::from_proto(answer, &times))))
}

/// Ends the session of the presented token: it answers 401 everywhere from now on.
pub async fn logout(caller: Caller, clients: web::Data<Clients>) -> Result<HttpResponse, ApiError> {
    let answer = reply(clients.resource(&caller).logout(pb::LogoutRequest {})).await?;
    Ok(HttpResponse::Ok().json(Envelope::ok(LoggedOut {
        username: answer.username,
    })))
}

/// Whose the presented (and still valid) token is, and its roles: a console shows only the
/// controls those roles may use (the services refuse the others anyway).
pub async fn me(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(Envelope::ok(Identity {
        username: caller.claims.username().to_owned(),
        roles: caller.claims.roles.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_long_login_fields_are_refused_by_name() {
        let long = LoginBody {
            username: "u".repeat(129),
            password: "p".into(),
        };
        assert!(check_login(&long).is_err_and(|error| error.info.contains("username")));
        let long = LoginBody {
            username: "u".into(),
            password: "p".repeat(1025),
        };
        assert!(check_login(&long).is_err_and(|error| error.info.contains("password")));
        let fine = LoginBody {
            username: "u".repeat(128),
            password: "p".repeat(1024),
        };
        assert!(check_login(&fine).is_ok());
    }
}
