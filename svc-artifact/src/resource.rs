//! Outbound adapter to svc-resource: whether an application exists, asked over its gRPC API with
//! the caller's own token (a service reads another's data only through its API).

use proto::resource::v1::{self as pb, resource_service_client::ResourceServiceClient};
use tonic::{metadata::MetadataValue, transport::Channel};

use crate::service::{ArtifactError, ArtifactResult};

/// The resource service, as artifact sees it.
#[derive(Clone)]
pub struct ResourceDirectory {
    client: ResourceServiceClient<Channel>,
}

fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = MetadataValue::try_from(format!("Bearer {token}")) {
        request
            .metadata_mut()
            .insert(common::auth::AUTHORIZATION, value);
    }
    common::telemetry::inject_trace_context(&tracing::Span::current(), request.metadata_mut());
    request
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
            .lookup_names(with_token(request, token))
            .await
            .map_err(ArtifactError::Upstream)?
            .into_inner();
        Ok(answer.applications.contains_key(app_id))
    }
}
