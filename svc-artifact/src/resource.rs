//! Outbound adapter to svc-resource: whether an application exists, asked over its gRPC API with
//! the caller's own token (a service reads another's data only through its API).

use common::telemetry::{CallerChannel, PeerService, reply};
use proto::resource::v1::{self as pb, resource_service_client::ResourceServiceClient};
use tonic::transport::Channel;

use crate::domain::{ArtifactError, ArtifactResult};

/// The message svc-resource answers, or its status as [`ArtifactError::Upstream`].
async fn upstream<T>(
    call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> ArtifactResult<T> {
    reply(call).await.map_err(ArtifactError::Upstream)
}

/// The resource service, as artifact sees it.
#[derive(Clone)]
pub struct ResourceDirectory(PeerService<ResourceServiceClient<CallerChannel>>);

impl ResourceDirectory {
    /// The resource service behind `channel`.
    pub fn new(channel: Channel) -> ResourceDirectory {
        ResourceDirectory(PeerService::new(channel, ResourceServiceClient::new))
    }

    /// Whether application `app_id` exists. A failed call is answered as
    /// [`ArtifactError::Upstream`] with the resource service's status.
    pub async fn application_exists(&self, token: &str, app_id: &str) -> ArtifactResult<bool> {
        let request = pb::LookupNamesRequest {
            application_ids: vec![app_id.to_owned()],
            ..pb::LookupNamesRequest::default()
        };
        let answer = upstream(self.0.on_behalf_of(token).lookup_names(request)).await?;
        Ok(answer.applications.contains_key(app_id))
    }
}
