//! The session check of processes that do not own sessions (`tad gateway`, `tad jobs`,
//! `tad artifact`): asks svc-resource, the owner, whether a token's session is still active.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use common::{
    auth::{AUTHORIZATION, Actor},
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
}

/// The session check over the resource service at `channel`, cached and invalidated over `bus`
/// (uncached without one).
pub fn remote(channel: Channel, bus: Option<SharedBus>) -> Sessions {
    Sessions::new(Arc::new(RemoteSessions::new(channel)), bus)
}
