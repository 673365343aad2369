//! The session check of processes that do not own sessions (`tad gateway`, `tad jobs`,
//! `tad artifact`): asks svc-resource, the owner, whether a token's session is still active, and
//! what an API token grants.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use common::{
    auth::{AUTHORIZATION, Actor, ApiTokenRef, Claims},
    bus::SharedBus,
    sessions::{SessionError, SessionSource, Sessions},
};
use proto::resource::v1::{self as pb, resource_service_client::ResourceServiceClient};
use tonic::transport::Channel;

/// Longest wait for the owner's answer; beyond it the token is refused.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// Asks svc-resource's `CheckSession` with the token itself.
#[derive(Clone)]
pub struct RemoteSessions {
    client: ResourceServiceClient<Channel>,
}

impl RemoteSessions {
    pub fn new(channel: Channel) -> RemoteSessions {
        RemoteSessions {
            client: ResourceServiceClient::new(channel),
        }
    }
}

#[async_trait]
impl SessionSource for RemoteSessions {
    async fn is_active(&self, actor: &Actor) -> Result<bool, SessionError> {
        let mut request = tonic::Request::new(pb::CheckSessionRequest {});
        let value = format!("Bearer {}", actor.token)
            .parse()
            .map_err(|_| SessionError("the token is not a valid metadata value".to_owned()))?;
        request.metadata_mut().insert(AUTHORIZATION, value);
        request.set_timeout(CHECK_TIMEOUT);
        let answer =
            tokio::time::timeout(CHECK_TIMEOUT, self.client.clone().check_session(request))
                .await
                .map_err(|_| {
                    SessionError("the resource service did not answer in time".to_owned())
                })?
                .map_err(|status| {
                    SessionError(format!("resource service: {}", status.message()))
                })?;
        Ok(answer.into_inner().active)
    }

    async fn resolve_api_token(&self, token: &str) -> Result<Option<Claims>, SessionError> {
        let mut request = tonic::Request::new(pb::ResolveApiTokenRequest {
            token: token.to_owned(),
        });
        request.set_timeout(CHECK_TIMEOUT);
        let answer = tokio::time::timeout(
            CHECK_TIMEOUT,
            self.client.clone().resolve_api_token(request),
        )
        .await
        .map_err(|_| SessionError("the resource service did not answer in time".to_owned()))?
        .map_err(|status| SessionError(format!("resource service: {}", status.message())))?;
        Ok(answer.into_inner().token.map(|token| Claims {
            sub: token.username,
            roles: token.roles,
            iat: token.create_time_ms / 1000,
            exp: token.expires_at_ms / 1000,
            sid: None,
            api_token: Some(ApiTokenRef {
                id: token.id,
                name: token.name,
            }),
        }))
    }
}

/// The session check over the resource service at `channel`, cached and invalidated over `bus`
/// (uncached without one).
pub fn remote(channel: Channel, bus: Option<SharedBus>) -> Sessions {
    Sessions::new(Arc::new(RemoteSessions::new(channel)), bus)
}
