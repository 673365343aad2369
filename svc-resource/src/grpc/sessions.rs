//! Login, session checks and logout: proto ⇄ rules.

use super::{Actor, Authentication, Public, ResourceGrpc, Status, auth_status, pb};

impl ResourceGrpc {
    pub(super) async fn login(
        &self,
        _: Public,
        body: pb::LoginRequest,
    ) -> Result<pb::LoginResponse, Status> {
        let (token, roles) = self.service.login(&body.username, &body.password).await?;
        Ok(pb::LoginResponse {
            token: token.token,
            expires_at_ms: token.expires_at_ms,
            username: body.username.trim().to_owned(),
            roles,
        })
    }

    pub(super) async fn check_session(
        &self,
        authentication: Authentication,
        _: pb::CheckSessionRequest,
    ) -> Result<pb::CheckSessionResponse, Status> {
        let active = match authentication.0 {
            Ok(_) => true,
            Err(error) if error.is_unavailable() => return Err(auth_status(&error)),
            Err(_) => false,
        };
        Ok(pb::CheckSessionResponse { active })
    }

    pub(super) async fn logout(
        &self,
        actor: Actor,
        _: pb::LogoutRequest,
    ) -> Result<pb::LogoutResponse, Status> {
        self.service.logout(&actor).await?;
        Ok(pb::LogoutResponse {
            username: actor.username().to_owned(),
        })
    }
}
