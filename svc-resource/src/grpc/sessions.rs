//! Login, session checks and logout: proto ⇄ rules.

use super::{CallerExt, Request, ResourceGrpc, Response, Status, auth_status, pb};

impl ResourceGrpc {
    pub(super) async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        let body = request.into_inner();
        let (token, roles) = self.service.login(&body.username, &body.password).await?;
        Ok(Response::new(pb::LoginResponse {
            token: token.token,
            expires_at_ms: token.expires_at_ms,
            username: body.username.trim().to_owned(),
            roles,
        }))
    }

    pub(super) async fn check_session(
        &self,
        request: Request<pb::CheckSessionRequest>,
    ) -> Result<Response<pb::CheckSessionResponse>, Status> {
        let active = match request.authentication() {
            Ok(_) => true,
            Err(error) if error.is_unavailable() => return Err(auth_status(error)),
            Err(_) => false,
        };
        Ok(Response::new(pb::CheckSessionResponse { active }))
    }

    pub(super) async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let actor = request.actor()?;
        self.service.logout(&actor).await?;
        Ok(Response::new(pb::LogoutResponse {
            username: actor.username().to_owned(),
        }))
    }
}
