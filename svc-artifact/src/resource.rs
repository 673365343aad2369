//! Outbound adapter to svc-resource: whether an application exists, asked over its gRPC API with
//! the caller's own token (a service reads another's data only through its API).

use common::telemetry::on_behalf_of;
use proto::resource::v1::{self as pb, resource_service_client::ResourceServiceClient};
use tonic::transport::Channel;

use crate::domain::{ArtifactError, ArtifactResult};

/// The resource service, as artifact sees it.
#[derive(Clone)]
pub struct ResourceDirectory {
    client: ResourceServiceClient<Channel>,
}

impl ResourceDirectory {
    /// The resource service behind `channel`.
    pub fn new(channel: Channel) -> ResourceDirectory {
        ResourceDirectory {
            client: ResourceServiceClient::new(channel),
        }
    }

    /// Whether application `app_id` exists. A failed call is answered as
    /// [`ArtifactError::Upstream`] with the resource service's status.
    pub async fn application_exists(&self, token: &str, app_id: &str) -> ArtifactResult<bool> {
        let request = pb::LookupNamesRequest {
            application_ids: vec![app_id.to_owned()],
            ..pb::LookupNamesRequest::default()
        };
        let answer = self
            .client
            .clone()
            .lookup_names(on_behalf_of(request, token))
            .await
            .map_err(ArtifactError::Upstream)?
            .into_inner();
        Ok(answer.applications.contains_key(app_id))
    }
}
